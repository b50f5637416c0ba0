package crypt

import (
	stdzip "archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// flipInEntry flips one byte in the middle of the named entry's data.
func flipInEntry(t *testing.T, arch, name string) {
	t.Helper()
	b, err := os.ReadFile(arch)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := stdzip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			off, err := f.DataOffset()
			if err != nil {
				t.Fatal(err)
			}
			b[off+int64(f.CompressedSize64)/2] ^= 0x01
			if err := os.WriteFile(arch, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no entry %s in %s", name, arch)
}

// assertFiles checks that dir holds exactly want (relative path → content;
// folders are listed with "").
func assertFiles(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	got := listDir(t, dir)
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
	for n, content := range want {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.IsDir() {
			continue // folders are listed with ""
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != content {
			t.Errorf("%s = %q, want %q", n, b, content)
		}
	}
}

// With --force, an existing file must not be replaced
// before every entry verified. A later entry that fails its check used to
// leave the user with neither the old file nor the new one.
func TestForceKeepsExistingWhenALaterEntryFails(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("ny a"), time.Time{})
	writeFile(t, filepath.Join(dir, "b.csv"), csvLike(5000), time.Time{})
	arch := filepath.Join(dir, "x.zip")
	pw := mustPassword(t)
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"))
	flipInEntry(t, arch, "b.csv")

	dest := filepath.Join(dir, "ut")
	old := map[string]string{"a.csv": "gammal a", "b.csv": "gammal b", "mine.txt": "keep"}
	for n, c := range old {
		writeFile(t, filepath.Join(dest, n), []byte(c), time.Time{})
	}
	_, err := Extract(t.Context(), arch, ExtractOptions{Dest: dest, Force: true, OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("err = %v, want ErrDamaged", err)
	}
	assertFiles(t, dest, old)
}

// A target that is a folder is found before anything is replaced, not
// after the files before it were.
func TestForceKeepsExistingWhenATargetIsAFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("ny a"), time.Time{})
	writeFile(t, filepath.Join(dir, "b.csv"), []byte("ny b"), time.Time{})
	arch := filepath.Join(dir, "x.zip")
	pw := mustPassword(t)
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv"))

	dest := filepath.Join(dir, "ut")
	writeFile(t, filepath.Join(dest, "a.csv"), []byte("gammal a"), time.Time{})
	writeFile(t, filepath.Join(dest, "b.csv", "inne.txt"), []byte("i mappen"), time.Time{})
	_, err := Extract(t.Context(), arch, ExtractOptions{Dest: dest, Force: true, OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	assertFiles(t, dest, map[string]string{"a.csv": "gammal a", "b.csv/inne.txt": "i mappen", "b.csv": ""})
}

// With --force and every entry fine, all existing files are replaced and
// no temporary or backup file is left.
func TestForceReplacesAllWhenAllVerify(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in", "a.csv"), []byte("ny a"), time.Time{})
	writeFile(t, filepath.Join(dir, "in", "sub", "b.csv"), []byte("ny b"), time.Time{})
	arch := filepath.Join(dir, "x.zip")
	pw := mustPassword(t)
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "in"))

	dest := filepath.Join(dir, "ut")
	writeFile(t, filepath.Join(dest, "in", "a.csv"), []byte("gammal a"), time.Time{})
	writeFile(t, filepath.Join(dest, "mine.txt"), []byte("keep"), time.Time{})
	if _, err := Extract(t.Context(), arch, ExtractOptions{Dest: dest, Force: true, OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}}); err != nil {
		t.Fatal(err)
	}
	assertFiles(t, dest, map[string]string{"in": "", "in/sub": "", "in/a.csv": "ny a", "in/sub/b.csv": "ny b", "mine.txt": "keep"})
}
