package settings

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/config"
)

func writePolicy(t *testing.T, json string) (root string) {
	t.Helper()
	root = t.TempDir()
	if err := os.MkdirAll(filepath.Dir(PolicyFile(root)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(PolicyFile(root), []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// policy.json sets what the administrator chose; it wins over the user's
// file and the environment, and an environment variable that tries is
// recorded so the CLI can refuse it.
func TestFilePolicyWins(t *testing.T) {
	root := writePolicy(t, `{"ServerURL": "https://kuvert.policy.example", "Organisation": "Exempelby kommun",
		"EnrollmentCode": "ABCD-EFGH", "SmsProviders": "kuvert-server", "MailFrom": "lon@exempelby.se"}`)
	e := env{"KUVERT_POLICY_ROOT": root, "KUVERT_SERVER_URL": "https://annan.example", "KUVERT_MAIL_FROM": "lon@exempelby.se"}
	pol, err := MachinePolicy(e.get)
	if err != nil {
		t.Fatal(err)
	}
	s := resolve(t, Sources{Getenv: e.get, Policy: pol, Home: t.TempDir(),
		File: &config.Config{Organisation: "Användarens namn", ServerURL: "https://fil.example", SMS: config.SMS{Provider: "twilio"}}})
	for _, v := range []Value{s.ServerURL, s.Organisation, s.EnrollmentCode, s.SMSProviders, s.MailFrom} {
		if !v.Locked() || v.Where != PolicyFile(root) {
			t.Errorf("%s = %q from %s (%s), want the policy", v.Key, v.Value, v.Source, v.Where)
		}
	}
	if s.ServerURL.Value != "https://kuvert.policy.example" || s.Organisation.Value != "Exempelby kommun" {
		t.Errorf("values %q %q", s.ServerURL.Value, s.Organisation.Value)
	}
	// The policy's server texts, not the user's twilio.
	if s.SMSProvider.Value != "kuvert-server" {
		t.Errorf("provider %+v", s.SMSProvider)
	}
	// Without a server, the user's twilio gives way to the only
	// provider the policy allows.
	s2 := resolve(t, Sources{Policy: policy{"sms.providers": "outbox"}, Home: t.TempDir(), File: &config.Config{SMS: config.SMS{Provider: "twilio"}}})
	if s2.SMSProvider.Value != "outbox" || !s2.SMSProvider.Locked() {
		t.Errorf("provider %+v", s2.SMSProvider)
	}
	// KUVERT_SERVER_URL differs and is refused; KUVERT_MAIL_FROM agrees
	// and is no override.
	if len(s.Overrides) != 1 || s.Overrides[0].By != "KUVERT_SERVER_URL" || !errors.Is(s.Overrides[0], ErrLocked) {
		t.Fatalf("overrides %v", s.Overrides)
	}
	if err := s.Organisation.Check("--sender", "Någon annan"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "--sender") {
		t.Errorf("--sender over the policy: %v", err)
	}
	if err := s.Organisation.Check("--sender", "Exempelby kommun"); err != nil {
		t.Errorf("the policy's own value: %v", err)
	}
	if err := s.CheckProvider("twilio"); !errors.Is(err, ErrLocked) {
		t.Errorf("twilio allowed: %v", err)
	}
	if err := s.CheckProvider("kuvert-server"); err != nil {
		t.Error(err)
	}
}

// A provider named for this run that the policy does not allow is an
// override, not silently replaced; "outbox" allows every outbox file.
func TestPolicyProviders(t *testing.T) {
	root := writePolicy(t, `{"SmsProviders": "kuvert-server, outbox"}`)
	e := env{"KUVERT_POLICY_ROOT": root, "KUVERT_SMS_PROVIDER": "console"}
	pol, err := MachinePolicy(e.get)
	if err != nil {
		t.Fatal(err)
	}
	s := resolve(t, Sources{Getenv: e.get, Policy: pol, Home: t.TempDir()})
	if len(s.Overrides) != 1 || s.Overrides[0].By != "KUVERT_SMS_PROVIDER" {
		t.Fatalf("overrides %v", s.Overrides)
	}
	if !s.Allows("outbox:/tmp/sms.jsonl") || s.Allows("console") || s.Allows("twilio") {
		t.Error("allowed list not applied")
	}
	// Nothing set: everything allowed, no list.
	s = resolve(t, Sources{Home: t.TempDir()})
	if !s.Allows("twilio") || s.AllowedProviders() != nil {
		t.Error("no policy restricted the providers")
	}
}

// A misspelt or mistyped policy is an error, not ignored; no file is no
// policy.
func TestPolicyFileErrors(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`{"ServerUrl": "https://x.example"}`, `unknown value "ServerUrl"`},
		{`{"ServerURL": 1}`, "must be a string"},
		{`{not json`, "not valid JSON"},
	} {
		root := writePolicy(t, c.json)
		if _, err := MachinePolicy(env{"KUVERT_POLICY_ROOT": root}.get); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.json, err)
		}
	}
	pol, err := MachinePolicy(env{"KUVERT_POLICY_ROOT": t.TempDir()}.get)
	if err != nil {
		t.Fatal(err)
	}
	if s := resolve(t, Sources{Policy: pol, Home: t.TempDir()}); s.ServerURL.Locked() {
		t.Error("no policy file locked a value")
	}
}

// Every policy value names a setting the resolver reads.
func TestPoliciesNameSettings(t *testing.T) {
	s := resolve(t, Sources{Home: t.TempDir()})
	keys := map[string]bool{}
	for _, v := range s.Values() {
		keys[v.Key] = true
	}
	for _, p := range Policies {
		if !keys[p.Key] || p.Type != "REG_SZ" || p.Name == "" {
			t.Errorf("policy %+v names no setting", p)
		}
	}
}

// The organisation's server sits below policy and above the environment.
func TestServerLayer(t *testing.T) {
	srv := policy{"organisation": "Serverns namn", "opener_url": "https://server.example/oppna"}
	pol := policy{"opener_url": "https://policy.example/oppna"}
	s := resolve(t, Sources{Policy: pol, Server: srv, Home: t.TempDir(), File: &config.Config{Organisation: "Filens namn"}})
	if s.Organisation.Value != "Serverns namn" || s.Organisation.Source != FromServer {
		t.Errorf("organisation %+v", s.Organisation)
	}
	if s.OpenerURL.Value != "https://policy.example/oppna" || s.OpenerURL.Source != FromPolicy {
		t.Errorf("opener %+v", s.OpenerURL)
	}
}
