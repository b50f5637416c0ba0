package gui

import (
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/settings"
)

type testPolicy map[string]string

func (p testPolicy) Lookup(k string) (string, bool) { v, ok := p[k]; return v, ok }
func (p testPolicy) Where() string                  { return `HKLM\SOFTWARE\Policies\kuvert` }

// What machine policy sets shows in Settings with the policy's value,
// read-only, with "Styrs av din organisation" under it; saving keeps the
// user's own values in config.json; the organisation prompt stays away.
func TestSettingsLockedByPolicy(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Användarens namn", ServerURL: "https://fil.example", SMS: config.SMS{Provider: "twilio"}})
	pol := testPolicy{"organisation": "Exempelby kommun", "server_url": "https://kuvert.exempelby.se", "sms.providers": "kuvert-server"}
	u, err := New(test.NewTempApp(t), h.w, Deps{Home: h.home, Keyring: h.keys, Getenv: h.getenv, Clipboard: h.clip,
		Policy: func() (settings.Layer, error) { return pol, nil }, OpenFolder: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	v := u.settings
	if v.organisation.Text != "Exempelby kommun" || !v.organisation.Disabled() {
		t.Errorf("organisation %q, disabled %v", v.organisation.Text, v.organisation.Disabled())
	}
	if v.serverURL.Text != "https://kuvert.exempelby.se" || !v.serverURL.Disabled() {
		t.Errorf("server %q, disabled %v", v.serverURL.Text, v.serverURL.Disabled())
	}
	if v.openerURL.Disabled() || !v.provider.Disabled() {
		t.Errorf("opener disabled %v (not set by policy), provider disabled %v (set)", v.openerURL.Disabled(), v.provider.Disabled())
	}
	hints := map[string]string{}
	for _, it := range v.form.Items {
		hints[it.Text] = it.HintText
	}
	want := "Styrs av din organisation"
	if lang.L("settings.locked") != want {
		t.Fatalf("the Swedish text is %q", lang.L("settings.locked"))
	}
	for _, k := range []string{"settings.organisation", "settings.server", "settings.provider"} {
		if hints[lang.L(k)] != want {
			t.Errorf("%s: hint %q", k, hints[lang.L(k)])
		}
	}
	if hints[lang.L("settings.opener")] == want {
		t.Error("the opener address is not set by policy")
	}
	test.Type(v.openerURL, "https://exempelby.se/oppna")
	v.save()
	cfg, err := config.Load(h.home)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Organisation != "Användarens namn" || cfg.ServerURL != "https://fil.example" || cfg.SMS.Provider != "twilio" || cfg.OpenerURL != "https://exempelby.se/oppna" {
		t.Errorf("saved %+v", cfg)
	}
	if u.seal.org.content.Visible() {
		t.Error("the organisation prompt shows although the policy names it")
	}
}
