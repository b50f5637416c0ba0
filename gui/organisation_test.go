package gui

import (
	"bytes"
	"os"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"github.com/kuvert-app/kuvert/config"
)

// TestOrganisationAskedOnFirstUse: with no organisation in config.json the
// Seal view asks for it; once saved (other settings kept) the question is
// gone and Settings shows it, and a window on a configured machine does
// not ask.
func TestOrganisationAskedOnFirstUse(t *testing.T) {
	h := newHarness(t, &config.Config{Operator: "Eva", SMS: config.SMS{Sender: "Lönekontoret"}})
	p := h.u.seal.org
	if !p.content.Visible() {
		t.Fatal("first use: the organisation is not asked for")
	}
	test.Tap(p.save)
	if p.status.Text != lang.L("org.empty") || !p.content.Visible() {
		t.Fatalf("an empty answer: %q", p.status.Text)
	}
	test.Type(p.entry, "  Exempelby kommun ")
	test.Tap(p.save)
	cfg, err := config.Load(h.home)
	if err != nil || cfg.Organisation != "Exempelby kommun" || cfg.Operator != "Eva" || cfg.SMS.Sender != "Lönekontoret" {
		t.Fatalf("saved %+v, %v", cfg, err)
	}
	if p.content.Visible() || h.u.settings.organisation.Text != "Exempelby kommun" {
		t.Errorf("after saving: prompt shown %v, Settings shows %q", p.content.Visible(), h.u.settings.organisation.Text)
	}
	// Settings edits the same field.
	s := h.u.settings
	s.organisation.SetText("Exempelby kommun, Löneenheten")
	s.save()
	if cfg, _ := config.Load(h.home); cfg.Organisation != "Exempelby kommun, Löneenheten" {
		t.Errorf("Settings saved organisation %q", cfg.Organisation)
	}
	h2 := newHarness(t, &config.Config{Organisation: "Region Exempel"})
	if h2.u.seal.org.content.Visible() {
		t.Error("the organisation is asked for although it is set")
	}
	// Clearing it in Settings asks again.
	h2.u.settings.organisation.SetText("")
	h2.u.settings.save()
	if !h2.u.seal.org.content.Visible() {
		t.Error("the organisation was removed in Settings, and the Seal view does not ask")
	}
	// An unreadable config.json is not replaced from the prompt either.
	broken := []byte("{not json")
	os.WriteFile(config.Path(h2.home), broken, 0o600)
	h2.u.seal.org.entry.SetText("Region Exempel")
	h2.u.seal.org.submit()
	if b, _ := os.ReadFile(config.Path(h2.home)); !bytes.Equal(b, broken) {
		t.Errorf("the prompt wrote over an unreadable config.json: %s", b)
	}
}
