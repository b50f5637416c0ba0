package crypt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	yzip "github.com/yeka/zip"
)

// overlapZip builds an overlap bomb: one real AES entry, and
// n central-directory records with different names that all point at its
// local header, so every entry decrypts and verifies from the same bytes.
// The base entry is 1 MiB of zeros (deflated to about 1 KB), just at the
// size below which the per-entry ratio check used to look away.
func overlapZip(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := yzip.NewWriter(&buf)
	fh := &yzip.FileHeader{Name: "f00000.bin", Method: yzip.Deflate}
	fh.SetPassword("pw")
	fh.SetEncryptionMethod(yzip.AES256Encryption)
	w, err := zw.CreateHeader(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 1<<20))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return repeatCentral(t, buf.Bytes(), n)
}

// repeatCentral rewrites a one-entry zip so that its central directory
// holds n copies of the entry's record, named f00000.bin, f00001.bin, …
func repeatCentral(t testing.TB, b []byte, n int) []byte {
	t.Helper()
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	if eocd < 0 || binary.LittleEndian.Uint16(b[eocd+10:]) != 1 {
		t.Fatal("want a one-entry zip")
	}
	cdOff := int(binary.LittleEndian.Uint32(b[eocd+16:]))
	rec := b[cdOff:eocd]
	nameLen := int(binary.LittleEndian.Uint16(rec[28:]))
	var cd bytes.Buffer
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%05d.bin", i)
		r := append(bytes.Clone(rec[:46]), name...)
		binary.LittleEndian.PutUint16(r[28:], uint16(len(name)))
		r = append(r, rec[46+nameLen:]...)
		cd.Write(r)
	}
	out := append(bytes.Clone(b[:cdOff]), cd.Bytes()...)
	end := bytes.Clone(b[eocd : eocd+22])
	binary.LittleEndian.PutUint16(end[8:], uint16(n))
	binary.LittleEndian.PutUint16(end[10:], uint16(n))
	binary.LittleEndian.PutUint32(end[12:], uint32(cd.Len()))
	binary.LittleEndian.PutUint32(end[16:], uint32(cdOff))
	binary.LittleEndian.PutUint16(end[20:], 0)
	return append(out, end...)
}

// Entries that share their bytes are refused by every opening path
// before anything is decrypted: List, Verify and Extract.
func TestOverlappingEntriesRefused(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "bomb.zip")
	b := overlapZip(t, 64)
	if err := os.WriteFile(arch, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := List(arch, OpenOptions{}); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("list: err = %v, want ErrUnsafe (overlap)", err)
	}
	if _, err := Verify(t.Context(), arch, OpenOptions{Credentials: Credentials{Password: "pw"}}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("verify: err = %v, want ErrUnsafe", err)
	}
	dest := filepath.Join(dir, "out")
	if _, err := extractTo(arch, dest, "pw", Limits{}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("extract: err = %v, want ErrUnsafe", err)
	}
	assertNothingLeft(t, dest)

	// The same bytes with one record are an ordinary archive.
	one := filepath.Join(dir, "one.zip")
	os.WriteFile(one, overlapZip(t, 1), 0o644)
	if _, err := Verify(t.Context(), one, OpenOptions{Credentials: Credentials{Password: "pw"}}); err != nil {
		t.Fatalf("one entry: %v", err)
	}
}

// An entry whose data reaches into the central directory is refused.
func TestOverlapIntoDirectoryRefused(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "x.zip")
	craftZip(t, arch, "pw", map[string][]byte{"a.txt": []byte("hej hej hej")}, yzip.Store)
	b, _ := os.ReadFile(arch)
	// Claim a compressed size that runs into the central directory, and
	// keep the local header's copy consistent.
	c := centralRecords(b)[0]
	csize := binary.LittleEndian.Uint32(b[c+20:])
	binary.LittleEndian.PutUint32(b[c+20:], csize+20)
	os.WriteFile(arch, b, 0o644)
	if _, err := List(arch, OpenOptions{}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("err = %v, want ErrUnsafe", err)
	}
}

// The total declared output is bounded against the archive's size, not
// only each entry over 1 MiB: many small entries that each compress
// very well add up to a bomb too.
func TestTotalRatioBounded(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "many.zip")
	many := map[string][]byte{}
	for i := 0; i < 20; i++ {
		many[fmt.Sprintf("z%02d.bin", i)] = make([]byte, 512<<10)
	}
	craftZip(t, arch, "pw", many, yzip.Deflate)
	lim := Limits{MaxEntries: 100, MaxTotal: 1 << 30, MaxRatio: 100}
	if _, err := List(arch, OpenOptions{Limits: lim}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("list: err = %v, want ErrUnsafe", err)
	}
	dest := filepath.Join(dir, "out")
	if _, err := extractTo(arch, dest, "pw", lim); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("extract: err = %v, want ErrUnsafe", err)
	}
	assertNothingLeft(t, dest)

	// Small archives are not held to the ratio: up to 1 MiB in all is fine
	// whatever it compresses to.
	few := map[string][]byte{"a.bin": make([]byte, 300<<10), "b.bin": make([]byte, 300<<10)}
	craftZip(t, arch, "pw", few, yzip.Deflate)
	if _, err := extractTo(arch, filepath.Join(dir, "few"), "pw", lim); err != nil {
		t.Fatalf("small archive: %v", err)
	}
}

