// Package client is the thin HTTP client of `kuvert server`'s API in
// [api] ([Client]): its calls, its errors, and the checks of what the
// server signs ([OpenHead], [Client.Consistent]). What uses it lives
// beside it: the shipping queue (shipping), the heads this computer saw
// (heads), the address and token from the environment (clientenv), and
// the SMS provider that texts through the server (sms/relay).
//
// It never puts the token anywhere but the Authorization header: not in
// an error, a log line, a URL or the output of %v. It reads no
// environment and no file, and imports no database code (the server
// package) and no GUI or CLI code.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/api"
)

// Default timeouts. A call that waits on the SMS provider gets longer:
// the server gives the provider up to 60 s.
const (
	DefaultTimeout = 30 * time.Second
	SMSTimeout     = 90 * time.Second
	ExportTimeout  = 10 * time.Minute
)

// Client talks to one kuvert server with one token.
type Client struct {
	base    *url.URL
	token   string
	hc      *http.Client
	Timeout time.Duration // per call; default DefaultTimeout
}

// New checks the address and makes a client. The address must be https,
// or plain http to this machine's loopback (a test, or a reverse proxy on
// the same host), so the token never crosses a network unencrypted.
func New(rawURL, token string) (*Client, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, ErrNoToken
	}
	if strings.ContainsAny(token, " \r\n\t") {
		return nil, fault.New(CodeTokenDamaged)
	}
	return newClient(u, token), nil
}

// newClient is a client for base; an empty token sends no
// Authorization header (enrollment, which the code pays for).
func newClient(u *url.URL, token string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = http.ProxyFromEnvironment
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	tr.ResponseHeaderTimeout = SMSTimeout
	hc := &http.Client{
		Transport: tr,
		// A redirect is refused rather than followed: the API never
		// redirects, and the token must not be sent anywhere else.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{base: u, token: token, hc: hc, Timeout: DefaultTimeout}
}

// ErrNoToken: a server address is set but no token.
var ErrNoToken error = fault.New(CodeNoToken)

// CheckURL parses a server address: https, or http to 127.0.0.1, ::1 or
// localhost; no user or password in it, no query.
func CheckURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fault.New(CodeURLNotHTTPS, "url", strconv.Quote(redactRaw(raw)))
	}
	if u.User != nil {
		return nil, fault.New(CodeURLUserinfo)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fault.New(CodeURLQuery, "url", strconv.Quote(u.Redacted()))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fault.New(CodeURLPlainHTTP, "url", strconv.Quote(u.Redacted()))
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func redactRaw(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		if j := strings.Index(raw[i:], "@"); j >= 0 {
			return raw[:i+3] + "…" + raw[i+j:]
		}
	}
	return raw
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL is the server's address (never with a token).
func (c *Client) URL() string { return c.base.String() }

// Host is the server's host, as an [Error] names it.
func (c *Client) Host() string { return c.base.Host }

// String, GoString and Format keep the token out of %v, %+v and %#v,
// of a *Client and a Client alike.
func (c Client) String() string   { return "kuvert server " + c.base.String() }
func (c Client) GoString() string { return "client.Client{" + c.base.String() + "}" }
func (c Client) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// Error is a failed call: no answer (Status 0), or the server's error
// answer with its code. Message is plain words, Swedish first.
type Error struct {
	Op      string // what was asked: "append", "sms", …
	Server  string // the host
	Status  int    // HTTP status; 0: no answer
	Code    string // api.Code…
	Message string
	Err     error // the transport's error, when there was no answer
}

func (e *Error) Error() string {
	var msg string
	switch {
	case e.Status == 0:
		msg = "servern svarar inte / the server does not answer"
		if e.Err != nil {
			msg += ": " + e.Err.Error()
		}
	case e.Status == http.StatusUnauthorized:
		msg = "servern godtar inte token / the server does not accept the token (unknown or revoked): ask the administrator for a new one"
	case e.Message != "":
		msg = e.Message
	default:
		msg = "HTTP " + strconv.Itoa(e.Status)
	}
	return fmt.Sprintf("kuvert-servern / kuvert server %s: %s: %s", e.Server, e.Op, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) and the other sentinels work.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnreachable:
		return e.Status == 0 || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusBadGateway && e.Code != api.CodeProvider ||
			e.Status == http.StatusGatewayTimeout || (e.Status >= 500 && e.Code == "")
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// Sentinels for [Error].
var (
	// ErrUnreachable: no answer, or the server (its database) is down
	// for now; try again later.
	ErrUnreachable  = errors.New("the kuvert server cannot be reached")
	ErrUnauthorized = errors.New("the kuvert server does not accept the token")
	ErrForbidden    = errors.New("the kuvert server refused")
	ErrConflict     = errors.New("the kuvert server reports a conflict")
	ErrRateLimited  = errors.New("the kuvert server's rate limit")
)

// Temporary reports whether err is worth retrying later unchanged.
func Temporary(err error) bool {
	return errors.Is(err, ErrUnreachable) || errors.Is(err, ErrRateLimited)
}

// do sends one request and decodes a JSON answer into out (if not nil);
// raw, if not nil, receives a non-JSON answer's body instead.
func (c *Client) do(ctx context.Context, op, method, path string, q url.Values, body any, out any, raw io.Writer, timeout time.Duration) error {
	if timeout == 0 {
		timeout = c.Timeout
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := *c.base
	u.Path += path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &Error{Op: op, Server: c.base.Host, Status: -1, Message: "the request could not be encoded"}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return &Error{Op: op, Server: c.base.Host, Err: errors.New("bad request")}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "kuvert-client")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &Error{Op: op, Server: c.base.Host, Err: transportErr(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e := &Error{Op: op, Server: c.base.Host, Status: resp.StatusCode}
		var ae api.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &ae) == nil {
			e.Code, e.Message = ae.Code, ae.Message
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			e.Message = "servern svarade med en omdirigering / the server answered with a redirect (to " + resp.Header.Get("Location") + "); set the address it redirects to"
		}
		return e
	}
	if raw != nil {
		if _, err := io.Copy(raw, resp.Body); err != nil {
			return &Error{Op: op, Server: c.base.Host, Err: transportErr(err)}
		}
		return nil
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(out); err != nil {
		return &Error{Op: op, Server: c.base.Host, Status: resp.StatusCode, Code: api.CodeInternal,
			Message: "svaret gick inte att läsa / the answer could not be read (is this a kuvert server?)"}
	}
	return nil
}

// transportErr keeps the cause of a failed request without the request's
// URL (which holds a search's query) and certainly without a header.
func transportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("no answer in time")
	}
	return err
}

// Append ships entries (at most api.MaxAppend) of this device's log.
func (c *Client) Append(ctx context.Context, es []auditlog.Entry) (*api.AppendResponse, error) {
	var res api.AppendResponse
	if err := c.do(ctx, "append", http.MethodPost, "/api/v1/entries", nil, api.AppendRequest{Entries: es}, &res, nil, 0); err != nil {
		return nil, err
	}
	return &res, nil
}

// SendSMS asks the server to text m (at most once per m.Key).
func (c *Client) SendSMS(ctx context.Context, m api.SMSRequest) (api.SMSResponse, error) {
	var res api.SMSResponse
	err := c.do(ctx, "sms", http.MethodPost, "/api/v1/sms", nil, m, &res, nil, SMSTimeout)
	return res, err
}

// SMSStatus asks about a text this device sent through the server.
func (c *Client) SMSStatus(ctx context.Context, id string) (api.SMSResponse, error) {
	var res api.SMSResponse
	err := c.do(ctx, "sms status", http.MethodGet, "/api/v1/sms/status", url.Values{"id": {id}}, nil, &res, nil, SMSTimeout)
	return res, err
}

// Head is the central log's current signed tree head.
func (c *Client) Head(ctx context.Context) (api.Head, error) {
	var h api.Head
	err := c.do(ctx, "head", http.MethodGet, "/api/v1/log/head", nil, nil, &h, nil, 0)
	return h, err
}

// Proof is a consistency proof between tree sizes old and new.
func (c *Client) Proof(ctx context.Context, old, new int64) (api.Proof, error) {
	var p api.Proof
	q := url.Values{"old": {strconv.FormatInt(old, 10)}, "new": {strconv.FormatInt(new, 10)}}
	err := c.do(ctx, "proof", http.MethodGet, "/api/v1/log/proof", q, nil, &p, nil, 0)
	return p, err
}

// Key is the verifier key the server says it signs with. Trust it only
// as far as the server: an auditor compares it with the one published.
func (c *Client) Key(ctx context.Context) (string, error) {
	// A verifier key is about 100 bytes; a longer answer is not one,
	// and is not read into memory.
	b := &capped{max: 4 << 10}
	err := c.do(ctx, "key", http.MethodGet, "/api/v1/log/key", nil, nil, nil, b, 0)
	if errors.Is(err, errTooLong) {
		return "", &Error{Op: "key", Server: c.base.Host, Status: 200, Code: api.CodeInternal, Message: "svaret är ingen nyckel / the answer is too long to be a verifier key"}
	}
	return strings.TrimSpace(b.buf.String()), err
}

var errTooLong = errors.New("answer too long")

// capped is a buffer that refuses to grow past max bytes. (Not an
// embedded bytes.Buffer: io.Copy would use its ReadFrom, unbounded.)
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.buf.Len()+len(p) > c.max {
		return 0, errTooLong
	}
	return c.buf.Write(p)
}

