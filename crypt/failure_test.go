package crypt

import (
	stdzip "archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	yzip "github.com/yeka/zip"
)

// craftZip writes an AES zip whose entries get the given names verbatim,
// as a hostile sender's tool could.
func craftZip(t *testing.T, path, pw string, entries map[string][]byte, method uint16) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := yzip.NewWriter(f)
	for name, data := range entries {
		fh := &yzip.FileHeader{Name: name, Method: method}
		fh.SetPassword(pw)
		fh.SetEncryptionMethod(yzip.AES256Encryption)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func extractTo(path, dest, pw string, lim Limits) (*ExtractResult, error) {
	return Extract(context.Background(), path, ExtractOptions{Dest: dest, OpenOptions: OpenOptions{Credentials: Credentials{Password: pw}, Limits: lim}})
}

// assertNothingLeft checks that a failed extraction removed what it made.
func assertNothingLeft(t *testing.T, dest string) {
	t.Helper()
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("%s left behind: %v", dest, listDir(t, dest))
	}
}

func TestZipSlipRefused(t *testing.T) {
	for _, name := range []string{"../evil.txt", "a/../../evil.txt", "/etc/evil.txt", `..\evil.txt`, `C:\evil.txt`, "C:evil.txt", "ok/\x00evil"} {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			dir := t.TempDir()
			arch := filepath.Join(dir, "x.zip")
			craftZip(t, arch, "pw", map[string][]byte{"ok.txt": []byte("ok"), name: []byte("pwned")}, yzip.Deflate)
			dest := filepath.Join(dir, "sub", "out")
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			_, err := extractTo(arch, dest, "pw", Limits{})
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("err = %v, want ErrUnsafe", err)
			}
			assertNothingLeft(t, dest)
			if _, err := os.Stat(filepath.Join(dir, "evil.txt")); err == nil {
				t.Fatal("file written outside the output folder")
			}
		})
	}
}

// A symbolic link planted in an existing output folder must not lead the
// extraction outside it.
func TestPlantedSymlinkNotFollowed(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "x.zip")
	craftZip(t, arch, "pw", map[string][]byte{"link/evil.txt": []byte("pwned")}, yzip.Deflate)
	dest := filepath.Join(dir, "out")
	outside := filepath.Join(dir, "outside")
	os.Mkdir(dest, 0o755)
	os.Mkdir(outside, 0o755)
	if err := os.Symlink(outside, filepath.Join(dest, "link")); err != nil {
		t.Skip("no symlinks here")
	}
	if _, err := extractTo(arch, dest, "pw", Limits{}); err == nil {
		t.Fatal("extraction through a symlink succeeded")
	}
	if left := listDir(t, outside); len(left) != 0 {
		t.Fatalf("written outside: %v", left)
	}
}

func TestTamperedZip(t *testing.T) {
	dir := t.TempDir()
	data := csvLike(200 << 10)
	writeFile(t, filepath.Join(dir, "a.csv"), data, time.Time{})
	writeFile(t, filepath.Join(dir, "b.csv"), data[:1000], time.Time{})
	arch := filepath.Join(dir, "a.zip")
	pw := mustPassword(t)
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "b.csv"), filepath.Join(dir, "a.csv"))
	orig, _ := os.ReadFile(arch)

	// Flip one byte in the middle of the second entry's ciphertext: the
	// first entry is fine and gets written, and must be removed again.
	flipped := bytes.Clone(orig)
	flipped[len(orig)/2] ^= 0x01
	os.WriteFile(arch, flipped, 0o644)
	dest := filepath.Join(dir, "out")
	_, err := extractTo(arch, dest, pw.Value, Limits{})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("flipped: err = %v, want ErrDamaged", err)
	}
	assertNothingLeft(t, dest)

	// The same into an existing folder: the folder stays, nothing in it.
	os.Mkdir(dest, 0o755)
	writeFile(t, filepath.Join(dest, "mine.txt"), []byte("keep"), time.Time{})
	if _, err := extractTo(arch, dest, pw.Value, Limits{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("flipped into existing: err = %v", err)
	}
	if left := listDir(t, dest); len(left) != 1 || left[0] != "mine.txt" {
		t.Fatalf("left in existing folder: %v", left)
	}
	if _, err := Verify(context.Background(), arch, OpenOptions{Credentials: Credentials{Password: pw.Value}}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("verify flipped: %v", err)
	}

	// Truncations at several points.
	for _, n := range []int{len(orig) - 1, len(orig) - 30, len(orig) / 2, 100, 10} {
		os.WriteFile(arch, orig[:n], 0o644)
		dest := filepath.Join(dir, "trunc")
		if _, err := extractTo(arch, dest, pw.Value, Limits{}); !errors.Is(err, ErrDamaged) {
			t.Fatalf("truncated at %d: err = %v, want ErrDamaged", n, err)
		}
		assertNothingLeft(t, dest)
	}
}

