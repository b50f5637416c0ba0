package batch

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// A crafted archive or recipient name cannot become a formula when
// report.csv is opened in Excel: every such cell
// starts with an apostrophe. ("|" and other characters Windows forbids
// no longer pass the naming rule at all.)
func TestReportFormulaSafe(t *testing.T) {
	e := newEnv(t)
	outputs := []string{"=cmd!A0.zip", "+x.zip", "-2+3.zip", "@SUM(1).zip"}
	p := manifestWith(t, e.dir, outputs...)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), ";Anställd;", ";=1+1;", 1)), 0o644)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || len(m.Rows) != 4 {
		t.Fatalf("%v %v", err, m.Problems)
	}
	if _, err := e.run(t, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "ut", "report.csv"))
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil || len(recs) != 5 || recs[0][3] != "arkiv" || recs[0][1] != "namn" {
		t.Fatalf("%v\n%s", err, raw)
	}
	for i, rec := range recs[1:] {
		if rec[3] != "'"+outputs[i] {
			t.Errorf("arkiv cell %q, want %q", rec[3], "'"+outputs[i])
		}
	}
	if recs[1][1] != "'=1+1" {
		t.Errorf("namn cell %q", recs[1][1])
	}
}

// A row's default archive name follows the one naming rule: no part of a
// personnummer, from the name column or the first file.
func TestDefaultNameNoPersonnummer(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "intyg_811218-9876.pdf"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.pdf"), []byte("x"), 0o644)
	man := "fil;mobil;namn\n" +
		"intyg_811218-9876.pdf;070-123 45 67;\n" +
		"b.pdf;070-123 45 68;Bo 811218-9876\n" +
		"b.pdf;070-123 45 69;Cia: <chef>\n"
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(man), 0o644)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 {
		t.Fatalf("%v %v", err, m.Problems)
	}
	want := []string{"intyg_rad2.zip", "Bo_rad3.zip", "Cia_ _chef__rad4.zip"}
	for i, r := range m.Rows {
		if r.Output != want[i] {
			t.Errorf("row %d: %q, want %q", r.Num, r.Output, want[i])
		}
	}
	m, _ = Load(p, LoadOptions{Format: crypt.FormatAge})
	if m.Rows[0].Output != "intyg_rad2.pdf.age" {
		t.Errorf("age: %q", m.Rows[0].Output)
	}
}
