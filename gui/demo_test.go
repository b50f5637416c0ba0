package gui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// resultTexts is every label in the seal view's result dialog.
func resultTexts(v *sealView) string {
	var texts []string
	for _, o := range test.LaidOutObjects(v.result) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// TestDemoProviderNamedAsDemo: with the demo provider nothing is sent,
// and the window says so before and after, in its own words.
func TestDemoProviderNamedAsDemo(t *testing.T) {
	h := newHarness(t, nil) // no provider configured: the console demo
	v := h.u.seal
	h.drop(h.file("lista.txt", "x"))
	test.Type(v.phone, "070-123 45 67")
	if v.primary.Text != lang.L("seal.button.demo") || strings.Contains(strings.ToLower(v.primary.Text), "skicka lösenord") {
		t.Errorf("demo provider: the button reads %q, want %q", v.primary.Text, lang.L("seal.button.demo"))
	}
	if v.phoneInfo.Text != lang.L("seal.phone.demo", map[string]any{"Number": "+46701234567"}) {
		t.Errorf("demo provider: under the number %q", v.phoneInfo.Text)
	}
	if v.primary.Disabled() {
		t.Fatal("demo sealing is disabled")
	}
	shown := v.form.Generated.Value
	test.Tap(v.primary)
	v.work.Wait()
	all := resultTexts(v)
	for _, bad := range []string{"┌", "│", "docs/sms.md", strings.Split(lang.L("result.sms", map[string]any{"To": "@", "Status": ""}), "@")[0]} {
		if strings.Contains(all, bad) {
			t.Errorf("the demo result holds %q:\n%s", bad, all)
		}
	}
	es := h.entries()
	if len(es) != 2 || es[0].Delivery == nil {
		t.Fatalf("log: %+v", es)
	}
	ref := es[0].Delivery.Ref
	if !strings.Contains(all, lang.L("result.demo.title")) || !strings.Contains(all, ref) {
		t.Errorf("the demo result does not name the demo or the reference:\n%s", all)
	}
	// The text that would have gone, as the provider was given it.
	if !strings.Contains(all, "Ref "+ref+": "+shown) {
		t.Errorf("the demo result does not show the message:\n%s", all)
	}
	// Nothing was sent, so the password must be shown: the user gives it
	// to the recipient another way.
	if !strings.Contains(all, lang.L("result.password", map[string]any{"Password": shown})) {
		t.Errorf("the demo result does not show the password:\n%s", all)
	}
	// The log view never calls the demo text sent: neither the SMS row's
	// event nor its state, nor the sealing's.
	h.u.SelectTab("log")
	lv := h.u.logv
	lv.refresh()
	if len(lv.entries) != 2 {
		t.Fatalf("log view: %d rows", len(lv.entries))
	}
	for i := range lv.entries {
		line := entryLine(&lv.entries[i])
		if !strings.Contains(line, "demo (ej skickat)") || strings.Contains(strings.ReplaceAll(line, "ej skickat", ""), "skickat") {
			t.Errorf("log row %d: %q", i, line)
		}
	}
}

// TestDemoLabelFollowsSettings: choosing Twilio in Settings turns the
// demo wording off without a restart, and choosing Demo turns it on.
func TestDemoLabelFollowsSettings(t *testing.T) {
	h := newHarness(t, nil)
	v, s := h.u.seal, h.u.settings
	h.drop(h.file("a.txt", "x"))
	test.Type(v.phone, "0701234567")
	if v.primary.Text != lang.L("seal.button.demo") {
		t.Fatalf("no provider: button %q", v.primary.Text)
	}
	s.provider.SetSelectedIndex(1) // Twilio
	s.from.SetText("Kommunen")
	s.save()
	if v.primary.Text != lang.L("seal.button.send") || v.phoneInfo.Text != lang.L("seal.phone.ok", map[string]any{"Number": "+46701234567"}) {
		t.Errorf("after choosing Twilio: button %q, hint %q", v.primary.Text, v.phoneInfo.Text)
	}
	s.provider.SetSelectedIndex(0)
	s.save()
	h.u.SelectTab("settings")
	h.u.SelectTab("seal")
	if v.primary.Text != lang.L("seal.button.demo") {
		t.Errorf("after choosing Demo again: button %q", v.primary.Text)
	}
}
