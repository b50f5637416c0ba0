package crypt

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	yzip "github.com/yeka/zip"
)

// The counter mode against a hand-computed keystream: block i (from 0) is
// AES(key, LE128(i+1)), whatever the call boundaries.
func TestWinzipCTRCounter(t *testing.T) {
	for _, kl := range []int{16, 24, 32} { // AES-128, -192 (opened only), -256
		testCTR(t, bytes.Repeat([]byte{byte(kl)}, kl))
	}
}

// testCTR checks WinZip's little-endian counter mode against the standard
// library's block cipher, block by block.
func testCTR(t *testing.T, key []byte) {
	c, err := newWinzipCTR(key)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 16*(ctrBatch+5)+3)
	got := make([]byte, len(msg))
	for off, step := 0, 1; off < len(msg); off, step = off+step, step*3%97+1 {
		end := min(off+step, len(msg))
		c.XORKeyStream(got[off:end], msg[off:end])
	}
	ref, _ := newWinzipCTR(key)
	for i := 0; i*16 < len(msg); i++ {
		var ctr, ks [16]byte
		ctr[0], ctr[1] = byte(i+1), byte((i+1)>>8)
		ref.b.Encrypt(ks[:], ctr[:])
		n := min(16, len(msg)-i*16)
		if !bytes.Equal(got[i*16:i*16+n], ks[:n]) {
			t.Fatalf("key %d bytes: block %d differs", len(key), i)
		}
	}
}

// The key derivation and counter mode agree with yeka/zip's: what it
// writes opens with kuvert's reader (and what kuvert writes opens with
// yeka/zip's reader: FuzzZipRoundTrip).
func TestWinzipKeysMatchYeka(t *testing.T) {
	var buf bytes.Buffer
	zw := yzip.NewWriter(&buf)
	fh := &yzip.FileHeader{Name: "a.txt", Method: yzip.Store}
	fh.SetPassword("lösen-ord")
	fh.SetEncryptionMethod(yzip.AES256Encryption)
	w, _ := zw.CreateHeader(fh)
	w.Write([]byte("hej hej"))
	zw.Close()
	got := openAll(t, buf.Bytes(), "lösen-ord")
	if string(got["a.txt"]) != "hej hej" {
		t.Fatalf("got %q", got["a.txt"])
	}
}

// openAll opens every entry with kuvert's reader behind checkZip.
func openAll(t *testing.T, b []byte, password string) map[string][]byte {
	t.Helper()
	zr, entries, err := checkZip(bytes.NewReader(b), int64(len(b)), DefaultLimits, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for i, e := range entries {
		if !e.encrypted {
			out[e.name] = nil
			continue
		}
		rc, err := openAESEntry(zr.File[i], e, password)
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.name, err)
		}
		out[e.name] = data
	}
	return out
}

// FuzzZipRoundTrip writes entries with kuvert's AE-2 writer (stored or
// deflated at both levels, cut into small parallel blocks so that block
// boundaries and dictionaries are exercised) and reads them back with
// yeka/zip, an independent implementation, and with kuvert's reader.
// Any difference, or a tampered byte that still opens, fails.
func FuzzZipRoundTrip(f *testing.F) {
	f.Add([]byte("hej"), uint8(0), uint16(100), uint16(0))
	f.Add([]byte{}, uint8(1), uint16(1), uint16(0))
	f.Add(csvLike(70000), uint8(1), uint16(4096), uint16(7))
	f.Add(csvLike(70000), uint8(3), uint16(40000), uint16(900))
	f.Add(bytes.Repeat([]byte{0}, 100000), uint8(5), uint16(33000), uint16(5))
	f.Fuzz(zipRoundTrip)
}

