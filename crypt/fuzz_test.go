package crypt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// A known-answer archive written by 7-Zip 26.02 (7zz a -tzip -mem=AES256),
// files modified 2025-06-01 10:00 UTC: 7-Zip's NTFS time field is used.
func TestKnownAnswer7Zip(t *testing.T) {
	res, err := Extract(context.Background(), "testdata/7zip-aes256.zip", ExtractOptions{Dest: filepath.Join(t.TempDir(), "out"), OpenOptions: OpenOptions{Credentials: Credentials{Password: "kuvert-test-7zip-aes"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"läsmig.txt":        "8c631a136b5622434a355065b282c871c09d70a78e3243d7548734db2753cc26",
		"lönelista_åäö.csv": "361471d175c8c820b8138ded13d5a3f95146bad57242bbe4ccb20cedaf66241a",
	}
	if len(res.Files) != len(want) {
		t.Fatalf("files: %v", res.Files)
	}
	for n, h := range want {
		b, err := os.ReadFile(filepath.Join(res.Dest, n))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != h {
			t.Errorf("%s: hash differs", n)
		}
	}
	for _, f := range res.Files {
		if f.Modified.Unix() != time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC).Unix() {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
	}
}

const fuzzIdentity = "AGE-SECRET-KEY-17EJCSWNU43N3KN0D0807QJFK5UUEGGM6LYP9VL2EWFWTLLJHYM2ST25620"

// fuzzOpen runs every opening path over arbitrary bytes: no panic, and a
// failed extraction leaves nothing behind.
func fuzzOpen(t *testing.T, data []byte, cred Credentials) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "in")
	if err := os.WriteFile(arch, data, 0o600); err != nil {
		t.Fatal(err)
	}
	lim := Limits{MaxEntries: 100, MaxTotal: 8 << 20, MaxRatio: 200}
	// Whatever is accepted stays within the bounds against bombs: the
	// total output is at most MaxRatio times the input (above 1 MiB), so
	// entries that share their bytes can never multiply it.
	bound := max(lim.MaxRatio*int64(len(data)), ratioFloor)
	if entries, err := List(arch, OpenOptions{Credentials: cred, Limits: lim}); err == nil {
		if sum := totalSize(entries); sum > bound {
			t.Fatalf("list accepted %d bytes of output from %d", sum, len(data))
		}
	}
	if entries, err := Verify(context.Background(), arch, OpenOptions{Credentials: cred, Limits: lim}); err == nil {
		if sum := totalSize(entries); sum > bound {
			t.Fatalf("verify accepted %d bytes of output from %d", sum, len(data))
		}
	}
	dest := filepath.Join(dir, "out")
	if _, err := Extract(context.Background(), arch, ExtractOptions{Dest: dest, OpenOptions: OpenOptions{Credentials: cred, Limits: lim}}); err != nil {
		if _, serr := os.Stat(dest); serr == nil {
			t.Fatalf("failed (%v) but left %s", err, dest)
		}
		for _, sentinel := range []error{ErrWrongPassword, ErrDamaged, ErrUnsafe, ErrUnsupported, ErrNeedPassword, ErrInput} {
			if errors.Is(err, sentinel) {
				return
			}
		}
		t.Fatalf("error outside the documented kinds: %v", err)
	}
	if left := listDir(t, dir); len(left) < 2 {
		t.Fatal("success but nothing extracted")
	}
}

func zipSeeds(t testing.TB) [][]byte {
	dir := t.(interface{ TempDir() string }).TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), csvLike(5000), time.Time{})
	writeFile(t, filepath.Join(dir, "b.pdf"), []byte("%PDF-1.4 x"), time.Time{})
	out := filepath.Join(dir, "a.zip")
	pw, _ := UserPassword("pw", true)
	sealFiles(t, out, FormatZip, pw, filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.pdf"))
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile("testdata/7zip-aes256.zip")
	// Entries sharing one local header and its data (overlapZip): the
	// fuzzer mutates from a bomb as well as from honest archives.
	return [][]byte{a, b, overlapZip(t, 8)}
}

func totalSize(entries []Entry) int64 {
	var n int64
	for _, e := range entries {
		n += e.Size
	}
	return n
}

func FuzzOpenZip(f *testing.F) {
	for _, s := range zipSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOpen(t, data, Credentials{Password: "pw"})
	})
}

func FuzzOpenAge(f *testing.F) {
	ids, err := age.ParseIdentities(strings.NewReader(fuzzIdentity))
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	writeFile(f, filepath.Join(dir, "a.csv"), csvLike(5000), time.Time{})
	writeFile(f, filepath.Join(dir, "b.txt"), []byte("två"), time.Time{})
	rcp := ids[0].(*age.X25519Identity).Recipient()
	for i, paths := range [][]string{{"a.csv"}, {"a.csv", "b.txt"}} {
		for _, armor := range []bool{false, true} {
			var full []string
			for _, p := range paths {
				full = append(full, filepath.Join(dir, p))
			}
			ins, _, _ := CollectInputs(full)
			out := filepath.Join(dir, "seed", string(rune('a'+i))+map[bool]string{true: "-armor", false: ""}[armor])
			os.MkdirAll(filepath.Dir(out), 0o755)
			if len(ins) > 1 {
				out += ".zip.age"
			}
			if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatAge, Recipients: []age.Recipient{rcp}, Armor: armor}); err != nil {
				f.Fatal(err)
			}
			b, _ := os.ReadFile(out)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzOpen(t, data, Credentials{Identities: ids})
	})
}
