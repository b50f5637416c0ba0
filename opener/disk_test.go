package opener

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// The page saved to disk (as an IT department may hand it out, checked
// against the published SHA-256) works from there: file://, no server.
func TestWorksFromDisk(t *testing.T) {
	dir := t.TempDir()
	pagePath := filepath.Join(dir, FileName)
	if err := os.WriteFile(pagePath, Page(), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []file{{"lönelista.csv", payroll(20<<10, 61)}}
	arch := seal(t, filepath.Join(dir, "lista.zip"), files, crypt.SealOptions{HideNames: true})
	tb := newTab(t, tabOptions{url: "file://" + pagePath})
	if r := tb.open(arch, testPassword, ""); r.Error != "" || len(r.Entries) != 1 {
		t.Fatalf("got %+v", r)
	}
	want(t, tb.save(1), files)
}
