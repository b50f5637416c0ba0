package opener

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/chromedp/chromedp"
	yzip "github.com/yeka/zip"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/internal/browsertest"
)

// The two messages a recipient must be able to tell apart (Swedish first).
const (
	msgWrongPassword = "Fel lösenord"
	msgDamaged       = "Filen är skadad eller har ändrats"
)

func TestOpensKuvertZips(t *testing.T) {
	stored := []file{{"scan.pdf", random(200<<10, 1)}, {"bild.png", random(50<<10, 2)}}
	deflated := []file{{"lonelista.csv", payroll(300<<10, 3)}, {"protokoll.txt", payroll(40<<10, 4)}}
	swedish := []file{{"lönelista_mars.csv", payroll(20<<10, 5)}, {"Åtgärder för Östra skolan.txt", payroll(5<<10, 6)}}
	hidden := []file{{"deltagare_19811218-1234.csv", payroll(30<<10, 7)}, {"mötesanteckningar.txt", payroll(8<<10, 8)}}
	empty := []file{{"tom.txt", nil}, {"a.csv", payroll(1000, 9)}}
	cases := []struct {
		name  string
		files []file
		hide  bool
	}{
		{"stored", stored, false},
		{"deflated", deflated, false},
		{"swedish names", swedish, false},
		{"hidden names", hidden, true},
		{"empty file", empty, false},
		{"30 MB", []file{{"arkiv.bin", random(30<<20, 10)}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arch := seal(t, filepath.Join(t.TempDir(), "bilaga.zip"), c.files, crypt.SealOptions{HideNames: c.hide})
			if c.hide {
				b, _ := os.ReadFile(arch)
				if bytes.Contains(b, []byte(c.files[0].name)) || !bytes.Contains(b, []byte(crypt.HiddenNamesEntry)) {
					t.Fatal("fixture: the names are not hidden")
				}
			}
			tb := newTab(t, tabOptions{})
			r := tb.open(arch, testPassword, "")
			if r.Error != "" || len(r.Entries) != len(c.files) {
				t.Fatalf("got %+v, want %d entries and no error", r, len(c.files))
			}
			for i, e := range r.Entries {
				if e.Name != c.files[i].name || !strings.Contains(e.Text, c.files[i].name) {
					t.Errorf("entry %d: %+v, want the name %q", i, e, c.files[i].name)
				}
			}
			want(t, tb.save(len(c.files)), c.files)
		})
	}
}

func TestOpensSevenZipAES(t *testing.T) {
	files := []file{{"rapport.txt", payroll(100<<10, 11)}, {"foto.jpg", random(64<<10, 12)}}
	arch := sevenZip(t, filepath.Join(t.TempDir(), "från7zip.zip"), files)
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if r.Error != "" || len(r.Entries) != 2 {
		t.Fatalf("got %+v", r)
	}
	want(t, tb.save(2), files)
}

// An AES zip whose names are in the OEM code page without the UTF-8 flag,
// as 7-Zip and Windows' own zip write them on a Swedish desktop (bsdtar
// writes the same with hdrcharset=CP850): the page shows and saves the
// names the sender saw, as kuvert decrypt does.
func TestOpensOEMNames(t *testing.T) {
	_, err := exec.LookPath("bsdtar")
	browsertest.NeedTool(t, err, "bsdtar")
	files := []file{{"lönelista_åäö ÅÄÖ.csv", payroll(20<<10, 14)}}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, files[0].name), files[0].data, 0o644); err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(t.TempDir(), "oem.zip")
	cmd := exec.Command("bsdtar", "--format", "zip", "--options", "zip:encryption=aes256,zip:hdrcharset=CP850", "--passphrase", testPassword, "-cf", arch, files[0].name)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bsdtar: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(arch); !bytes.Contains(b, []byte("l\x94nelista_\x86\x84\x94 \x8f\x8e\x99.csv")) {
		t.Fatal("bsdtar did not write the name in CP850: the test proves nothing")
	}
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if r.Error != "" || len(r.Entries) != 1 {
		t.Fatalf("got %+v", r)
	}
	want(t, tb.save(1), files)
}

func TestOpensAgePassphrase(t *testing.T) {
	one := []file{{"lönelista.csv", payroll(64<<10, 13)}}
	arch := seal(t, filepath.Join(t.TempDir(), "lönelista.csv.age"), one, crypt.SealOptions{
		Format: crypt.FormatAge, Password: crypt.Password{Value: testPassword, Origin: "user"}})
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if r.Error != "" || len(r.Entries) != 1 || r.Entries[0].Name != "lönelista.csv" {
		t.Fatalf("got %+v", r)
	}
	want(t, tb.save(1), one)
}

