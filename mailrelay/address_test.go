package mailrelay_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/mailrelay"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
)

// Addresses go on the wire as ASCII, an internationalised domain in
// punycode; look-alikes (a label mixing Latin and Cyrillic), invisible
// characters, IP literals and non-ASCII local parts are refused.
func TestAddress(t *testing.T) {
	for _, c := range []struct{ in, want, why string }{
		{"anna@kommun.se", "anna@kommun.se", ""},
		{"anna.berg+lon@Kommun.SE", "anna.berg+lon@kommun.se", ""},
		{"anna@växjö.se", "anna@xn--vxj-qla6g.se", ""},
		{"anna@xn--vxj-qla6g.se", "anna@xn--vxj-qla6g.se", ""},
		{"ivan@кремль.рф", "ivan@xn--e1ajeds9e.xn--p1ai", ""},        // one script per label
		{"yuki@例え.jp", "yuki@xn--r8jz45g.jp", ""},                    // Han + Hiragana: allowed by TS 39
		{"anna@k\u043emmun.se", "", "mixes alphabets"},               // Cyrillic о in "kommun"
		{"anna@xn--kmmun-o3e.se", "", "mixes alphabets"},             // the same, already in punycode
		{"anna@p\u0430ypal.com", "", "mixes alphabets"},              // Cyrillic а
		{"anna@\u03bfkommun.se", "", "mixes alphabets"},              // Greek ο
		{"an\u200Bna@kommun.se", "", "invisible"},                    // zero-width space
		{"anna@kommun\u200D.se", "", "invisible"},                    // zero-width joiner
		{"anna@kommun.se\u202E", "", "invisible"},                    // bidi override
		{"anna@[192.0.2.1]", "", "IP address"},                       // IP literal
		{"anna@[IPv6:2001:db8::1]", "", "IP address"},                // IPv6 literal
		{"åsa@kommun.se", "", "not plain ASCII"},                     // needs SMTPUTF8
		{"Anna <anna@kommun.se>", "", "not a plain address"},         // display name
		{"anna@kommun.se\r\nBcc: x@y.se", "", "not a plain address"}, // header injection
		{"anna@localhost", "", "no dot"},
		{"anna@-kommun.se", "", "not a valid internationalised name"},
	} {
		got, err := mailrelay.Address(c.in)
		if c.want != "" {
			if err != nil || got != c.want {
				t.Errorf("Address(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if !errors.Is(err, mailrelay.ErrAddress) || !strings.Contains(err.Error(), c.why) || got != "" {
			t.Errorf("Address(%q) = %q, %v; want an error saying %q", c.in, got, err, c.why)
		}
	}
}

// The relay is never handed raw UTF-8 (no SMTPUTF8 is asked for): a
// caller that skipped Address is refused before anything is sent.
func TestSendRefusesNonASCIIAddress(t *testing.T) {
	s := start(t, relaytest.Options{})
	r := relay(t, s, "smtp", relaytest.Password)
	for _, to := range []string{"anna@växjö.se", "åsa@kommun.se", "an\u200bna@kommun.se"} {
		if _, err := r.Send(context.Background(), "lon@kommun.example", to, []byte("Subject: x\r\n\r\nx\r\n")); !errors.Is(err, mailrelay.ErrAddress) {
			t.Errorf("%q: %v", to, err)
		}
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("%d messages reached the relay", n)
	}
}

// An accepted address is printable ASCII and accepted again unchanged.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{"anna@kommun.se", "anna@växjö.se", "anna@k\u043emmun.se", "a@[1.2.3.4]", "Åsa <a@b.se>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := mailrelay.Address(in)
		if err != nil {
			return
		}
		for _, c := range got {
			if c < 0x21 || c > 0x7e {
				t.Fatalf("Address(%q) = %q holds %U", in, got, c)
			}
		}
		if again, err := mailrelay.Address(got); err != nil || again != got {
			t.Fatalf("Address(%q) = %q, but again %q, %v", in, got, again, err)
		}
	})
}