func zipRoundTrip(t *testing.T, data []byte, mode uint8, block uint16, flip uint16) {
	{
		if len(data) > 1<<20 {
			return
		}
		method := uint16(zipStore)
		if mode&1 != 0 {
			method = zipDeflate
		}
		level := LevelDefault
		if mode&2 != 0 {
			level = LevelFast
		}
		var buf bytes.Buffer
		zw := newAESZipWriter(&buf, "pw", level, 2)
		zw.block = 512 + int(block) // tiny blocks: a new compressor each, too slow to fuzz
		mtime := time.Date(2026, 3, 12, 9, 30, 0, 0, time.Local)
		for _, name := range []string{"a.bin", "b/ä.bin"} {
			w, err := zw.create(Input{Name: name, ModTime: mtime}, method)
			if err != nil {
				t.Fatal(err)
			}
			// Writes of varying sizes, as readers and compressors give them.
			for p, step := data, int(mode>>2)+1; len(p) > 0; step = step*7%5000 + 1 {
				k := min(step, len(p))
				if _, err := w.Write(p[:k]); err != nil {
					t.Fatal(err)
				}
				p = p[k:]
			}
		}
		if err := zw.close(); err != nil {
			t.Fatal(err)
		}
		arch := buf.Bytes()

		yr, err := yzip.NewReader(bytes.NewReader(arch), int64(len(arch)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range yr.File {
			if f.Method != method || f.Flags&utf8NameFlag == 0 || !f.IsEncrypted() {
				t.Fatalf("%s: method %d flags %#x", f.Name, f.Method, f.Flags)
			}
			f.SetPassword("pw")
			rc, err := f.Open()
			if err != nil {
				t.Fatalf("yeka/zip: %s: %v", f.Name, err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("yeka/zip: %s: %d bytes, %v", f.Name, len(got), err)
			}
			if mt := f.ModTime(); mt.Hour() != mtime.Hour() || mt.Minute() != mtime.Minute() {
				t.Fatalf("DOS time %v, want the local wall clock of %v", mt, mtime)
			}
		}
		for name, got := range openAll(t, arch, "pw") {
			if !bytes.Equal(got, data) {
				t.Fatalf("kuvert: %s differs", name)
			}
		}

		// One flipped byte in the first entry's data or MAC: kuvert's
		// reader must not report success.
		zr, entries, err := checkZip(bytes.NewReader(arch), int64(len(arch)), DefaultLimits, false)
		if err != nil {
			t.Fatal(err)
		}
		off, _ := zr.File[0].DataOffset()
		pos := off + 18 + int64(flip)%(entries[0].csize-18)
		bad := bytes.Clone(arch)
		bad[pos] ^= 0x40
		zr, entries, err = checkZip(bytes.NewReader(bad), int64(len(bad)), DefaultLimits, false)
		if err != nil {
			return // refused up front is fine too
		}
		rc, err := openAESEntry(zr.File[0], entries[0], "pw")
		if err != nil {
			return
		}
		if _, err := io.ReadAll(rc); err == nil {
			t.Fatalf("tampered byte %d of %d accepted", pos-off, entries[0].csize)
		}
	}
}

func BenchmarkWinzipCTR(b *testing.B) {
	c, _ := newWinzipCTR(make([]byte, 32))
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		c.XORKeyStream(buf, buf)
	}
}

// Keys are derived ahead of the entry being read (keyAhead). Entries the
// extraction passes over (names that come to nothing, like ".") must not
// stall it, and every real entry still opens; a wrong password is still
// reported at the first entry.
func TestKeysAheadSkippedEntries(t *testing.T) {
	dir := t.TempDir()
	arch := dir + "/a.zip"
	entries := map[string][]byte{".": []byte("x"), "./.": []byte("y")}
	for i := range 30 {
		entries[string(rune('a'+i%26))+string(rune('0'+i/26))+".txt"] = bytes.Repeat([]byte{byte(i)}, 100+i)
	}
	craftZip(t, arch, "pw", entries, yzip.Deflate)
	res, err := extractTo(arch, dir+"/out", "pw", DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 30 {
		t.Fatalf("%d files extracted", len(res.Files))
	}
	if _, err := extractTo(arch, dir+"/out2", "fel", DefaultLimits); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}

// The SHA-extension PBKDF2 against crypto/pbkdf2, and RFC 6070's vectors.
func TestPBKDF2SHA1(t *testing.T) {
	for _, c := range []struct {
		pw, salt string
		iter, n  int
	}{
		{"password", "salt", 1, 20}, {"password", "salt", 2, 20}, {"password", "salt", 4096, 20},
		{"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25},
		{"Kastanj-Fyrverkeri-Molnbank-4417", "0123456789abcdef", 1000, 66},
		{string(bytes.Repeat([]byte("lång"), 30)), "s", 1000, 66}, // key longer than a block
	} {
		want, err := pbkdf2.Key(sha1.New, c.pw, []byte(c.salt), c.iter, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := pbkdf2SHA1([]byte(c.pw), []byte(c.salt), c.iter, c.n); !bytes.Equal(got, want) {
			t.Errorf("%q/%q/%d: %x, want %x", c.pw, c.salt, c.iter, got, want)
		}
	}
	// RFC 6070, 4096 iterations.
	if got := hex.EncodeToString(pbkdf2SHA1([]byte("password"), []byte("salt"), 4096, 20)); got != "4b007901b765489abead49d926f721d065a429c1" {
		t.Errorf("RFC 6070: %s", got)
	}
}

func BenchmarkWinzipKeys(b *testing.B) {
	salt := make([]byte, 16)
	for b.Loop() {
		deriveWinzipKeys("Kastanj-Fyrverkeri-Molnbank-4417", salt, aes256Strength)
	}
}

// Entries above smallEntry take the pipelined path: several parallel
// deflate blocks, the MAC on its own goroutine, the input hashed on
// another, extraction written on a third. Sealed at both levels, with and
// without hidden names, opened by kuvert and (plain names) by yeka/zip.
func TestZipLargeEntriesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	csv := csvLike(3<<20 + 123)
	bin := randomBytes(t, 3<<20+7)
	writeFile(t, dir+"/in/lista.csv", csv, time.Time{})
	writeFile(t, dir+"/in/scan.pdf", bin, time.Time{})
	ins, _, err := CollectInputs([]string{dir + "/in/lista.csv", dir + "/in/scan.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"lista.csv": csv, "scan.pdf": bin}
	for i, c := range []struct{ fast, hide bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		out := fmt.Sprintf("%s/a%d.zip", dir, i)
		res, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatZip, Password: Password{Value: "pw"}, Fast: c.fast, HideNames: c.hide})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(csv)
		if res.Files[0].SHA256 != hex.EncodeToString(sum[:]) || res.Files[0].Size != int64(len(csv)) {
			t.Fatalf("%+v: input hash or size wrong: %+v", c, res.Files[0])
		}
		arch, _ := os.ReadFile(out)
		sum = sha256.Sum256(arch)
		if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(arch)) {
			t.Fatalf("%+v: archive hash or size wrong", c)
		}
		x, err := Extract(context.Background(), out, ExtractOptions{Dest: fmt.Sprintf("%s/x%d", dir, i), OpenOptions: OpenOptions{Credentials: Credentials{Password: "pw"}}})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		for name, data := range want {
			if got, _ := os.ReadFile(x.Dest + "/" + name); !bytes.Equal(got, data) {
				t.Fatalf("%+v: %s differs", c, name)
			}
		}
		if c.hide {
			continue
		}
		for name, data := range openAll(t, arch, "pw") {
			if !bytes.Equal(data, want[name]) {
				t.Fatalf("%+v: %s differs (kuvert reader)", c, name)
			}
		}
		yr, err := yzip.NewReader(bytes.NewReader(arch), int64(len(arch)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range yr.File {
			f.SetPassword("pw")
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, want[f.Name]) {
				t.Fatalf("%+v: yeka/zip: %s: %v", c, f.Name, err)
			}
		}
	}
}
