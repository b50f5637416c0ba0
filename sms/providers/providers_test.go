package providers

import (
	"errors"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// env is an environment for settings.Resolve.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// resolved is cfg as config.json with the environment e and no keyring.
func resolved(t *testing.T, cfg *config.Config, e env) *settings.Settings {
	t.Helper()
	s, err := settings.Resolve(settings.Sources{Getenv: e.get, Home: t.TempDir(), File: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twilioEnv is the environment of a computer set up for Twilio, pointed
// at a loopback fake.
func twilioEnv(t *testing.T) env {
	fake := twiliotest.NewServer()
	t.Cleanup(fake.Close)
	return env{"TWILIO_ACCOUNT_SID": twiliotest.AccountSID, "TWILIO_AUTH_TOKEN": twiliotest.AuthToken,
		"KUVERT_SMS_FROM": twiliotest.From, "KUVERT_TWILIO_API_URL": fake.URL}
}

// One resolution for every shell: which template, which language, which
// organisation (the CLI once ignored the configured template when
// --sms-lang was given, and the settings preview had other fallbacks).
func TestBuildResolvesTheWords(t *testing.T) {
	custom := "Från {org}: lösenord till bilagan, ref {ref}: {password}"
	for _, c := range []struct {
		name string
		cfg  config.Config
		o    Options
		want string // the text for ref abc234, password P
	}{
		{"defaults", config.Config{Organisation: "Sundsvalls kommun"}, Options{},
			"Lösenord till krypterad bilaga i e-post från Sundsvalls kommun. Svara aldrig med lösenordet. Ref abc234: P"},
		{"organisation from the older sms.sender", config.Config{SMS: config.SMS{Sender: "Löneenheten"}}, Options{},
			"Lösenord till krypterad bilaga i e-post från Löneenheten. Svara aldrig med lösenordet. Ref abc234: P"},
		{"organisation wins over sms.sender", config.Config{Organisation: "Sundsvalls kommun", SMS: config.SMS{Sender: "Löneenheten"}}, Options{},
			"Lösenord till krypterad bilaga i e-post från Sundsvalls kommun. Svara aldrig med lösenordet. Ref abc234: P"},
		{"--sender wins", config.Config{Organisation: "Sundsvalls kommun"}, Options{Organisation: " Lön "},
			"Lösenord till krypterad bilaga i e-post från Lön. Svara aldrig med lösenordet. Ref abc234: P"},
		{"configured language", config.Config{Organisation: "Kommunen", SMS: config.SMS{Language: "en"}}, Options{},
			"Password for the encrypted attachment in an e-mail from Kommunen. Never reply with the password. Ref abc234: P"},
		{"custom template", config.Config{Organisation: "Kommunen", SMS: config.SMS{Template: custom}}, Options{},
			"Från Kommunen: lösenord till bilagan, ref abc234: P"},
		{"custom template, its own language asked for", config.Config{Organisation: "Kommunen", SMS: config.SMS{Template: custom}}, Options{Lang: "sv"},
			"Från Kommunen: lösenord till bilagan, ref abc234: P"},
		{"custom template, another language asked for", config.Config{Organisation: "Kommunen", SMS: config.SMS{Template: custom}}, Options{Lang: "en"},
			"Password for the encrypted attachment in an e-mail from Kommunen. Never reply with the password. Ref abc234: P"},
		{"demo without organisation", config.Config{}, Options{},
			"Lösenord till krypterad bilaga i e-post från " + sms.DemoOrganisation + ". Svara aldrig med lösenordet. Ref abc234: P"},
		{"operator is no organisation", config.Config{Operator: "Anna Andersson"}, Options{},
			"Lösenord till krypterad bilaga i e-post från " + sms.DemoOrganisation + ". Svara aldrig med lösenordet. Ref abc234: P"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Build(resolved(t, &c.cfg, nil), c.o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Text("abc234", "P")
			if err != nil || got != c.want {
				t.Fatalf("%q, %v\nwant %q", got, err, c.want)
			}
			if p.Template == "" {
				t.Fatal("Build left the template empty")
			}
			// The settings preview shows the same text.
			prev, _, err := Preview(resolved(t, &c.cfg, nil), c.o)
			if err != nil || prev != strings.Replace(got, "abc234: P", "k7pq2x: h4mt8-2bqx9-rk3nd-w7vfc", 1) {
				t.Fatalf("preview %q, %v", prev, err)
			}
		})
	}
}

// Twilio without an organisation is refused by Build and Preview alike;
// the demo is named as one.
func TestBuildProviders(t *testing.T) {
	e := twilioEnv(t)
	cfg := &config.Config{}
	if _, err := Build(resolved(t, cfg, e), Options{}); !errors.Is(err, sms.ErrNoOrganisation) {
		t.Fatalf("twilio without organisation: %v", err)
	}
	if _, _, err := Preview(resolved(t, cfg, e), Options{}); !errors.Is(err, sms.ErrNoOrganisation) {
		t.Fatalf("preview: %v", err)
	}
	cfg.Organisation = "Sundsvalls kommun"
	p, err := Build(resolved(t, cfg, e), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Sender.(*twilio.Sender); !ok || sms.IsDemo(p.Sender) || sms.RateLimit(p.Sender) != 1 {
		t.Fatalf("sender %T", p.Sender)
	}
	p, err = Build(resolved(t, cfg, e), Options{Provider: "console"})
	if err != nil || !sms.IsDemo(p.Sender) || sms.RateLimit(p.Sender) != 0 {
		t.Fatalf("console: %T %v", p.Sender, err)
	}
	// The form's unsaved choice wins over the environment in a preview.
	if _, _, err := Preview(resolved(t, &config.Config{}, e), Options{Provider: "console"}); err != nil {
		t.Fatalf("preview console: %v", err)
	}
	e["KUVERT_SMS_PROVIDER"] = "outbox:"
	if _, err := Build(resolved(t, cfg, e), Options{}); err == nil {
		t.Fatal("outbox: without a file accepted")
	}
	e["KUVERT_SMS_PROVIDER"] = "pigeon"
	if _, err := Build(resolved(t, cfg, e), Options{}); err == nil || !strings.Contains(err.Error(), "unknown SMS provider") {
		t.Fatalf("unknown provider: %v", err)
	}
	e["KUVERT_SMS_PROVIDER"] = "twilio"
	e["KUVERT_TWILIO_API_URL"] = "http://api.twilio.com"
	if _, err := Build(resolved(t, cfg, e), Options{}); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("http base URL: %v", err)
	}
}

// Bad words are found when the policy is built, before any sealing.
func TestBuildRefusesBadWords(t *testing.T) {
	for _, c := range []struct {
		cfg  config.Config
		o    Options
		want string
	}{
		{config.Config{}, Options{Lang: "de"}, "unknown SMS language"},
		{config.Config{Organisation: strings.Repeat("x", 40)}, Options{}, "at most 32"},
		{config.Config{Organisation: "Kommunen", SMS: config.SMS{Template: "Lösenord {pasword}"}}, Options{}, "no {password}"},
		{config.Config{Organisation: "Kommunen", SMS: config.SMS{Template: "Lösenord ’{password}’"}}, Options{}, "GSM-7"},
	} {
		if _, err := Build(resolved(t, &c.cfg, nil), c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v %+v: %v, want %q", c.cfg, c.o, err, c.want)
		}
	}
}

// With a server, the texts point to its copy of the recipient page; a
// server address too long for one SMS leaves the link out rather than
// stopping every sealing.
func TestOpenerFromServer(t *testing.T) {
	p, err := Build(resolved(t, &config.Config{Organisation: "Kommunen", ServerURL: "https://kuvert.exempelby.se"}, env{"KUVERT_SMS_PROVIDER": "console"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if txt, err := p.Text("abc234", "k7pq2-x3mhb-9rtw4-ndc8f"); err != nil || !strings.Contains(txt, "https://kuvert.exempelby.se/oppna.html") {
		t.Fatalf("%q %v", txt, err)
	}
	long := "https://" + strings.Repeat("k", 90) + ".example"
	p, err = Build(resolved(t, &config.Config{Organisation: "Kommunen", ServerURL: long}, env{"KUVERT_SMS_PROVIDER": "console"}), Options{})
	if err != nil {
		t.Fatalf("a long server address stopped the sealing: %v", err)
	}
	if txt, _ := p.Text("abc234", "k7pq2-x3mhb-9rtw4-ndc8f"); strings.Contains(txt, long) {
		t.Fatalf("a text that does not fit: %q", txt)
	}
}
