package crypt

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// Archives kuvert writes are checked by the real 7-Zip and bsdtar, and
// archives 7-Zip writes are opened by kuvert: the peers are the oracle.

func TestZipOpensIn7Zip(t *testing.T) {
	sz := needTool(t, "7zz")
	dir := t.TempDir()
	mtime := time.Date(2026, 3, 12, 9, 30, 0, 0, time.Local)
	files := map[string][]byte{
		"lönelista_åäö.xlsx":      randomBytes(t, 50<<10),
		"medlemsregister.csv":     csvLike(200 << 10),
		"mapp/Ärende 2026-12.txt": []byte("Hej då\n"),
		"tom.txt":                 nil,
	}
	for n, b := range files {
		writeFile(t, filepath.Join(dir, "in", filepath.FromSlash(n)), b, mtime)
	}
	var paths []string
	for _, n := range []string{"lönelista_åäö.xlsx", "medlemsregister.csv", "mapp", "tom.txt"} {
		paths = append(paths, filepath.Join(dir, "in", n))
	}
	pw := mustPassword(t)
	out := filepath.Join(dir, "bilaga.zip")
	sealFiles(t, out, FormatZip, pw, paths...)

	test := run(t, dir, sz, "t", "-p"+pw.Value, out)
	if !strings.Contains(test, "Everything is Ok") {
		t.Fatalf("7zz t:\n%s", test)
	}
	slt := run(t, dir, sz, "l", "-slt", out)
	for _, want := range []string{
		"Path = lönelista_åäö.xlsx", "Path = mapp/Ärende 2026-12.txt",
		"Method = AES-256 Deflate", "Method = AES-256 Store",
		"Modified = 2026-03-12 09:30:00",
	} {
		if !strings.Contains(slt, want) {
			t.Errorf("7zz l -slt lacks %q:\n%s", want, slt)
		}
	}
	if strings.Contains(slt, "ZipCrypto") {
		t.Error("ZipCrypto entry written")
	}
	x7 := filepath.Join(dir, "x7")
	run(t, dir, sz, "x", "-p"+pw.Value, "-o"+x7, out)
	compareTree(t, x7, files, mtime)

	bt := needTool(t, "bsdtar")
	xb := filepath.Join(dir, "xb")
	os.Mkdir(xb, 0o755)
	run(t, dir, bt, "-x", "-f", out, "--passphrase", pw.Value, "-C", xb)
	compareTree(t, xb, files, mtime)
}

func compareTree(t *testing.T, root string, files map[string][]byte, mtime time.Time) {
	t.Helper()
	for n, want := range files {
		p := filepath.Join(root, filepath.FromSlash(n))
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v (have %v)", n, err, listDir(t, root))
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: content differs", n)
		}
		if fi, _ := os.Stat(p); !mtime.IsZero() && !fi.ModTime().Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", n, fi.ModTime(), mtime)
		}
	}
}

func TestOpen7ZipArchive(t *testing.T) {
	sz := needTool(t, "7zz")
	dir := t.TempDir()
	mtime := time.Date(2025, 11, 1, 14, 2, 4, 0, time.Local)
	files := map[string][]byte{
		"lönelista_åäö.csv": csvLike(120 << 10),
		"bild.jpg":          randomBytes(t, 30<<10),
		"del/ärende.txt":    []byte("ett två tre"),
	}
	for n, b := range files {
		writeFile(t, filepath.Join(dir, "src", filepath.FromSlash(n)), b, mtime)
	}
	pw := "Rodbeta-Kanel-Fyrtorn-71"
	arch := filepath.Join(dir, "från7zip.zip")
	run(t, filepath.Join(dir, "src"), sz, "a", "-tzip", "-mem=AES256", "-p"+pw, arch, ".")
	res, err := Extract(context.Background(), arch, ExtractOptions{Dest: filepath.Join(dir, "ut"), OpenOptions: OpenOptions{Credentials: Credentials{Password: pw}}})
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, res.Dest, files, mtime)

	if _, err := Verify(context.Background(), arch, OpenOptions{Credentials: Credentials{Password: pw + "x"}}); err == nil {
		t.Fatal("wrong password verified")
	}
}

