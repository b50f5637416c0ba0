package sms

import (
	"strings"
	"testing"
)

// With the recipient page published, the default text says where the
// attachment opens; still one GSM-7 segment, password last.
func TestPolicyWithOpenerLink(t *testing.T) {
	for _, lang := range []string{"sv", "en"} {
		p := &Policy{Sender: &Outbox{Path: t.TempDir() + "/o"}, Lang: lang, Organisation: "Sundsvalls kommun", OpenerURL: "https://sundsvall.se/oppna/"}
		pw := "h4mt8-2bqx9-rk3nd-w7vfc"
		body, err := p.Text("k7pq2x", pw)
		if err != nil {
			t.Fatal(lang, err)
		}
		if !strings.Contains(body, " https://sundsvall.se/oppna ") || !strings.HasSuffix(body, pw) {
			t.Fatalf("%s: %q", lang, body)
		}
		if n, _ := Septets(body); n > SingleSegment {
			t.Fatalf("%s: %d septets", lang, n)
		}
		// The longest organisation name leaves little room: said before
		// anything is sealed.
		p.Organisation = strings.Repeat("Ö", MaxOrganisation)
		p.OpenerURL = "https://www.exempelby-kommun.se/krypterad-bilaga"
		if err := p.Check(GeneratedLength); err == nil || !strings.Contains(err.Error(), "one SMS holds") {
			t.Fatalf("%s: too long a text passed: %v", lang, err)
		}
	}
}

func TestCheckOpenerURL(t *testing.T) {
	if got, err := CheckOpenerURL("https://kommun.se/oppna.html"); err != nil || got != "https://kommun.se/oppna.html" {
		t.Fatalf("%q %v", got, err)
	}
	for _, bad := range []string{"http://kommun.se/oppna", "kommun.se/oppna", "https://user:pw@kommun.se/", "https://kommun.se/?x=1", "https://kommun.se/#a", "https:///x", "https://kommun.se/" + strings.Repeat("a", 60)} {
		if _, err := CheckOpenerURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Braces and letters outside ASCII reach the SMS percent-encoded, so
	// an address can never hold a placeholder.
	if got, err := CheckOpenerURL("https://kommun.se/{password}/ö"); err != nil || got != "https://kommun.se/%7Bpassword%7D/%C3%B6" {
		t.Fatalf("%q %v", got, err)
	}
}

// A custom template may place {url}; without an address it is an error,
// not a text with a hole in it.
func TestTemplateURLNeedsAddress(t *testing.T) {
	p := &Policy{Sender: &Console{}, Organisation: "Kommunen", Template: "Från {org}, öppna på {url} Ref {ref}: {password}"}
	if _, err := p.Text("abc234", "h4mt8-2bqx9-rk3nd-w7vfc"); err == nil || !strings.Contains(err.Error(), "opener_url") {
		t.Fatalf("err = %v", err)
	}
	p.OpenerURL = "https://kommunen.se/oppna"
	if body, err := p.Text("abc234", "h4mt8-2bqx9-rk3nd-w7vfc"); err != nil || !strings.Contains(body, "öppna på https://kommunen.se/oppna Ref") {
		t.Fatalf("%q %v", body, err)
	}
}
