package mailrelay_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/mailrelay"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
)

func start(t *testing.T, o relaytest.Options) *relaytest.Server {
	s, err := relaytest.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func relay(t *testing.T, s *relaytest.Server, scheme, password string) *mailrelay.Relay {
	r, err := mailrelay.Parse(scheme+"://"+strings.Replace(relaytest.User, "@", "%40", 1)+"@"+s.Addr, password)
	if err != nil {
		t.Fatal(err)
	}
	r.TLS = &tls.Config{RootCAs: s.Roots}
	return r
}

const msg = "From: a@kommun.example\r\nTo: b@example.se\r\nSubject: x\r\n\r\nhej\r\n"

func TestSendSTARTTLSAndImplicitTLS(t *testing.T) {
	for _, tc := range []struct {
		scheme string
		o      relaytest.Options
	}{{"smtp", relaytest.Options{}}, {"smtps", relaytest.Options{Implicit: true}}} {
		s := start(t, tc.o)
		if _, err := relay(t, s, tc.scheme, relaytest.Password).Send(context.Background(), "a@kommun.example", "b@example.se", []byte(msg)); err != nil {
			t.Fatalf("%s: %v", tc.scheme, err)
		}
		got := s.Messages()
		if len(got) != 1 || !got[0].TLS || got[0].To[0] != "b@example.se" || !strings.Contains(string(got[0].Data), "hej") {
			t.Fatalf("%s: %+v", tc.scheme, got)
		}
	}
}

// A relay that offers no STARTTLS gets nothing: no AUTH, no message.
func TestRefusesRelayWithoutSTARTTLS(t *testing.T) {
	s := start(t, relaytest.Options{NoSTARTTLS: true})
	_, err := relay(t, s, "smtp", relaytest.Password).Send(context.Background(), "a@kommun.example", "b@example.se", []byte(msg))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || len(s.Messages()) != 0 {
		t.Fatalf("%v, %d messages", err, len(s.Messages()))
	}
}

// A certificate the system does not trust is refused.
func TestRefusesUntrustedCertificate(t *testing.T) {
	s := start(t, relaytest.Options{})
	r := relay(t, s, "smtp", relaytest.Password)
	r.TLS = nil
	if _, err := r.Send(context.Background(), "a@kommun.example", "b@example.se", []byte(msg)); err == nil || len(s.Messages()) != 0 {
		t.Fatalf("%v", err)
	}
}

// The relay password never appears in an error, whatever fails.
func TestWrongPasswordNotInError(t *testing.T) {
	s := start(t, relaytest.Options{})
	const wrong = "fel-lösen-xyz123"
	_, err := relay(t, s, "smtp", wrong).Send(context.Background(), "a@kommun.example", "b@example.se", []byte(msg))
	if err == nil || strings.Contains(err.Error(), wrong) || len(s.Messages()) != 0 {
		t.Fatalf("%v", err)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct{ url, pw, want string }{
		{"smtp://u@relay.kommun.se", "Pw9-hemligt", ""},
		{"smtps://u@relay.kommun.se", "Pw9-hemligt", ""},
		{"smtp+insecure://u@127.0.0.1:2525", "Pw9-hemligt", ""},
		{"smtp+insecure://u@[::1]:2525", "Pw9-hemligt", ""},
		{"smtp+insecure://u@relay.kommun.se:25", "Pw9-hemligt", "only for a loopback"},
		{"smtp+insecure://u@10.0.0.1:25", "Pw9-hemligt", "only for a loopback"},
		{"smtp://u:hemligt@relay.kommun.se", "", "holds a password"},
		{"http://relay.kommun.se", "", "must start with smtp://"},
		{"smtp://u@relay.kommun.se", "", "needs its password in KUVERT_SMTP_PASSWORD"},
		{"smtp://u@relay.kommun.se/x", "Pw9-hemligt", "smtp://USER@HOST:PORT"},
	} {
		r, err := mailrelay.Parse(tc.url, tc.pw)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, mailrelay.ErrConfig)):
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		case err != nil && strings.Contains(err.Error(), "hemligt"):
			t.Errorf("%s: the password in the error: %v", tc.url, err)
		case err == nil && strings.Contains(r.String(), "hemligt"):
			t.Errorf("%s: %s", tc.url, r)
		}
	}
}