// Query is a search of the central log (the api package's QUERY).
type Query struct {
	From, To  string // YYYY-MM-DD, inclusive
	Case      string
	Ref       string
	Sender    string
	Recipient string
	Limit     int
}

func (q Query) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("from", q.From)
	set("to", q.To)
	set("case", q.Case)
	set("ref", q.Ref)
	set("sender", q.Sender)
	set("recipient", q.Recipient)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// Search finds entries of the central log (a registrar's token).
func (c *Client) Search(ctx context.Context, q Query) (*api.EntriesResponse, error) {
	var res api.EntriesResponse
	if err := c.do(ctx, "search", http.MethodGet, "/api/v1/log/entries", q.values(), nil, &res, nil, 0); err != nil {
		return nil, err
	}
	return &res, nil
}

// ExportCSV writes the central log's CSV export of q to w.
func (c *Client) ExportCSV(ctx context.Context, q Query, w io.Writer) error {
	return c.do(ctx, "export", http.MethodGet, "/api/v1/log/export.csv", q.values(), nil, nil, w, ExportTimeout)
}

// Verify asks the server to check the whole central log.
func (c *Client) Verify(ctx context.Context) (*api.VerifyResponse, error) {
	var res api.VerifyResponse
	if err := c.do(ctx, "verify", http.MethodGet, "/api/v1/log/verify", nil, nil, &res, nil, ExportTimeout); err != nil {
		return nil, err
	}
	return &res, nil
}
