package sms_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// Render makes one pass over the template: values are never read again,
// so a password that looks like a placeholder arrives as it is.
func TestRenderNeverInterpretsValues(t *testing.T) {
	vars := map[string]string{"org": "Lön", "sender": "Lön", "ref": "abc234"}
	for _, pw := range []string{"{ref}", "{password}", "{sender}", "{x}", "{", "}", "a{ref}b}{", "{{password}}", "$1"} {
		vars["password"] = pw
		got, err := sms.Render("Från {org}, ref {ref}: {password}", vars)
		if err != nil || got != "Från Lön, ref abc234: "+pw {
			t.Errorf("password %q: %q, %v", pw, got, err)
		}
	}
	for tmpl, want := range map[string]string{
		"a { b {ref}":    "a { b abc234",
		"a } b":          "a } b",
		"{{ref}}":        "{abc234}",
		"{ref}{ref}":     "abc234abc234",
		"slut {":         "slut {",
		"{sender} {org}": "Lön Lön",
	} {
		if got, err := sms.Render(tmpl, vars); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", tmpl, got, err, want)
		}
	}
	for _, tmpl := range []string{"{pasword}", "{}", "a {x} b"} {
		if _, err := sms.Render(tmpl, vars); err == nil || !strings.Contains(err.Error(), "unknown placeholder") {
			t.Errorf("%q: %v", tmpl, err)
		}
	}
}