func TestOpensAgeX25519(t *testing.T) {
	id, key := x25519(t)
	bundle := []file{{"a.csv", payroll(10<<10, 14)}, {"b.pdf", random(20<<10, 15)}}
	t.Run("pasted key, bundle", func(t *testing.T) {
		arch := seal(t, filepath.Join(t.TempDir(), "filer.zip.age"), bundle, crypt.SealOptions{
			Format: crypt.FormatAge, Recipients: []age.Recipient{id.Recipient()}})
		tb := newTab(t, tabOptions{})
		r := tb.open(arch, "", key)
		if r.Error != "" || len(r.Entries) != 2 {
			t.Fatalf("got %+v", r)
		}
		want(t, tb.save(2), bundle)
	})
	t.Run("key file, armored", func(t *testing.T) {
		one := []file{{"brev.txt", payroll(3<<10, 16)}}
		arch := seal(t, filepath.Join(t.TempDir(), "brev.txt.age"), one, crypt.SealOptions{
			Format: crypt.FormatAge, Recipients: []age.Recipient{id.Recipient()}, Armor: true})
		keyFile := filepath.Join(t.TempDir(), "nyckel.txt")
		os.WriteFile(keyFile, []byte("# created: 2026-11-23\n# public key: "+id.Recipient().String()+"\n"+key+"\n"), 0o600)
		tb := newTab(t, tabOptions{})
		tb.run(chromedp.Click(chromedp.CSS(`#keybox summary`)), chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=keyfile]`), []string{keyFile}))
		r := tb.open(arch, "", "")
		if r.Error != "" || len(r.Entries) != 1 || r.Entries[0].Name != "brev.txt" {
			t.Fatalf("got %+v", r)
		}
		want(t, tb.save(1), one)
	})
	t.Run("other key", func(t *testing.T) {
		arch := seal(t, filepath.Join(t.TempDir(), "filer.zip.age"), bundle, crypt.SealOptions{
			Format: crypt.FormatAge, Recipients: []age.Recipient{id.Recipient()}})
		_, other := x25519(t)
		tb := newTab(t, tabOptions{})
		r := tb.open(arch, "", other)
		if len(r.Entries) != 0 || !strings.Contains(r.Error, "Nyckeln passar inte") {
			t.Fatalf("got %+v, want the wrong-key message", r)
		}
	})
}

// A wrong password and a changed byte give their two different messages
// and offer nothing, for each kind of archive.
func TestWrongPasswordAndTamperedFile(t *testing.T) {
	files := []file{{"lönelista.csv", payroll(200<<10, 17)}}
	dir := t.TempDir()
	deflated := seal(t, filepath.Join(dir, "deflated.zip"), files, crypt.SealOptions{})
	stored := seal(t, filepath.Join(dir, "stored.zip"), []file{{"scan.pdf", random(100<<10, 18)}}, crypt.SealOptions{})
	ageFile := seal(t, filepath.Join(dir, "lista.csv.age"), files, crypt.SealOptions{
		Format: crypt.FormatAge, Password: crypt.Password{Value: testPassword, Origin: "user"}})
	cases := []struct {
		name, file, password, msg string
	}{
		{"zip wrong password", deflated, "k7pq2-x3mhb-9rtw4-ndc8x", msgWrongPassword},
		{"deflated zip flipped byte", flipByte(t, deflated, filepath.Join(dir, "d-flip.zip"), -1), testPassword, msgDamaged},
		{"stored zip flipped byte", flipByte(t, stored, filepath.Join(dir, "s-flip.zip"), -1), testPassword, msgDamaged},
		{"age wrong password", ageFile, "k7pq2-x3mhb-9rtw4-ndc8x", msgWrongPassword},
		{"age flipped byte", flipByte(t, ageFile, filepath.Join(dir, "a-flip.age"), -1), testPassword, msgDamaged},
		{"zip cut short", truncate(t, deflated, filepath.Join(dir, "cut.zip")), testPassword, msgDamaged},
		// Only the authentication code changed: every byte decrypts and
		// inflates, and only the HMAC check can refuse it.
		{"deflated zip HMAC flipped", flipByte(t, deflated, filepath.Join(dir, "d-mac.zip"), macOffset(t, deflated)), testPassword, msgDamaged},
		{"stored zip HMAC flipped", flipByte(t, stored, filepath.Join(dir, "s-mac.zip"), macOffset(t, stored)), testPassword, msgDamaged},
	}
	tb := newTab(t, tabOptions{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb.t = t
			r := tb.open(c.file, c.password, "")
			if len(r.Entries) != 0 {
				t.Errorf("offered %d entries for a file that must not open", len(r.Entries))
			}
			if !strings.HasPrefix(r.Error, c.msg) {
				t.Errorf("message %q, want it to start with %q", r.Error, c.msg)
			}
		})
	}
	// The English toggle gives the English message.
	tb.t = t
	tb.run(chromedp.Click(chromedp.CSS(`[data-testid=lang]`)))
	en, err := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS(`[data-testid=error]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en, "The file is damaged") {
		t.Errorf("English message %q", en)
	}
}

// macOffset is the offset of the last byte of the first entry's
// HMAC-SHA1-80 authentication code (the last 10 bytes of its data).
func macOffset(t *testing.T, path string) int64 {
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	off, err := zr.File[0].DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	return off + int64(zr.File[0].CompressedSize64) - 1
}

func truncate(t *testing.T, src, dst string) string {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dst, b[:len(b)-200], 0o644)
	return dst
}

