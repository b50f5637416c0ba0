package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/config"
)

type env map[string]string

func (e env) get(k string) string { return e[k] }

// errNotFound is the fake keyring's "no such entry" (go-keyring's
// ErrNotFound in the shells).
var errNotFound = errors.New("secret not found in keyring")

func isNotFound(err error) bool { return errors.Is(err, errNotFound) }

// keys is an in-memory keyring that counts its reads.
type keys struct {
	m     map[string]string
	reads int
	fail  error
}

func (k *keys) Get(service, user string) (string, error) {
	k.reads++
	if k.fail != nil {
		return "", k.fail
	}
	v, ok := k.m[service+"/"+user]
	if !ok {
		return "", errNotFound
	}
	return v, nil
}

type policy map[string]string

func (p policy) Lookup(k string) (string, bool) { v, ok := p[k]; return v, ok }
func (p policy) Where() string                  { return `HKLM\SOFTWARE\Policies\kuvert` }

func resolve(t *testing.T, src Sources) *Settings {
	t.Helper()
	s, err := Resolve(src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Each layer wins over the ones below it, and every value says where it
// came from: policy, environment, config.json, default.
func TestLayersAndSources(t *testing.T) {
	home := t.TempDir()
	if err := config.Save(home, &config.Config{ServerURL: "https://fil.example", MailFrom: "fil@kommun.example",
		Organisation: "Filkommun", SMS: config.SMS{Language: "en", From: "Filen"}}); err != nil {
		t.Fatal(err)
	}
	e := env{"KUVERT_HOME": home, "KUVERT_SERVER_URL": "https://miljo.example", "KUVERT_SMS_FROM": "Miljon"}
	pol := policy{"server_url": "https://policy.example"}
	s := resolve(t, Sources{Getenv: e.get, Policy: pol})

	for _, c := range []struct {
		v      Value
		want   string
		source Source
		where  string
	}{
		{s.Home, home, FromEnv, "KUVERT_HOME"},
		{s.ServerURL, "https://policy.example", FromPolicy, `HKLM\SOFTWARE\Policies\kuvert`},
		{s.SMSFrom, "Miljon", FromEnv, "KUVERT_SMS_FROM"},
		{s.MailFrom, "fil@kommun.example", FromFile, config.Path(home)},
		{s.Organisation, "Filkommun", FromFile, config.Path(home)},
		{s.SMSLanguage, "en", FromFile, config.Path(home)},
		{s.Format, "zip", FromDefault, ""},
		{s.SMTPURL, "", FromDefault, ""},
		// A server is configured, so texts go through it.
		{s.SMSProvider, "kuvert-server", FromOthers, "server_url"},
	} {
		if c.v.Value != c.want || c.v.Source != c.source || c.v.Where != c.where {
			t.Errorf("%s = %q from %s (%s), want %q from %s (%s)", c.v.Key, c.v.Value, c.v.Source, c.v.Where, c.want, c.source, c.where)
		}
	}
	// Every listed value has its key, and the keys are unique.
	seen := map[string]bool{}
	for _, v := range s.Values() {
		if v.Key == "" || seen[v.Key] {
			t.Errorf("key %q missing or twice", v.Key)
		}
		seen[v.Key] = true
	}
}

// The SMS provider: named, inferred from a server or a Twilio account,
// else the demo.
func TestProviderChoice(t *testing.T) {
	for _, c := range []struct {
		name   string
		e      env
		cfg    config.Config
		want   string
		source Source
	}{
		{"nothing", env{}, config.Config{}, "console", FromDefault},
		{"file", env{}, config.Config{SMS: config.SMS{Provider: "twilio"}}, "twilio", FromFile},
		{"twilio account in the environment", env{"TWILIO_ACCOUNT_SID": "AC1"}, config.Config{}, "twilio", FromOthers},
		{"server wins over the file", env{}, config.Config{ServerURL: "https://k.example", SMS: config.SMS{Provider: "twilio"}}, "kuvert-server", FromOthers},
		{"environment wins over the server", env{"KUVERT_SMS_PROVIDER": "outbox:/x"}, config.Config{ServerURL: "https://k.example"}, "outbox:/x", FromEnv},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := resolve(t, Sources{Getenv: c.e.get, Home: t.TempDir(), File: &c.cfg})
			if s.SMSProvider.Value != c.want || s.SMSProvider.Source != c.source {
				t.Fatalf("%q from %s, want %q from %s", s.SMSProvider.Value, s.SMSProvider.Source, c.want, c.source)
			}
		})
	}
}