func TestRefuseZipCrypto(t *testing.T) {
	sz := needTool(t, "7zz")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("hemligt"), time.Time{})
	arch := filepath.Join(dir, "zc.zip")
	run(t, dir, sz, "a", "-tzip", "-mem=ZipCrypto", "-psecret", arch, "a.txt")
	_, err := Extract(context.Background(), arch, ExtractOptions{Dest: filepath.Join(dir, "ut"), OpenOptions: OpenOptions{Credentials: Credentials{Password: "secret"}}})
	if err == nil || !strings.Contains(err.Error(), "ZipCrypto") {
		t.Fatalf("err = %v, want ZipCrypto refusal", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ut")); !os.IsNotExist(err) {
		t.Fatal("output folder left behind")
	}
}

// expectAge runs the age CLI under expect, which gives it the terminal it
// insists on for passphrases.
func expectAge(t *testing.T, dir, passphrase string, args ...string) {
	t.Helper()
	needTool(t, "expect")
	ageBin := needTool(t, "age")
	script := `set timeout 60
spawn -noecho {*}$argv
expect {
  -re "(?i)passphrase" { send -- "$env(PW)\r"; exp_continue }
  eof
}
lassign [wait] pid spawnid os_error value
exit $value`
	sf := filepath.Join(t.TempDir(), "age.exp")
	if err := os.WriteFile(sf, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("expect", append([]string{sf, ageBin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PW="+passphrase)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("age %v: %v\n%s", args, err, out)
	}
}

func TestAgeInterop(t *testing.T) {
	ageBin := needTool(t, "age")
	keygen := needTool(t, "age-keygen")
	dir := t.TempDir()
	data := csvLike(300 << 10)
	in := filepath.Join(dir, "lönelista_åäö.csv")
	writeFile(t, in, data, time.Time{})
	run(t, dir, keygen, "-o", "key.txt")
	pub := strings.TrimSpace(run(t, dir, keygen, "-y", "key.txt"))
	rcp, err := ParseRecipient(pub)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ReadIdentitiesFile(filepath.Join(dir, "key.txt"))
	if err != nil {
		t.Fatal(err)
	}

	for _, armored := range []bool{false, true} {
		name := "bin"
		if armored {
			name = "armor"
		}
		t.Run("x25519-"+name, func(t *testing.T) {
			out := filepath.Join(dir, name+".age")
			ins, _, _ := CollectInputs([]string{in})
			if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatAge, Recipients: []age.Recipient{rcp}, Armor: armored}); err != nil {
				t.Fatal(err)
			}
			plain := filepath.Join(dir, name+".plain")
			run(t, dir, ageBin, "-d", "-i", "key.txt", "-o", plain, out)
			if b, _ := os.ReadFile(plain); !bytes.Equal(b, data) {
				t.Fatal("age CLI gave back different bytes")
			}
			// and the CLI's own file opens with kuvert
			cli := filepath.Join(dir, name+"-cli.csv.age")
			args := []string{"-r", pub, "-o", cli, in}
			if armored {
				args = append([]string{"-a"}, args...)
			}
			run(t, dir, ageBin, args...)
			res, err := Extract(context.Background(), cli, ExtractOptions{Dest: filepath.Join(dir, name+"-ut"), OpenOptions: OpenOptions{Credentials: Credentials{Identities: ids}}})
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(res.Dest, name+"-cli.csv")); !bytes.Equal(b, data) {
				t.Fatalf("kuvert gave back different bytes: %v", listDir(t, res.Dest))
			}
		})
	}

	t.Run("passphrase", func(t *testing.T) {
		pw := mustPassword(t)
		out := filepath.Join(dir, "pw.csv.age")
		sealFiles(t, out, FormatAge, pw, in)
		expectAge(t, dir, pw.Value, "-d", "-o", "pw.plain", out)
		if b, _ := os.ReadFile(filepath.Join(dir, "pw.plain")); !bytes.Equal(b, data) {
			t.Fatal("age CLI gave back different bytes")
		}
		expectAge(t, dir, pw.Value, "-p", "-a", "-o", "cli-pw.csv.age", in)
		info, err := Inspect(filepath.Join(dir, "cli-pw.csv.age"))
		if err != nil || info.Kind != KindAgeArmor || !info.Passphrase {
			t.Fatalf("Inspect = %+v, %v", info, err)
		}
		res, err := Extract(context.Background(), filepath.Join(dir, "cli-pw.csv.age"), ExtractOptions{Dest: filepath.Join(dir, "pw-ut"), OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(res.Dest, "cli-pw.csv")); !bytes.Equal(b, data) {
			t.Fatal("kuvert gave back different bytes")
		}
	})
}

// Hidden names: 7-Zip's listing shows only bilagor.zip; one more
// extraction gives back the real names and times. kuvert unpacks both
// layers itself.
func TestHiddenNames(t *testing.T) {
	sz := needTool(t, "7zz")
	dir := t.TempDir()
	mtime := time.Date(2026, 2, 3, 8, 15, 0, 0, time.Local)
	files := map[string][]byte{
		"lönelista_811218-9876.csv": csvLike(20 << 10),
		"mapp/intyg 8112189876.pdf": randomBytes(t, 5000),
	}
	for n, b := range files {
		writeFile(t, filepath.Join(dir, "in", filepath.FromSlash(n)), b, mtime)
	}
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "in", "lönelista_811218-9876.csv"), filepath.Join(dir, "in", "mapp")})
	out := filepath.Join(dir, "lönelista.zip") // the name naming.Beside gives (tested there)
	pw := mustPassword(t)
	if _, err := Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatZip, Password: pw, HideNames: true}); err != nil {
		t.Fatal(err)
	}
	l := run(t, dir, sz, "l", "-slt", out)
	_, entries, _ := strings.Cut(l, "----------")
	if strings.Count(entries, "Path = ") != 1 || !strings.Contains(entries, "Path = bilagor.zip") || strings.Contains(entries, "9876") || strings.Contains(entries, "lönelista") {
		t.Fatalf("7zz l shows:\n%s", l)
	}
	x1 := filepath.Join(dir, "x1")
	run(t, dir, sz, "x", "-p"+pw.Value, "-o"+x1, out)
	x2 := filepath.Join(dir, "x2")
	run(t, dir, sz, "x", "-o"+x2, filepath.Join(x1, "bilagor.zip"))
	compareTree(t, x2, files, mtime)

	res, err := Extract(context.Background(), out, ExtractOptions{Dest: filepath.Join(dir, "k"), OpenOptions: OpenOptions{Credentials: Credentials{Password: pw.Value}}})
	if err != nil {
		t.Fatal(err)
	}
	compareTree(t, res.Dest, files, mtime)
	if left := listDir(t, res.Dest); len(left) != 3 { // 2 files + mapp
		t.Fatalf("left: %v", left)
	}
}

