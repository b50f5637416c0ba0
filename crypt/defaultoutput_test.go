package crypt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A default archive name carries no part of a personnummer: the masked
// form's birth date is personal data too (issue 12: intyg_811218-xxxx.zip).
func TestDefaultOutputNoPersonnummer(t *testing.T) {
	dir := t.TempDir()
	for name, want := range map[string]string{
		"intyg_811218-9876.pdf":          "intyg.zip",
		"811218-9876.pdf":                "bilagor.zip",
		"intyg 8112189876 Andersson.pdf": "intyg Andersson.zip",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o644)
		ins, _, err := CollectInputs([]string{p})
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Base(DefaultOutput(ins, FormatZip, false, []string{p}))
		if out != want || strings.Contains(out, "811218") {
			t.Errorf("%s → %s, want %s", name, out, want)
		}
		if age := filepath.Base(DefaultOutput(ins, FormatAge, false, []string{p})); age != strings.TrimSuffix(want, ".zip")+".pdf.age" {
			t.Errorf("%s → %s (age)", name, age)
		}
	}
}
