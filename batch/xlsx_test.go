package batch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/kuvert-app/kuvert/crypt"
)

// The clerk's list as she has it: an Excel workbook, Swedish headers,
// the mobile number typed as a number (Excel drops its leading zero) and
// a second sheet that is not the list.
func TestWorkbookManifest(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"lönespec_åsa.pdf", "lönespec_örjan.pdf"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x := excelize.NewFile()
	sheet := x.GetSheetName(0)
	rows := [][]any{
		{"Fil", "Mobil", "Namn", "Diarienummer"},
		{"lönespec_åsa.pdf", "070-174 06 50", "Åsa Öberg", "KS 2026/1"},
		{"lönespec_örjan.pdf", 701740651, "Örjan Ärlig", "KS 2026/2"},
		{},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow(sheet, cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.NewSheet("Anteckningar"); err != nil {
		t.Fatal(err)
	}
	x.SetCellValue("Anteckningar", "A1", "inte listan")
	p := filepath.Join(dir, "Lönelista december.xlsx")
	if err := x.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || len(m.Rows) != 2 {
		t.Fatalf("%v %v %+v", err, m.Problems, m)
	}
	a, b := m.Rows[0], m.Rows[1]
	if a.Num != 2 || a.Name != "Åsa Öberg" || a.Case != "KS 2026/1" || a.Phone != "+46701740650" || filepath.Base(a.Files[0]) != "lönespec_åsa.pdf" {
		t.Errorf("row 2: %+v", a)
	}
	if b.Num != 3 || b.Name != "Örjan Ärlig" || b.Phone != "+46701740651" || filepath.Base(b.Files[0]) != "lönespec_örjan.pdf" {
		t.Errorf("row 3 (the number typed as a number): %+v", b)
	}
}

// A workbook that cannot be read — damaged, or saved with a password —
// is one clear refusal, never rows of garbage.
func TestWorkbookUnreadable(t *testing.T) {
	dir := t.TempDir()
	for name, raw := range map[string][]byte{
		"trasig.xlsx":   []byte("PK\x03\x04 this is no workbook"),
		"utan namn.csv": []byte("PK\x03\x04\x14\x00\x00\x00 not a zip either"),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p, LoadOptions{Format: crypt.FormatZip})
		if !errors.Is(err, ErrWorkbook) || !errors.Is(err, crypt.ErrInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