// Refusals that protect the recipient's device, as `kuvert decrypt` does.
func TestRefusesUnsafeArchives(t *testing.T) {
	dir := t.TempDir()
	// 8 MiB of zeros deflate about 1030:1, above the 1000:1 limit.
	bomb := bombZip(t, filepath.Join(dir, "bomb.zip"), 8<<20)
	// An age file that demands scrypt work factor 2^22: refused before any
	// scrypt runs (the header MAC is then wrong too, but never reached).
	ageFile := seal(t, filepath.Join(dir, "x.age"), []file{{"x.txt", []byte("hej")}}, crypt.SealOptions{
		Format: crypt.FormatAge, Password: crypt.Password{Value: testPassword, Origin: "user"}})
	b, _ := os.ReadFile(ageFile)
	i := bytes.Index(b, []byte("-> scrypt "))
	j := bytes.IndexByte(b[i:], '\n') + i
	b = append(append(append([]byte(nil), b[:j-2]...), "22"...), b[j:]...)
	heavy := filepath.Join(dir, "heavy.age")
	os.WriteFile(heavy, b, 0o644)
	notArchive := filepath.Join(dir, "brev.txt")
	os.WriteFile(notArchive, []byte("hej"), 0o644)
	cases := []struct{ name, file, msg string }{
		{"bomb", bomb, "växer mer än 1000 gånger"},
		{"scrypt work factor", heavy, "arbetsfaktor (22, högst 20)"},
		{"not an archive", notArchive, "inte en krypterad bilaga"},
	}
	tb := newTab(t, tabOptions{})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb.t = t
			r := tb.open(c.file, testPassword, "")
			if len(r.Entries) != 0 || !strings.Contains(r.Error, c.msg) {
				t.Errorf("got %+v, want no entries and %q", r, c.msg)
			}
		})
	}
}

// Names from an archive are made safe before they reach the download
// attribute: no path separators, bidi or control characters, no names
// Windows reserves.
func TestSanitisesNames(t *testing.T) {
	files := []file{
		{"mapp/under/rapport.txt", []byte("a")},
		{"faktura\u202Efdp.exe", []byte("b")},
		{"CON.txt", []byte("c")},
		{"tab\tnamn.txt", []byte("d")},
	}
	arch := filepath.Join(t.TempDir(), "namn.zip")
	writeRawAES(t, arch, files)
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if r.Error != "" || len(r.Entries) != len(files) {
		t.Fatalf("got %+v", r)
	}
	wantNames := []string{"mapp_under_rapport.txt", "fakturafdp.exe", "_CON.txt", "tabnamn.txt"}
	for i, e := range r.Entries {
		if e.Name != wantNames[i] {
			t.Errorf("entry %d saved as %q, want %q", i, e.Name, wantNames[i])
		}
	}
	want(t, tb.save(len(files)), files, wantNames...)
}

