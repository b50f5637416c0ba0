package batch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
	"golang.org/x/text/encoding/charmap"
)

// Excel for Mac saves "CSV" in Mac Roman, which also decodes as
// Windows-1252 — into Œ Š š € … where it had å ä ö Ä Ö. Such a manifest
// stops before anything, with a Swedish message asking for "CSV UTF-8".
func TestMacRomanManifestRefused(t *testing.T) {
	for _, text := range []string{
		"Fil;Mobil;Namn;Diarienummer\r\nlönespec_åsa.pdf;070-123 45 67;Åsa Öberg;KS 2026/1\r\n",
		"Fil;Mobil;Namn\r\nb.pdf;070-123 45 67;Örjan Ärlig\r\n", // only Ö and Ä: € and … before a letter
		"Fil;Mobil;Namn\r\nb.pdf;070-123 45 67;Per Persson-Väg\r\n",
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "lönespec_åsa.pdf"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, "b.pdf"), []byte("x"), 0o644)
		enc, err := charmap.Macintosh.NewEncoder().String(text)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "m.csv")
		os.WriteFile(p, []byte(enc), 0o644)
		m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
		if !errors.Is(err, ErrEncoding) || !errors.Is(err, crypt.ErrInput) || !strings.Contains(err.Error(), "batch.encoding-improbable{") || !strings.Contains(err.Error(), "line=2") {
			t.Errorf("%q: %v %+v", text, err, m)
		}
	}
}

// What Windows-1252 manifests hold keeps working: Swedish and other
// Latin-1 letters, € and … where they belong, Excel's typographic quotes
// and dashes. A UTF-8 manifest already holding U+FFFD (letters lost
// before kuvert) is refused too.
func TestEncodingProbableText(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.pdf"), []byte("x"), 0o644)
	ok := "fil;mobil;namn;diarienummer\r\nb.pdf;070-123 45 67;Åsa Öberg-Ærø “Ü” – é…;KS 2026/1 €100\r\n"
	enc, _ := charmap.Windows1252.NewEncoder().String(ok)
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(enc), 0o644)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || m.Rows[0].Name != "Åsa Öberg-Ærø “Ü” – é…" || m.Rows[0].Case != "KS 2026/1 €100" {
		t.Fatalf("%v %+v", err, m)
	}
	os.WriteFile(p, []byte("fil;mobil;namn\nb.pdf;070-123 45 67;\uFFFDsa\n"), 0o644)
	if _, err := Load(p, LoadOptions{Format: crypt.FormatZip}); !errors.Is(err, ErrEncoding) || !strings.Contains(err.Error(), "batch.encoding-replaced{") {
		t.Fatalf("U+FFFD: %v", err)
	}
}
