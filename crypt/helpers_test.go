package crypt

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	yzip "github.com/yeka/zip"
)

// needTool returns the path of an external peer (7zz, age, bsdtar). In CI
// (CI=true) a missing tool fails the test: the interop proof must not
// silently vanish. On a developer's machine it skips.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI but not installed (make deps installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func writeFile(t testing.TB, path string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// csvLike returns text that compresses like a payroll list.
func csvLike(n int) []byte {
	var b bytes.Buffer
	b.WriteString("anställningsnummer;namn;enhet;månadslön\n")
	for i := 0; b.Len() < n; i++ {
		b.WriteString("10")
		b.WriteString(string(rune('0' + i%10)))
		b.WriteString(";Åsa Öberg;Förvaltning ")
		b.WriteString(string(rune('A' + i%26)))
		b.WriteString(";3")
		b.WriteString(string(rune('0' + (i*7)%10)))
		b.WriteString("500\n")
	}
	return b.Bytes()[:n]
}

func mustPassword(t testing.TB) Password {
	t.Helper()
	p, err := Generate(GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sealFiles(t testing.TB, out string, f Format, pw Password, paths ...string) *SealResult {
	t.Helper()
	ins, _, err := CollectInputs(paths)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: f, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if f == FormatZip {
		yekaOpensAll(t, out, pw.Value)
	}
	return res
}

// yekaOpensAll reads every entry of an AES zip kuvert wrote with
// yeka/zip, the independent implementation: its MAC check must pass.
func yekaOpensAll(t testing.TB, path, password string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	zr, err := yzip.NewReader(f, st.Size())
	if err != nil {
		t.Fatalf("yeka/zip: %v", err)
	}
	for _, e := range zr.File {
		if !e.IsEncrypted() {
			t.Fatalf("yeka/zip: %s is not encrypted", e.Name)
		}
		e.SetPassword(password)
		rc, err := e.Open()
		if err != nil {
			t.Fatalf("yeka/zip: %s: %v", e.Name, err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(e.UncompressedSize64) {
			t.Fatalf("yeka/zip: %s: %d bytes, %v", e.Name, n, err)
		}
	}
}

// listDir returns every path under dir, relative, for "nothing left behind"
// assertions.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func run(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8") // for å ä ö in bsdtar and 7zz
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}