func TestBombLimits(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "bomb.zip")
	craftZip(t, arch, "pw", map[string][]byte{"zeros.bin": make([]byte, 20<<20)}, yzip.Deflate)
	dest := filepath.Join(dir, "out")
	if _, err := extractTo(arch, dest, "pw", Limits{MaxEntries: 10, MaxTotal: 1 << 40, MaxRatio: 100}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("ratio: err = %v, want ErrUnsafe", err)
	}
	assertNothingLeft(t, dest)
	if _, err := extractTo(arch, dest, "pw", Limits{MaxEntries: 10, MaxTotal: 10 << 20, MaxRatio: 1 << 20}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("total: err = %v, want ErrUnsafe", err)
	}
	many := map[string][]byte{}
	for i := 0; i < 20; i++ {
		many[strings.Repeat("x", i+1)] = []byte("x")
	}
	craftZip(t, arch, "pw", many, yzip.Store)
	if _, err := extractTo(arch, dest, "pw", Limits{MaxEntries: 10, MaxTotal: 1 << 30, MaxRatio: 100}); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("entries: err = %v, want ErrUnsafe", err)
	}
	assertNothingLeft(t, dest)
}

// centralRecords returns the offsets of central-directory headers.
func centralRecords(b []byte) []int {
	var offs []int
	for i := 0; i+4 <= len(b); i++ {
		if binary.LittleEndian.Uint32(b[i:]) == 0x02014b50 {
			offs = append(offs, i)
		}
	}
	return offs
}

// An entry that produces more than the size its header declares is cut
// off and reported, so the header's size is a real bound on disk use.
func TestLyingSizeRefused(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "x.zip")
	craftZip(t, arch, "pw", map[string][]byte{"a.txt": bytes.Repeat([]byte("abc"), 1000)}, yzip.Deflate)
	b, _ := os.ReadFile(arch)
	c := centralRecords(b)[0]
	binary.LittleEndian.PutUint32(b[c+24:], 100) // uncompressed size
	os.WriteFile(arch, b, 0o644)
	dest := filepath.Join(dir, "out")
	if _, err := extractTo(arch, dest, "pw", Limits{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("err = %v, want ErrDamaged", err)
	}
	assertNothingLeft(t, dest)
}

// yeka/zip panics on a WinZip AES extra field shorter than 7 bytes; kuvert
// must answer with an error.
func TestCraftedAESExtraNoPanic(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "x.zip")
	craftZip(t, arch, "pw", map[string][]byte{"a.txt": []byte("hej")}, yzip.Store)
	b, _ := os.ReadFile(arch)
	c := centralRecords(b)[0]
	nameLen := int(binary.LittleEndian.Uint16(b[c+28:]))
	extra := c + 46 + nameLen
	if binary.LittleEndian.Uint16(b[extra:]) != 0x9901 {
		t.Fatalf("expected the AES extra first, got %x", b[extra:extra+2])
	}
	binary.LittleEndian.PutUint16(b[extra+2:], 3) // claims 3 bytes, rest becomes junk
	os.WriteFile(arch, b, 0o644)
	for _, fn := range []func() error{
		func() error { _, err := extractTo(arch, filepath.Join(dir, "out"), "pw", Limits{}); return err },
		func() error { _, err := List(arch, OpenOptions{}); return err },
		func() error {
			_, err := Verify(context.Background(), arch, OpenOptions{Credentials: Credentials{Password: "pw"}})
			return err
		},
	} {
		if err := fn(); !errors.Is(err, ErrDamaged) {
			t.Fatalf("err = %v, want ErrDamaged", err)
		}
	}
}

// An unencrypted entry added to an encrypted archive is someone else's.
func TestInjectedPlainEntry(t *testing.T) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "x.zip")
	f, _ := os.Create(arch)
	zw := yzip.NewWriter(f)
	fh := &yzip.FileHeader{Name: "ok.txt", Method: yzip.Deflate}
	fh.SetPassword("pw")
	fh.SetEncryptionMethod(yzip.AES256Encryption)
	w, _ := zw.CreateHeader(fh)
	w.Write([]byte("ok"))
	w, _ = zw.Create("LÄS MIG.txt")
	w.Write([]byte("betala till konto ..."))
	zw.Close()
	f.Close()
	dest := filepath.Join(dir, "out")
	if _, err := extractTo(arch, dest, "pw", Limits{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("err = %v, want ErrDamaged", err)
	}
	assertNothingLeft(t, dest)
}

