package crypt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestZipRoundTrip(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 3, 12, 9, 30, 0, 0, time.Local)
	csv := csvLike(300 << 10)
	pdf := randomBytes(t, 100<<10)
	writeFile(t, filepath.Join(dir, "in", "lönelista_åäö.csv"), csv, mtime)
	writeFile(t, filepath.Join(dir, "in", "sub", "intyg.pdf"), pdf, mtime)
	writeFile(t, filepath.Join(dir, "in", "tom.txt"), nil, mtime)
	pw := mustPassword(t)
	out := filepath.Join(dir, "in.zip")
	res := sealFiles(t, out, FormatZip, pw, filepath.Join(dir, "in"))
	if res.Format != "zip-aes256" || len(res.Files) != 3 || res.Size == 0 || len(res.SHA256) != 64 {
		t.Fatalf("unexpected result %+v", res)
	}
	if left := listDir(t, dir); len(left) != 6 { // in, 3 files, sub, in.zip
		t.Fatalf("temporary files left: %v", left)
	}
	got, err := Extract(context.Background(), out, ExtractOptions{OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Dest != filepath.Join(dir, "in (2)") {
		t.Fatalf("dest = %s", got.Dest) // "in" exists, so a new folder is chosen
	}
	for name, want := range map[string][]byte{"in/lönelista_åäö.csv": csv, "in/sub/intyg.pdf": pdf, "in/tom.txt": {}} {
		p := filepath.Join(got.Dest, filepath.FromSlash(name))
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("%s: content differs (%v)", name, err)
		}
		fi, _ := os.Stat(p)
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", name, fi.ModTime(), mtime)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, fi.Mode())
		}
	}
}

func TestZipMethodChoice(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct {
		data []byte
		want uint16
	}{
		"a.csv":      {csvLike(100 << 10), 8},
		"b.pdf":      {csvLike(100 << 10), 0}, // by extension, even if compressible
		"c.bin":      {randomBytes(t, 100<<10), 0},
		"d.txt":      {[]byte("kort"), 8},
		"e.XLSX":     {randomBytes(t, 1000), 0},
		"empty.docx": {nil, 0},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		writeFile(t, p, c.data, time.Time{})
		if got := chooseMethod(Input{Path: p, Name: name, Size: int64(len(c.data))}); got != c.want {
			t.Errorf("%s: method %d, want %d", name, got, c.want)
		}
	}
}

func TestZipWrongPassword(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), csvLike(10000), time.Time{})
	out := filepath.Join(dir, "a.zip")
	sealFiles(t, out, FormatZip, mustPassword(t), filepath.Join(dir, "a.csv"))
	dest := filepath.Join(dir, "out")
	_, err := Extract(context.Background(), out, ExtractOptions{Dest: dest, OpenOptions: OpenOptions{Credentials: Credentials{Password: "fel-lösenord"}}})
	if !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("err = %v, want ErrWrongPassword", err)
	}
	if strings.Contains(err.Error(), "fel-lösenord") {
		t.Fatal("error contains the password")
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatal("output folder left behind")
	}
}