// toZip64 rewrites a small zip the way a zip64 writer lays out a large
// one: every central record's sizes and header offset moved into a zip64
// extra field, and a zip64 end record and locator before the end record, whose
// own offset and count then say 0xffffffff and 0xffff.
func toZip64(t testing.TB, b []byte) []byte {
	t.Helper()
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	count := int(binary.LittleEndian.Uint16(b[eocd+10:]))
	cdOff := int(binary.LittleEndian.Uint32(b[eocd+16:]))
	dir := b[cdOff:eocd]
	var cd bytes.Buffer
	for i := 0; i < count; i++ {
		n := int(binary.LittleEndian.Uint16(dir[28:]))
		m := int(binary.LittleEndian.Uint16(dir[30:]))
		k := int(binary.LittleEndian.Uint16(dir[32:]))
		rec := bytes.Clone(dir[:46+n+m+k])
		// All three fields, as zip64 writers do for large archives (and as
		// yeka/zip, which reads them by position, understands).
		csize := binary.LittleEndian.Uint32(rec[20:])
		usize := binary.LittleEndian.Uint32(rec[24:])
		off := binary.LittleEndian.Uint32(rec[42:])
		for _, at := range []int{20, 24, 42} {
			binary.LittleEndian.PutUint32(rec[at:], 0xffffffff)
		}
		binary.LittleEndian.PutUint16(rec[30:], uint16(m+28))
		x := binary.LittleEndian.AppendUint16(nil, 0x0001)
		x = binary.LittleEndian.AppendUint16(x, 24)
		x = binary.LittleEndian.AppendUint64(x, uint64(usize))
		x = binary.LittleEndian.AppendUint64(x, uint64(csize))
		x = binary.LittleEndian.AppendUint64(x, uint64(off))
		cd.Write(rec[:46+n+m])
		cd.Write(x)
		cd.Write(rec[46+n+m:])
		dir = dir[46+n+m+k:]
	}
	out := append(bytes.Clone(b[:cdOff]), cd.Bytes()...)
	z64 := len(out)
	le := binary.LittleEndian
	rec := le.AppendUint32(nil, 0x06064b50)
	rec = le.AppendUint64(rec, 44)
	rec = le.AppendUint16(rec, 45)
	rec = le.AppendUint16(rec, 45)
	rec = le.AppendUint32(rec, 0)
	rec = le.AppendUint32(rec, 0)
	rec = le.AppendUint64(rec, uint64(count))
	rec = le.AppendUint64(rec, uint64(count))
	rec = le.AppendUint64(rec, uint64(cd.Len()))
	rec = le.AppendUint64(rec, uint64(cdOff))
	rec = le.AppendUint32(rec, 0x07064b50)
	rec = le.AppendUint32(rec, 0)
	rec = le.AppendUint64(rec, uint64(z64))
	rec = le.AppendUint32(rec, 1)
	out = append(out, rec...)
	end := bytes.Clone(b[eocd : eocd+22])
	le.PutUint16(end[8:], 0xffff)
	le.PutUint16(end[10:], 0xffff)
	le.PutUint32(end[12:], uint32(cd.Len()))
	le.PutUint32(end[16:], 0xffffffff)
	le.PutUint16(end[20:], 0)
	return append(out, end...)
}

// The layout check follows zip64 directories (7-Zip and WinZip write them
// for archives over 4 GiB): an honest one opens, an overlapping one does
// not.
func TestZip64LayoutChecked(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), csvLike(3000), time.Time{})
	writeFile(t, filepath.Join(dir, "b.pdf"), randomBytes(t, 300), time.Time{})
	arch := filepath.Join(dir, "x.zip")
	pw := mustPassword(t)
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.pdf"))
	b, _ := os.ReadFile(arch)
	z := filepath.Join(dir, "z64.zip")
	os.WriteFile(z, toZip64(t, b), 0o644)
	if entries, err := Verify(t.Context(), z, OpenOptions{Credentials: Credentials{Password: pw.Value}}); err != nil || len(entries) != 2 {
		t.Fatalf("honest zip64: %v %v", entries, err)
	}
	os.WriteFile(z, toZip64(t, overlapZip(t, 4)), 0o644)
	if _, err := List(z, OpenOptions{}); !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "overlap") {
		t.Fatalf("overlapping zip64: %v", err)
	}
}
