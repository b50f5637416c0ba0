package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// osKeyringHarness is a harness whose keyring is the real go-keyring
// code on its in-memory mock, as SystemDeps uses it.
func osKeyringHarness(t *testing.T, cfg *config.Config) *harness {
	t.Helper()
	keyring.MockInit()
	h := newHarness(t, cfg)
	u, err := New(test.NewTempApp(t), h.w, Deps{Home: h.home, Keyring: osKeyring{}, Getenv: h.getenv, Clipboard: h.clip, OpenFolder: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	h.u = u
	return h
}

// TestTokenFieldSaysWhetherATokenIsStored: the token field no longer
// shows dots whatever is stored; it says whether the keyring
// holds a token, and Replace and Remove act on it.
func TestTokenFieldSaysWhetherATokenIsStored(t *testing.T) {
	h := osKeyringHarness(t, &config.Config{SMS: config.SMS{Provider: "twilio", From: twiliotest.From}})
	s := h.u.settings
	if s.tokenState.Text != lang.L("settings.token.none") || !s.token.Visible() || s.tokenRemove.Visible() {
		t.Fatalf("no token stored: %q, entry shown %v, Remove shown %v", s.tokenState.Text, s.token.Visible(), s.tokenRemove.Visible())
	}
	if s.token.PlaceHolder == "••••••••" {
		t.Error("the empty token field still looks filled in")
	}
	test.Type(s.token, twiliotest.AuthToken)
	s.save()
	if tok, err := keyring.Get(keyringService, settings.TwilioAuthTokenKey); err != nil || tok != twiliotest.AuthToken {
		t.Fatalf("keyring token %q, %v", tok, err)
	}
	if s.tokenState.Text != lang.L("settings.token.stored") || s.token.Visible() || !s.tokenReplace.Visible() || !s.tokenRemove.Visible() {
		t.Fatalf("after saving: %q, entry shown %v", s.tokenState.Text, s.token.Visible())
	}
	// A new window sees the stored token without showing it.
	u3, err := New(test.NewTempApp(t), test.NewTempWindow(t, widget.NewLabel("")), Deps{Home: h.home, Keyring: osKeyring{}, OpenFolder: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if u3.settings.tokenState.Text != lang.L("settings.token.stored") || u3.settings.token.Text != "" {
		t.Errorf("new window: %q, field %q", u3.settings.tokenState.Text, u3.settings.token.Text)
	}
	// Replace shows the field again; Remove takes the token out.
	test.Tap(s.tokenReplace)
	if !s.token.Visible() {
		t.Error("Replace does not show the token field")
	}
	test.Tap(s.tokenRemove)
	if _, err := keyring.Get(keyringService, settings.TwilioAuthTokenKey); err != keyring.ErrNotFound {
		t.Fatalf("after Remove the keyring answers %v", err)
	}
	if s.tokenState.Text != lang.L("settings.token.none") || s.status.Text != lang.L("settings.token.removed") {
		t.Errorf("after Remove: %q, status %q", s.tokenState.Text, s.status.Text)
	}
}

// TestSendTestSMS: Settings sends the harmless test text through the
// provider chosen in the form, to a number the user types, and says what
// happened; the demo provider is named as demo.
func TestSendTestSMS(t *testing.T) {
	fake := twiliotest.NewServer()
	t.Cleanup(fake.Close)
	h := osKeyringHarness(t, nil)
	h.setenv("KUVERT_TWILIO_API_URL", fake.URL)
	s := h.u.settings

	// Demo first: nothing reaches Twilio, and the result says demo.
	test.Type(s.testTo, "070-123 45 67")
	test.Tap(s.testSend)
	s.work.Wait()
	if !strings.HasPrefix(s.testResult.Text, lang.L("settings.test.demo", map[string]any{"To": sms.MaskNumber("+46701234567")})) || fake.Posts() != 0 {
		t.Fatalf("demo test SMS: %q (%d posts)", s.testResult.Text, fake.Posts())
	}
	if !strings.Contains(s.testResult.Text, "Inget lösenord") && !strings.Contains(s.testResult.Text, "No password") {
		t.Errorf("the demo result does not show the test text: %q", s.testResult.Text)
	}

	// Twilio, with the credentials typed but not yet saved.
	s.provider.SetSelectedIndex(1)
	s.sid.SetText(twiliotest.AccountSID)
	test.Type(s.token, twiliotest.AuthToken)
	s.from.SetText(twiliotest.From)
	s.organisation.SetText("Lönekontoret")
	test.Tap(s.testSend)
	s.work.Wait()
	m, ok := fake.LastTo("+46701234567")
	if !ok {
		t.Fatalf("nothing reached Twilio: %q", s.testResult.Text)
	}
	want, _ := sms.Render(sms.TestTemplate["sv"], map[string]string{"org": "Lönekontoret"})
	if m.Body != want || m.From != twiliotest.From {
		t.Errorf("Twilio got %q from %q, want %q", m.Body, m.From, want)
	}
	if !strings.HasPrefix(s.testResult.Text, lang.L("settings.test.sent", map[string]any{"To": sms.MaskNumber("+46701234567"), "Status": "", "ID": ""})[:12]) ||
		!strings.Contains(s.testResult.Text, m.SID) || strings.Contains(s.testResult.Text, "701234567") {
		t.Errorf("after sending: %q", s.testResult.Text)
	}

	// A refusal is shown with Twilio's code.
	fake.RefuseNumber("+46701234568", 21608)
	s.testTo.SetText("0701234568")
	test.Tap(s.testSend)
	s.work.Wait()
	if !strings.HasPrefix(s.testResult.Text, lang.L("settings.test.failed")) || !strings.Contains(s.testResult.Text, "21608") {
		t.Errorf("refused: %q", s.testResult.Text)
	}
	// A landline is explained and nothing is sent.
	posts := fake.Posts()
	s.testTo.SetText("08-123 456 78")
	test.Tap(s.testSend)
	s.work.Wait()
	if fake.Posts() != posts || !strings.HasPrefix(s.testResult.Text, "⚠") {
		t.Errorf("landline: %q, %d posts", s.testResult.Text, fake.Posts()-posts)
	}
	// The form's credentials were only used, not saved.
	if _, err := keyring.Get(keyringService, settings.TwilioAuthTokenKey); err != keyring.ErrNotFound {
		t.Errorf("the test SMS stored the token: %v", err)
	}
}

// The recipient page's address is a setting; the preview shows the text
// with the link, and an address that is not plain https is named as the
// problem before anything is saved or sent.
func TestSettingsOpenerURL(t *testing.T) {
	h := newHarness(t, nil)
	s := h.u.settings
	s.organisation.SetText("Sundsvalls kommun")
	s.openerURL.SetText("https://sundsvall.se/oppna")
	if !strings.Contains(s.preview.Text, "sundsvall.se/oppna") {
		t.Fatalf("preview %q", s.preview.Text)
	}
	s.openerURL.SetText("http://sundsvall.se/oppna")
	if !strings.HasPrefix(s.segments.Text, "⚠") || !strings.Contains(s.segments.Text, "https") {
		t.Fatalf("an http address is not flagged: %q", s.segments.Text)
	}
	s.save()
	if s.status.Text != lang.L("settings.opener.bad") {
		t.Fatalf("an http address saved: %q", s.status.Text)
	}
	if cfg, _ := config.Load(h.home); cfg.OpenerURL != "" {
		t.Fatalf("saved %q", cfg.OpenerURL)
	}
	s.openerURL.SetText("https://sundsvall.se/oppna")
	s.save()
	if cfg, err := config.Load(h.home); err != nil || cfg.OpenerURL != "https://sundsvall.se/oppna" {
		t.Fatalf("saved %+v %v", cfg, err)
	}
}
