package crypt

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
)

// Benchmarks of the core; scripts/bench.sh compares the whole CLI with
// 7-Zip and age. Run: go test -bench . -benchmem ./crypt

func benchInput(b *testing.B, name string, data []byte) []Input {
	dir := b.TempDir()
	p := filepath.Join(dir, name)
	writeFile(b, p, data, time.Time{})
	ins, _, err := CollectInputs([]string{p})
	if err != nil {
		b.Fatal(err)
	}
	return ins
}

func BenchmarkSealAgeX25519(b *testing.B) {
	ins := benchInput(b, "a.bin", randomBytes(b, 64<<20))
	id, _ := age.GenerateX25519Identity()
	out := filepath.Join(b.TempDir(), "a.age")
	b.SetBytes(64 << 20)
	for b.Loop() {
		os.Remove(out)
		if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatAge, Recipients: []age.Recipient{id.Recipient()}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealZipCSV(b *testing.B) {
	ins := benchInput(b, "a.csv", csvLike(32<<20))
	pw := mustPassword(b)
	out := filepath.Join(b.TempDir(), "a.zip")
	b.SetBytes(32 << 20)
	for b.Loop() {
		os.Remove(out)
		if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatZip, Password: pw}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealZipStored(b *testing.B) {
	ins := benchInput(b, "a.pdf", randomBytes(b, 64<<20))
	pw := mustPassword(b)
	out := filepath.Join(b.TempDir(), "a.zip")
	b.SetBytes(64 << 20)
	for b.Loop() {
		os.Remove(out)
		if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatZip, Password: pw}); err != nil {
			b.Fatal(err)
		}
	}
}
