//go:build linux

package desktop

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeXdgOpen puts an xdg-open first on PATH that records its arguments
// and exits with code.
func fakeXdgOpen(t *testing.T, code string) string {
	t.Helper()
	bin := t.TempDir()
	rec := filepath.Join(bin, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + rec + "'\nexit " + code + "\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return rec
}

func TestOpenAndReveal(t *testing.T) {
	rec := fakeXdgOpen(t, "0")
	dir := filepath.Join(t.TempDir(), "Lönelistor 2026")
	os.Mkdir(dir, 0o755)
	eml := filepath.Join(dir, "lönelista.zip.eml")
	os.WriteFile(eml, []byte("X-Unsent: 1\r\n"), 0o644)
	if err := Open(eml); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(rec); strings.TrimSpace(string(b)) != eml {
		t.Errorf("xdg-open got %q, want %q", b, eml)
	}
	if err := Reveal(eml); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(rec); strings.TrimSpace(string(b)) != dir {
		t.Errorf("xdg-open got %q, want the folder %q", b, dir)
	}
	if err := Open(filepath.Join(dir, "finns inte.eml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestOpenWithoutProgram(t *testing.T) {
	fakeXdgOpen(t, "3")
	eml := filepath.Join(t.TempDir(), "a.eml")
	os.WriteFile(eml, nil, 0o644)
	if err := Open(eml); !errors.Is(err, ErrNoAssociation) {
		t.Fatalf("with no program for .eml: %v", err)
	}
	t.Setenv("PATH", t.TempDir()) // no xdg-open at all
	if err := Open(eml); !errors.Is(err, ErrNoAssociation) {
		t.Fatalf("without xdg-open: %v", err)
	}
}