func TestNoOverwrite(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("ny"), time.Time{})
	pw := mustPassword(t)
	arch := filepath.Join(dir, "a.zip")
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "a.csv"))
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "a.csv")})
	if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: arch, Format: FormatZip, Password: pw}); !errors.Is(err, ErrExists) {
		t.Fatalf("seal over existing: %v", err)
	}
	if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: filepath.Join(dir, "a.csv"), Format: FormatZip, Password: pw, Force: true}); !errors.Is(err, ErrInput) {
		t.Fatalf("seal over its input: %v", err)
	}
	dest := filepath.Join(dir, "ut")
	writeFile(t, filepath.Join(dest, "a.csv"), []byte("gammal"), time.Time{})
	if _, err := extractTo(arch, dest, pw.Value, Limits{}); !errors.Is(err, ErrExists) {
		t.Fatalf("extract over existing: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "a.csv")); string(b) != "gammal" {
		t.Fatal("existing file overwritten")
	}
	if _, err := Extract(context.Background(), arch, ExtractOptions{Dest: dest, Force: true, OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "a.csv")); string(b) != "ny" {
		t.Fatal("--force did not replace")
	}
}

func TestSealCancelledLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in", "a.bin"), randomBytes(t, 4<<20), time.Time{})
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "in")})
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Seal(ctx, SealOptions{Inputs: ins, Output: filepath.Join(dir, "in.zip"), Format: FormatZip, Password: mustPassword(t), Progress: func(int64) {
		if calls++; calls == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if left := listDir(t, dir); len(left) != 2 {
		t.Fatalf("left behind: %v", left)
	}
}

func TestSealUnwritableOutput(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions") // covered by the missing-folder case
	}
}

func TestSealMissingFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("x"), time.Time{})
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "a.csv")})
	_, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: filepath.Join(dir, "saknas", "a.zip"), Format: FormatZip, Password: mustPassword(t)})
	if err == nil || !strings.Contains(err.Error(), "no such file or folder") {
		t.Fatalf("err = %v", err)
	}
}

func TestNonASCIIZipPasswordRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("x"), time.Time{})
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "a.csv")})
	pw, err := UserPassword("Blåbärssylt-Grönsaksland-Höstmörker-99", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: filepath.Join(dir, "a.zip"), Format: FormatZip, Password: pw}); !errors.Is(err, ErrInput) || strings.Contains(err.Error(), "Blåbär") {
		t.Fatalf("err = %v", err)
	}
}

func TestCollectInputs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "x.csv"), []byte("1"), time.Time{})
	writeFile(t, filepath.Join(dir, "b", "x.csv"), []byte("2"), time.Time{})
	if _, _, err := CollectInputs([]string{filepath.Join(dir, "a", "x.csv"), filepath.Join(dir, "b", "x.csv")}); !errors.Is(err, ErrInput) {
		t.Fatalf("duplicate names: %v", err)
	}
	if _, _, err := CollectInputs([]string{filepath.Join(dir, "saknas.csv")}); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "tom"), 0o755)
	if _, _, err := CollectInputs([]string{filepath.Join(dir, "tom")}); !errors.Is(err, ErrInput) {
		t.Fatalf("empty folder: %v", err)
	}
	os.Symlink("/etc/passwd", filepath.Join(dir, "a", "link"))
	ins, skipped, err := CollectInputs([]string{filepath.Join(dir, "a")})
	if err != nil || len(ins) != 1 || ins[0].Name != "a/x.csv" || len(skipped) != 1 {
		t.Fatalf("ins=%v skipped=%v err=%v", ins, skipped, err)
	}
}

// Every byte of every entry's encrypted data is covered by its MAC: flip
// each one in turn and Verify must fail. (This caught yeka/zip skipping the
// MAC check on deflated entries; kuvert's own reader drains the raw
// stream in inflateReader for the same reason.)
func TestEveryCiphertextByteAuthenticated(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), csvLike(3000), time.Time{})
	writeFile(t, filepath.Join(dir, "b.pdf"), randomBytes(t, 300), time.Time{})
	arch := filepath.Join(dir, "x.zip")
	pw := mustPassword(t)
	sealFiles(t, arch, FormatZip, pw, filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.pdf"))
	orig, _ := os.ReadFile(arch)
	zr, err := stdzip.NewReader(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range zr.File {
		off, _ := f.DataOffset()
		for i := off; i < off+int64(f.CompressedSize64); i++ {
			b := bytes.Clone(orig)
			b[i] ^= 0x20
			os.WriteFile(arch, b, 0o644)
			_, err := Verify(context.Background(), arch, OpenOptions{Credentials: Credentials{Password: pw.Value}})
			if err == nil {
				t.Fatalf("%s: flipped byte %d verified", f.Name, i-off)
			}
			checked++
		}
	}
	if checked < 300 {
		t.Fatalf("only %d bytes checked", checked)
	}
}
