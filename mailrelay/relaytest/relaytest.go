// Package relaytest is a loopback mail relay for tests: a real SMTP
// server (github.com/emersion/go-smtp) on 127.0.0.1 with STARTTLS under a
// certificate made for the occasion and AUTH PLAIN, that keeps every
// message it accepts. It never reaches the network.
package relaytest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The account the relay accepts.
const (
	User     = "lon@kommun.example"
	Password = "relä-lösen-9f3k"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
	TLS  bool // it came over TLS
}

// Options change how the relay behaves.
type Options struct {
	NoSTARTTLS bool // offer no STARTTLS (a relay kuvert must refuse)
	Implicit   bool // TLS from the first byte (smtps://)
	Plain      bool // no TLS at all (smtp+insecure:// on loopback)
}

// Server is a running relay.
type Server struct {
	Addr  string         // 127.0.0.1:PORT
	Roots *x509.CertPool // trusts the relay's certificate
	srv   *smtp.Server
	mu    sync.Mutex
	msgs  []Message
	// refuse, when set, makes DATA fail for these recipients.
	refuse map[string]bool
	auths  int
}

// NewServer starts a relay; Close stops it.
func NewServer(o Options) (*Server, error) {
	cert, roots, err := selfSigned()
	if err != nil {
		return nil, err
	}
	s := &Server{Roots: roots, refuse: map[string]bool{}}
	s.srv = smtp.NewServer(&backend{s})
	s.srv.Domain = "relay.test"
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.ReadTimeout = 10 * time.Second
	s.srv.WriteTimeout = 10 * time.Second
	s.srv.MaxMessageBytes = 50 << 20
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	var l net.Listener
	switch {
	case o.Implicit:
		l, err = tls.Listen("tcp", "127.0.0.1:0", tc)
	default:
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if !o.NoSTARTTLS && !o.Plain {
			s.srv.TLSConfig = tc
		}
		s.srv.AllowInsecureAuth = o.Plain || o.NoSTARTTLS
	}
	if err != nil {
		return nil, err
	}
	s.Addr = l.Addr().String()
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the relay.
func (s *Server) Close() { s.srv.Close() }

// Messages returns what the relay accepted, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Refuse makes the relay refuse (or, with false, accept again) mail to addr.
func (s *Server) Refuse(addr string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[addr] = on
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	msg    Message
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pw string) error {
		if user != User || pw != Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.msg = Message{From: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refused := ss.s.refuse[to]
	ss.s.mu.Unlock()
	if refused {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: no such mailbox"}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.msg.Data, ss.msg.TLS = b.Bytes(), isTLS
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.msg)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "relay.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool, nil
}