func TestCheckOrganisation(t *testing.T) {
	for _, ok := range []string{"Sundsvalls kommun", "Region Västernorrland", "Vision, avd. Stockholms stad", strings.Repeat("Ö", sms.MaxOrganisation)} {
		if err := sms.CheckOrganisation(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":    "no organisation",
		"   ": "no organisation",
		strings.Repeat("a", sms.MaxOrganisation+1): "at most 32",
		strings.Repeat("€", 17):                    "at most 32", // 34 septets
		"Kommunen’s lön":                           "GSM-7",
		"Lön\nKommunen":                            "one line",
		"{ref} kommun":                             "without { }",
		"www.kommunen.se":                          "web address",
		"https://kommunen.se":                      "web address",
	} {
		err := sms.CheckOrganisation(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", name, err, want)
		}
	}
}

// A real provider never texts without the organisation; the demo shows a
// marked placeholder.
func TestPolicyOrganisation(t *testing.T) {
	fake := twiliotest.NewServer()
	defer fake.Close()
	tw := newTwilio(t, fake, nil)
	for _, s := range []sms.Sender{tw, &sms.Outbox{Path: t.TempDir() + "/o.jsonl"}} {
		p := &sms.Policy{Sender: s}
		if _, err := p.Text("abc234", "h4mt8-2bqx9-rk3nd-w7vfc"); !errors.Is(err, sms.ErrNoOrganisation) {
			t.Errorf("%s without organisation: %v", s.Name(), err)
		}
	}
	p := &sms.Policy{Sender: &sms.Console{}}
	body, err := p.Text("abc234", "h4mt8-2bqx9-rk3nd-w7vfc")
	if err != nil || !strings.Contains(body, "från "+sms.DemoOrganisation+".") {
		t.Fatalf("demo: %q %v", body, err)
	}
	p = &sms.Policy{Sender: tw, Organisation: "Sundsvalls kommun", Lang: "en"}
	body, err = p.Text("abc234", "h4mt8-2bqx9-rk3nd-w7vfc")
	if err != nil || body != "Password for the encrypted attachment in an e-mail from Sundsvalls kommun. Never reply with the password. Ref abc234: h4mt8-2bqx9-rk3nd-w7vfc" {
		t.Fatalf("en: %q %v", body, err)
	}
	if _, err := (&sms.Policy{Sender: tw, Organisation: "X", Lang: "de"}).Text("abc234", "pw"); err == nil || !strings.Contains(err.Error(), "unknown SMS language") {
		t.Fatalf("lang de: %v", err)
	}
	text, n, err := (&sms.Policy{Sender: tw, Organisation: strings.Repeat("Å", sms.MaxOrganisation)}).Preview()
	if err != nil || n > sms.SingleSegment || !strings.HasSuffix(text, ": h4mt8-2bqx9-rk3nd-w7vfc") {
		t.Fatalf("preview %q %d %v", text, n, err)
	}
}

// A password an SMS cannot carry is refused without quoting it.
func TestPolicyTextErrorsHideThePassword(t *testing.T) {
	p := &sms.Policy{Sender: &sms.Console{}, Organisation: "Lön"}
	for _, pw := range []string{"Hemligt’Lösen-4417-abc", strings.Repeat("Hemligt-", 20)} {
		_, err := p.Text("abc234", pw)
		if err == nil || strings.Contains(err.Error(), "Hemligt") || strings.Contains(err.Error(), "’") {
			t.Errorf("err = %v", err)
		}
	}
}

type wrapped struct{ sms.Sender }

func (w wrapped) Unwrap() sms.Sender { return w.Sender }

// Demo-ness and rate limits belong to the provider, seen through
// wrappers that say what they wrap.
func TestIsDemoAndRateLimit(t *testing.T) {
	fake := twiliotest.NewServer()
	defer fake.Close()
	tw := newTwilio(t, fake, nil)
	console := &sms.Console{}
	outbox := &sms.Outbox{Path: "x"}
	for _, c := range []struct {
		s    sms.Sender
		demo bool
		rate float64
	}{
		{console, true, 0}, {wrapped{console}, true, 0},
		{outbox, false, 0}, {tw, false, 1}, {wrapped{tw}, false, 1}, {nil, false, 0},
	} {
		if sms.IsDemo(c.s) != c.demo || sms.RateLimit(c.s) != c.rate {
			t.Errorf("%T: demo %v rate %v", c.s, sms.IsDemo(c.s), sms.RateLimit(c.s))
		}
	}
}

// The auth token travels only encrypted: https, or http to loopback.
func TestTwilioBaseURLScheme(t *testing.T) {
	base := twilio.Config{AccountSID: "AC1", AuthToken: "s3cr3tt0ken", From: "Kommunen"}
	for url, ok := range map[string]bool{
		"https://api.twilio.com":            true,
		"https://proxy.kommunen.se:8443/tw": true,
		"http://127.0.0.1:8080":             true,
		"http://127.8.9.10":                 true,
		"http://[::1]:9999":                 true,
		"http://localhost:8080":             true,
		"http://api.twilio.com":             false,
		"http://10.0.0.5:8080":              false,
		"http://127.0.0.1.example.com":      false,
		"http://localhost.example.com":      false,
		"ftp://127.0.0.1":                   false,
		"ws://127.0.0.1":                    false,
	} {
		c := base
		c.BaseURL = url
		_, err := twilio.New(c)
		if ok != (err == nil) {
			t.Errorf("%s: %v", url, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "https") || strings.Contains(err.Error(), "s3cr3tt0ken")) {
			t.Errorf("%s: message %q", url, err)
		}
	}
	// The loopback fake still works end to end.
	fake := twiliotest.NewServer()
	defer fake.Close()
	if !strings.HasPrefix(fake.URL, "http://127.0.0.1:") {
		t.Fatalf("fake at %s", fake.URL)
	}
	if _, err := newTwilio(t, fake, nil).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

// The one-segment rule counts septets, not bytes: å is one, € two.
func TestPolicyCountsSeptets(t *testing.T) {
	p := &sms.Policy{Sender: &sms.Console{}, Organisation: strings.Repeat("Ö", sms.MaxOrganisation)}
	room := sms.SingleSegment - (111 - sms.GeneratedLength + sms.MaxOrganisation) // 40
	for pw, ok := range map[string]bool{
		strings.Repeat("å", room):     true,
		strings.Repeat("å", room+1):   false,
		strings.Repeat("€", room/2):   true,
		strings.Repeat("€", room/2+1): false,
	} {
		body, err := p.Text("abc234", pw)
		if ok != (err == nil) {
			t.Errorf("%d runes: %v", len([]rune(pw)), err)
		}
		if ok && !strings.HasSuffix(body, ": "+pw) {
			t.Errorf("body %q", body)
		}
	}
}
