package crypt

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	agetest "c2sp.org/CCTV/age"
	"filippo.io/age"
)

// TestCCTVVectors runs the C2SP age test vectors through kuvert's opening
// path: every "success" must extract to the expected payload, every
// failure must fail with nothing left on disk.
func TestCCTVVectors(t *testing.T) {
	names, err := fs.ReadDir(agetest.Vectors, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range names {
		name := de.Name()
		t.Run(name, func(t *testing.T) {
			raw, _ := fs.ReadFile(agetest.Vectors, name)
			hdr, body, _ := bytes.Cut(raw, []byte("\n\n"))
			var expect, payload, pass string
			var ids []age.Identity
			compressed := false
			for _, line := range strings.Split(string(hdr), "\n") {
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "expect":
					expect = v
				case "payload":
					payload = v
				case "passphrase":
					pass = v
				case "compressed":
					compressed = v == "zlib"
				case "identity":
					id, err := age.ParseIdentities(strings.NewReader(v))
					if err != nil {
						t.Fatalf("identity: %v", err)
					}
					ids = append(ids, id...)
				}
			}
			if compressed {
				zr, err := zlib.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			dir := t.TempDir()
			arch := filepath.Join(dir, "vector.age")
			os.WriteFile(arch, body, 0o644)
			dest := filepath.Join(dir, "out")
			res, err := Extract(context.Background(), arch, ExtractOptions{Dest: dest, OpenOptions: OpenOptions{Credentials: Credentials{Password: pass, Identities: ids}}})
			if expect == "success" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				got, _ := os.ReadFile(filepath.Join(res.Dest, "vector"))
				sum := sha256.Sum256(got)
				if hex.EncodeToString(sum[:]) != payload {
					t.Fatal("payload hash differs")
				}
				return
			}
			if err == nil {
				t.Fatalf("want %s, got success", expect)
			}
			if expect == "no match" && !errors.Is(err, ErrWrongPassword) {
				t.Errorf("no match: err = %v, want ErrWrongPassword", err)
			}
			if expect == "payload failure" && !errors.Is(err, ErrDamaged) {
				t.Errorf("payload failure: err = %v, want ErrDamaged", err)
			}
			assertNothingLeft(t, dest)
		})
	}
}

func TestAgeBundleRoundTrip(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Date(2026, 1, 2, 3, 4, 6, 0, time.Local)
	files := map[string][]byte{
		"lönelista.csv": csvLike(50 << 10),
		"ärende.pdf":    randomBytes(t, 10<<10),
	}
	var paths []string
	for n, b := range files {
		writeFile(t, filepath.Join(dir, n), b, mtime)
		paths = append(paths, filepath.Join(dir, n))
	}
	id, _ := age.GenerateX25519Identity()
	ins, _, _ := CollectInputs(paths)
	out := filepath.Join(dir, "paket.zip.age")
	res, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatAge, Recipients: []age.Recipient{id.Recipient()}, Armor: true})
	if err != nil || res.Format != "age-x25519" {
		t.Fatalf("%v %+v", err, res)
	}
	got, err := Extract(context.Background(), out, ExtractOptions{OpenOptions: OpenOptions{Credentials: Credentials{Identities: []age.Identity{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, got.Dest, files, mtime)

	// A single .zip file sealed alone comes back as that zip, unopened.
	zipIn := filepath.Join(dir, "bilagor.zip")
	writeFile(t, zipIn, []byte("PK\x05\x06"+strings.Repeat("\x00", 18)), time.Time{})
	ins, _, _ = CollectInputs([]string{zipIn})
	out = filepath.Join(dir, "bilagor.zip.age")
	if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatAge, Recipients: []age.Recipient{id.Recipient()}}); err != nil {
		t.Fatal(err)
	}
	got, err = Extract(context.Background(), out, ExtractOptions{OpenOptions: OpenOptions{Credentials: Credentials{Identities: []age.Identity{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	if left := listDir(t, got.Dest); len(left) != 1 || left[0] != "bilagor.zip" {
		t.Fatalf("got %v", left)
	}
}

func TestAgePostQuantumRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("hemligt"), time.Time{})
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRecipient(id.Recipient().String())
	if err != nil {
		t.Fatal(err)
	}
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "a.txt")})
	res, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: filepath.Join(dir, "a.txt.age"), Format: FormatAge, Recipients: []age.Recipient{r}})
	if err != nil || res.Format != "age-pq" {
		t.Fatalf("%v %+v", err, res)
	}
	entries, err := Verify(context.Background(), res.Archive, OpenOptions{Credentials: Credentials{Identities: []age.Identity{id}}})
	if err != nil || len(entries) != 1 || entries[0].Name != "a.txt" {
		t.Fatalf("%v %v", entries, err)
	}
}

func TestAgeFailures(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(t, 200<<10)
	writeFile(t, filepath.Join(dir, "a.bin"), data, time.Time{})
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "a.bin")})
	arch := filepath.Join(dir, "a.bin.age")
	if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: arch, Format: FormatAge, Recipients: []age.Recipient{id.Recipient()}}); err != nil {
		t.Fatal(err)
	}
	open := func(ids ...age.Identity) error {
		_, err := Extract(context.Background(), arch, ExtractOptions{Dest: filepath.Join(dir, "out"), OpenOptions: OpenOptions{Credentials: Credentials{Identities: ids}}})
		assertNothingLeft(t, filepath.Join(dir, "out"))
		return err
	}
	if err := open(other); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong key: %v", err)
	}
	if err := open(); !errors.Is(err, ErrNeedPassword) {
		t.Fatalf("no key: %v", err)
	}
	orig, _ := os.ReadFile(arch)
	for _, pos := range []int{len(orig) - 5, len(orig) / 2, 300} {
		b := bytes.Clone(orig)
		b[pos] ^= 1
		os.WriteFile(arch, b, 0o644)
		if err := open(id); !errors.Is(err, ErrDamaged) {
			t.Fatalf("flip at %d: %v", pos, err)
		}
	}
	for _, n := range []int{len(orig) - 1, len(orig) - 64<<10, 200} {
		os.WriteFile(arch, orig[:n], 0o644)
		if err := open(id); !errors.Is(err, ErrDamaged) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.txt")
	writeFile(t, p, []byte("hello"), time.Time{})
	if _, err := Inspect(p); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("plain text: %v", err)
	}
	pw := mustPassword(t)
	out := filepath.Join(dir, "x.txt.age")
	sealFiles(t, out, FormatAge, pw, p)
	info, err := Inspect(out)
	if err != nil || info.Kind != KindAge || !info.Passphrase {
		t.Fatalf("%+v %v", info, err)
	}
	if _, err := Verify(context.Background(), out, OpenOptions{}); !errors.Is(err, ErrNeedPassword) {
		t.Fatalf("no password: %v", err)
	}
	if _, err := Verify(context.Background(), out, OpenOptions{Credentials: Credentials{Password: "fel"}}); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}