// Every name Windows reserves gets the same "_" prefix: the console and
// clock devices too, and a device name followed by spaces before its
// extension or by trailing dots and spaces, which Windows drops when it
// compares ("CON .txt" and "NUL." are the devices).
func TestSanitisesReservedNames(t *testing.T) {
	files := []file{
		{"CONIN$", []byte("e")},
		{"conout$.txt", []byte("f")},
		{"CLOCK$", []byte("g")},
		{"CON .txt", []byte("h")},
		{"com1 .log", []byte("i")},
		{"NUL.", []byte("j")},
		{"aux ", []byte("k")},
		{"CONSOLE.txt", []byte("l")}, // not reserved
	}
	arch := filepath.Join(t.TempDir(), "reserverat.zip")
	writeRawAES(t, arch, files)
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if r.Error != "" || len(r.Entries) != len(files) {
		t.Fatalf("got %+v", r)
	}
	wantNames := []string{"_CONIN$", "_conout$.txt", "_CLOCK$", "_CON .txt", "_com1 .log", "_NUL", "_aux", "CONSOLE.txt"}
	for i, e := range r.Entries {
		if e.Name != wantNames[i] {
			t.Errorf("entry %d saved as %q, want %q", i, e.Name, wantNames[i])
		}
	}
	want(t, tb.save(len(files)), files, wantNames...)
}

// writeRawAES writes an AES-256 zip with exactly the given names, as a
// careless or hostile tool might (kuvert itself would refuse some).
func writeRawAES(t *testing.T, path string, files []file) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := yzip.NewWriter(f)
	for _, fl := range files {
		fh := &yzip.FileHeader{Name: fl.name, Method: yzip.Deflate, Flags: 0x800} // UTF-8 names
		fh.SetPassword(testPassword)
		fh.SetEncryptionMethod(yzip.AES256Encryption)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(fl.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// overlapping builds an AES zip whose central directory names two files
// that share one set of bytes (the trick behind overlapping zip bombs).
func overlapping(t *testing.T, path string) {
	t.Helper()
	writeRawAES(t, path, []file{{"a.txt", []byte("hemligt innehåll")}})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	cdSize := int(le32(b[eocd+12:]))
	cdOff := int(le32(b[eocd+16:]))
	cd := b[cdOff : cdOff+cdSize]
	dup := append([]byte(nil), cd...)
	n := int(le16(dup[28:]))
	copy(dup[46:46+n], "b.txt") // same length as a.txt
	out := append(append(append(append([]byte(nil), b[:cdOff]...), cd...), dup...), b[eocd:]...)
	e := len(out) - (len(b) - eocd)
	put16(out[e+8:], 2)
	put16(out[e+10:], 2)
	put32(out[e+12:], uint32(2*cdSize))
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func le16(b []byte) uint16     { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32     { return uint32(le16(b)) | uint32(le16(b[2:]))<<16 }
func put16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
func put32(b []byte, v uint32) { put16(b, uint16(v)); put16(b[2:], uint16(v>>16)) }

// An overlapping zip is refused before anything is decrypted. zip.js's
// strict reading catches this one first (the second name does not match
// the local header it points to: "ambiguous archive", shown as damage);
// its overlap check (checkOverlappingEntryOnly, run on every entry before
// decrypting) is the second line, for overlaps with consistent headers.
func TestRefusesOverlappingEntries(t *testing.T) {
	arch := filepath.Join(t.TempDir(), "overlap.zip")
	overlapping(t, arch)
	// The crafted zip is readable: Go's archive/zip lists both names.
	if zr, err := zip.OpenReader(arch); err != nil || len(zr.File) != 2 {
		t.Fatalf("fixture: %v", err)
	} else {
		zr.Close()
	}
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if len(r.Entries) != 0 || !(strings.HasPrefix(r.Error, msgDamaged) || strings.Contains(r.Error, "överlappar")) {
		t.Errorf("got %+v, want the overlap refused", r)
	}
}

// An age file for a key holder, opened with only a password, says that a
// key is needed and opens the key field.
func TestAgeNeedsKey(t *testing.T) {
	id, _ := x25519(t)
	arch := seal(t, filepath.Join(t.TempDir(), "brev.txt.age"), []file{{"brev.txt", []byte("hej")}}, crypt.SealOptions{
		Format: crypt.FormatAge, Recipients: []age.Recipient{id.Recipient()}})
	tb := newTab(t, tabOptions{})
	r := tb.open(arch, testPassword, "")
	if len(r.Entries) != 0 || !strings.Contains(r.Error, "age-nyckel") {
		t.Fatalf("got %+v", r)
	}
	if a := tb.active(); a != "key" {
		t.Errorf("focus is on %q, want the key field", a)
	}
}