// 7-Zip takes a WinZip AES password of at most 99 bytes: a 99-byte own
// password seals a zip 7-Zip opens; a 100-byte one is refused by kuvert
// before anything is written (7-Zip itself answers E_INVALIDARG to it),
// and the error neither holds the password nor leaves a file behind.
func TestZipPasswordLengthLimit(t *testing.T) {
	sz := needTool(t, "7zz")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("namn;lön\nÅsa;34500\n"), time.Time{})
	ins, _, _ := CollectInputs([]string{filepath.Join(dir, "a.csv")})
	long := strings.Repeat("Kx7-pQ2!mZ", 10) // 100 bytes, strong
	for _, n := range []int{MaxZipPasswordBytes, MaxZipPasswordBytes + 1} {
		pw, err := UserPassword(long[:n], false)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "a.zip")
		_, err = Seal(context.Background(), SealOptions{Inputs: ins, Output: out, Format: FormatZip, Password: pw})
		if n <= 99 {
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if test := run(t, dir, sz, "t", "-p"+pw.Value, out); !strings.Contains(test, "Everything is Ok") {
				t.Fatalf("7zz t, %d-byte password:\n%s", n, test)
			}
			os.Remove(out)
			continue
		}
		var ze *ZipPasswordError
		if !errors.As(err, &ze) || !errors.Is(err, ErrInput) || ze.NonASCII || ze.Bytes != n || strings.Contains(err.Error(), pw.Value[:20]) {
			t.Fatalf("%d bytes: err = %v", n, err)
		}
		if es, _ := os.ReadDir(dir); len(es) != 1 {
			t.Fatalf("%d bytes: the folder holds %d entries, want only a.csv", n, len(es))
		}
		// The same password opens nothing in 7-Zip either: the limit is 7-Zip's.
		if b, err := exec.Command(sz, "a", "-tzip", "-mem=AES256", "-p"+pw.Value, filepath.Join(dir, "7z.zip"), filepath.Join(dir, "a.csv")).CombinedOutput(); err == nil && !strings.Contains(string(b), "E_INVALIDARG") {
			t.Fatalf("7zz took a %d-byte password:\n%s", n, b)
		}
		os.Remove(filepath.Join(dir, "7z.zip"))
	}
}
