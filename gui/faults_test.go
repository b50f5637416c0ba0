package gui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/fault/faulttest"
)

// Every fault code the core declares has the app's words in both
// languages, and the Swedish is Swedish, not the English copied over.
func TestFaultCatalogHasEveryCode(t *testing.T) {
	sv, en := loadTranslations(t, "sv.json"), loadTranslations(t, "en.json")
	codes := faulttest.Codes(t)
	for c, where := range codes {
		key := "fault." + string(c)
		s, e := sv[key], en[key]
		if s == "" || e == "" {
			t.Errorf("%s (%q): sv.json %q, en.json %q", where, c, s, e)
			continue
		}
		if s == e {
			t.Errorf("%s: the same text in both languages: %q", key, s)
		}
	}
	for _, m := range []map[string]string{sv, en} {
		for k := range m {
			if c, ok := strings.CutPrefix(k, "fault."); ok {
				if _, known := codes[fault.Code(c)]; !known {
					t.Errorf("%s: no core package declares that code", k)
				}
			}
		}
	}
}

// A clerk with the app in Swedish reads a manifest's problems in Swedish
// only: batch returns codes, the app words them.
func TestBatchProblemsInTheWindowsLanguage(t *testing.T) {
	h := newHarness(t, &config.Config{AppLanguage: "sv", SMS: config.SMS{Provider: "outbox:" + filepath.Join(t.TempDir(), "sms.jsonl"), Sender: "Lönekontoret"}})
	h.u.SelectTab("batch")
	v := h.u.batch
	p := writeManifest(t, h.workDir, "fil;mobil;namn", []string{
		"anna.pdf;070-123 45 67;Anna",
		"saknas.pdf;070-123 45 68;Bo",
		"anna.pdf;;Cecilia",
	}, "anna.pdf")
	v.LoadManifest(p)
	table := batchTable(v)
	for _, want := range []string{"fil saknas.pdf: saknas", "inget mobilnummer"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	for _, english := range []string{"missing", "no mobile number", "batch."} {
		if strings.Contains(table, english) {
			t.Errorf("the Swedish table says %q:\n%s", english, table)
		}
	}
}