// Secrets: the environment, else the keyring; read only when asked for;
// never shown by String, %v or %#v. The CLI and the app read the Twilio
// token from the keyring alike.
func TestSecrets(t *testing.T) {
	kr := &keys{m: map[string]string{
		"kuvert/server-token":      "kvt_nyckelring",
		"kuvert/twilio-auth-token": "tw-hemlig",
		"kuvert/smtp-password":     "smtp-hemlig",
	}}
	e := env{"KUVERT_SMTP_PASSWORD": "från-miljön"}
	s := resolve(t, Sources{Getenv: e.get, Keyring: kr, Home: t.TempDir()})
	if kr.reads != 0 {
		t.Fatalf("resolving read the keyring %d times before any secret was asked for", kr.reads)
	}
	if got := s.ServerToken.Reveal(); got != "kvt_nyckelring" || s.ServerToken.Source() != FromKeyring || s.ServerToken.Where() != "kuvert/server-token" {
		t.Errorf("server token %q from %s", got, s.ServerToken.Source())
	}
	if got := s.SMTPPassword.Reveal(); got != "från-miljön" || s.SMTPPassword.Source() != FromEnv {
		t.Errorf("smtp password %q from %s: the environment comes first", got, s.SMTPPassword.Source())
	}
	if got := s.TwilioAuthToken.Reveal(); got != "tw-hemlig" {
		t.Errorf("twilio token from the keyring: %q", got)
	}
	if s.TwilioAccountSID.Stored() || s.TwilioAccountSID.Source() != "" {
		t.Errorf("no SID anywhere, yet %s", s.TwilioAccountSID.Source())
	}
	reads := kr.reads
	s.ServerToken.Reveal()
	s.ServerToken.Stored()
	if kr.reads != reads {
		t.Error("a secret was read from the keyring twice")
	}
	for _, sec := range s.Secrets() {
		for _, out := range []string{sec.String(), fmt.Sprint(sec), fmt.Sprintf("%v %+v %#v %s", sec, sec, sec, sec)} {
			if v := sec.Reveal(); v != "" && strings.Contains(out, v) {
				t.Errorf("%s shows its value: %q", sec.Key, out)
			}
		}
	}
	if s.ServerToken.String() != "stored" || s.TwilioAccountSID.String() != "not stored" {
		t.Errorf("String: %q, %q", s.ServerToken, s.TwilioAccountSID)
	}
}

// A keyring that fails (no Secret Service, Credential Manager unavailable)
// is no secret, not an error: the command that needs one says so.
func TestKeyringUnavailable(t *testing.T) {
	s := resolve(t, Sources{Keyring: &keys{fail: errors.New("dbus: no secret service")}, Home: t.TempDir()})
	if s.ServerToken.Stored() || s.ServerToken.Reveal() != "" {
		t.Fatal("a failing keyring gave a token")
	}
	// It is not "not stored" either: the token may be in the keyring.
	if err := s.ServerToken.Unreadable(); err == nil || !strings.Contains(err.Error(), "dbus") {
		t.Errorf("Unreadable: %v", err)
	}
	// A secret in the environment needs no keyring.
	s = resolve(t, Sources{Getenv: env{"KUVERT_SERVER_TOKEN": "kvt_x"}.get, Keyring: &keys{fail: errors.New("dbus: no secret service")}, Home: t.TempDir()})
	if !s.ServerToken.Stored() || s.ServerToken.Unreadable() != nil {
		t.Errorf("from the environment: stored %v, unreadable %v", s.ServerToken.Stored(), s.ServerToken.Unreadable())
	}
	// An entry that is merely missing is not stored, and no error.
	s = resolve(t, Sources{Keyring: &keys{m: map[string]string{}}, KeyringMissing: isNotFound, Home: t.TempDir()})
	if s.ServerToken.Stored() || s.ServerToken.Unreadable() != nil {
		t.Errorf("missing entry: stored %v, unreadable %v", s.ServerToken.Stored(), s.ServerToken.Unreadable())
	}
	// Without a way to tell "missing", any error leaves it unknown.
	s = resolve(t, Sources{Keyring: &keys{m: map[string]string{}}, Home: t.TempDir()})
	if !errors.Is(s.ServerToken.Unreadable(), errNotFound) {
		t.Errorf("no KeyringMissing: unreadable %v", s.ServerToken.Unreadable())
	}
}

// Bad config.json is an error naming the file; no folder at all says to
// set KUVERT_HOME.
func TestResolveErrors(t *testing.T) {
	home := t.TempDir()
	if err := writeFile(config.Path(home), "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(Sources{Home: home}); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("bad JSON: %v", err)
	}
	_, err := Resolve(Sources{UserConfigDir: func() (string, error) { return "", errors.New("$HOME is not defined") }})
	if !errors.Is(err, ErrNoHome) {
		t.Errorf("no home: %v", err)
	}
	s := resolve(t, Sources{UserConfigDir: func() (string, error) { return home, nil }, File: &config.Config{}})
	if s.Home.Value != filepath.Join(home, "kuvert") || s.Home.Source != FromDefault {
		t.Errorf("home %+v", s.Home)
	}
}

// The older sms.sender still names the organisation when organisation is
// empty.
func TestOlderSenderField(t *testing.T) {
	s := resolve(t, Sources{Home: t.TempDir(), File: &config.Config{SMS: config.SMS{Sender: " Lönekontoret "}}})
	if s.Organisation.Value != "Lönekontoret" || s.Organisation.Source != FromFile || !strings.Contains(s.Organisation.Where, "sms.sender") {
		t.Fatalf("%+v", s.Organisation)
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }

// With a server and no opener address of its own, recipients are sent to
// the server's copy of the page.
func TestOpenerDefaultsToServer(t *testing.T) {
	s := resolve(t, Sources{Home: t.TempDir(), File: &config.Config{ServerURL: "https://kuvert.exempelby.se/"}})
	if s.OpenerURL.Value != "https://kuvert.exempelby.se/oppna.html" || s.OpenerURL.Source != FromOthers {
		t.Fatalf("%+v", s.OpenerURL)
	}
	s = resolve(t, Sources{Home: t.TempDir(), File: &config.Config{ServerURL: "https://kuvert.exempelby.se", OpenerURL: "https://exempelby.se/oppna"}})
	if s.OpenerURL.Value != "https://exempelby.se/oppna" || s.OpenerURL.Source != FromFile {
		t.Fatalf("%+v", s.OpenerURL)
	}
	if s := resolve(t, Sources{Home: t.TempDir()}); s.OpenerURL.Value != "" {
		t.Fatalf("no server, no page: %+v", s.OpenerURL)
	}
}
