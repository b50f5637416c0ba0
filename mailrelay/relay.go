// Package mailrelay submits a finished message to the organisation's mail
// relay by SMTP (RFC 6409 submission): STARTTLS or implicit TLS, AUTH
// PLAIN, one message to one recipient. It builds no message itself (see
// envelope.WriteMail) and never puts the relay password in an error, a
// log line or a URL it prints.
package mailrelay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Relay is a configured mail relay.
type Relay struct {
	mode     string // "starttls", "tls" or "insecure"
	addr     string // host:port
	host     string
	user     string
	password string
	// TLS, if set, is used for the connection (tests give their own
	// root). ServerName is filled in from the URL.
	TLS *tls.Config
	// Timeout bounds one submission (default 60 s).
	Timeout time.Duration
}

// ErrConfig is a relay setting that cannot be used.
var ErrConfig = errors.New("the mail relay setting is not usable")

// Parse reads KUVERT_SMTP_URL: smtp://USER@HOST[:PORT] (STARTTLS
// required, port 587 by default), smtps://USER@HOST[:PORT] (implicit TLS,
// port 465) or smtp+insecure://USER@HOST:PORT (no TLS; only to a loopback
// address, for tests). The password never goes in the URL: it comes as
// password (KUVERT_SMTP_PASSWORD).
func Parse(raw, password string) (*Relay, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the URL, which might hold a password.
		return nil, fmt.Errorf("%w: KUVERT_SMTP_URL is not a URL (smtp://USER@HOST:PORT)", ErrConfig)
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("%w: KUVERT_SMTP_URL holds a password; put it in KUVERT_SMTP_PASSWORD instead, never in a URL", ErrConfig)
	}
	r := &Relay{host: u.Hostname(), user: u.User.Username(), password: password}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		r.mode = "starttls"
		if port == "" {
			port = "587"
		}
	case "smtps":
		r.mode = "tls"
		if port == "" {
			port = "465"
		}
	case "smtp+insecure":
		r.mode = "insecure"
		if !loopback(r.host) {
			return nil, fmt.Errorf("%w: smtp+insecure:// (no encryption) is accepted only for a loopback address, not %s; use smtp:// (STARTTLS) or smtps://", ErrConfig, r.host)
		}
	default:
		return nil, fmt.Errorf("%w: KUVERT_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), not %q", ErrConfig, u.Scheme)
	}
	if r.host == "" || port == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("%w: KUVERT_SMTP_URL must be smtp://USER@HOST:PORT", ErrConfig)
	}
	if r.user != "" && password == "" {
		return nil, fmt.Errorf("%w: the relay account %s needs its password in KUVERT_SMTP_PASSWORD", ErrConfig, r.user)
	}
	r.addr = net.JoinHostPort(r.host, port)
	return r, nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the relay without its password.
func (r *Relay) String() string {
	scheme := map[string]string{"starttls": "smtp", "tls": "smtps", "insecure": "smtp+insecure"}[r.mode]
	if r.user == "" {
		return scheme + "://" + r.addr
	}
	return scheme + "://" + url.User(r.user).String() + "@" + r.addr
}

// Send submits msg (a complete RFC 5322 message) from → to and returns
// the relay's answer to the end of data (often its queue id). It does not
// retry: a message the relay may have accepted is never sent twice by
// kuvert.
func (r *Relay) Send(ctx context.Context, from, to string, msg []byte) (string, error) {
	for _, a := range []string{from, to} {
		// No SMTPUTF8 (RFC 6531) is asked for: a non-ASCII address would
		// go out as raw bytes the relay may take any way it likes. Callers
		// pass the form [Address] returns.
		if strings.IndexFunc(a, func(c rune) bool { return c > 0x7e || c < 0x21 }) >= 0 {
			return "", fmt.Errorf("%w: an address with characters other than printable ASCII (use its IDNA form)", ErrAddress)
		}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if r.TLS != nil {
		tc = r.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = r.host
	}
	var d net.Dialer
	var conn net.Conn
	var err error
	if r.mode == "tls" {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tc}).DialContext(ctx, "tcp", r.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", r.addr)
	}
	if err != nil {
		return "", fmt.Errorf("cannot reach the mail relay %s: %w", r.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c *smtp.Client
	if r.mode == "starttls" {
		// Refuses a relay that does not offer STARTTLS: the archive and
		// the address never travel in the clear.
		if c, err = smtp.NewClientStartTLS(conn, tc); err != nil {
			return "", fmt.Errorf("the mail relay %s: STARTTLS failed (kuvert sends nothing unencrypted): %w", r.addr, err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if r.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", r.user, r.password)); err != nil {
			return "", fmt.Errorf("the mail relay %s refused the account %s: %w", r.addr, r.user, err)
		}
	}
	if err := c.Mail(from, nil); err != nil {
		return "", fmt.Errorf("the mail relay refused the sender: %w", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return "", fmt.Errorf("the mail relay refused the recipient: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return "", fmt.Errorf("the mail relay: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return "", fmt.Errorf("the mail relay: %w", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", fmt.Errorf("the mail relay did not accept the message: %w", err)
	}
	c.Quit()
	return strings.TrimSpace(resp.StatusText), nil
}
