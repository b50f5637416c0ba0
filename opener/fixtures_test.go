package opener

import (
	"bytes"
	"context"
	"fmt"
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	yzip "github.com/yeka/zip"

	"filippo.io/age"

	"github.com/kuvert-app/kuvert/crypt"
)

// testPassword is what kuvert generates (20 symbols in groups of five).
const testPassword = "k7pq2-x3mhb-9rtw4-ndc8f"

// file is one original the tests seal and expect back.
type file struct {
	name string
	data []byte
}

// payroll is CSV that deflates well (kuvert deflates it).
func payroll(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	names := []string{"Åsa Öberg", "Örjan Ärlig", "Märta Ström", "Kalle Ek", "Sven Björk"}
	units := []string{"Förskola Solrosen", "Hemtjänst Norr", "Skola Väst", "IT-enheten"}
	var b bytes.Buffer
	b.WriteString("anställningsnummer;namn;enhet;månadslön\n")
	for i := 1000; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%d;%s;%s;%d\n", i, names[r.IntN(len(names))], units[r.IntN(len(units))], 25000+r.IntN(30000))
	}
	return b.Bytes()[:size]
}

// random is incompressible (kuvert stores it).
func random(size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

// writeFiles writes files into a fresh folder and returns their paths.
func writeFiles(t testing.TB, files []file) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// seal makes an archive with kuvert's own core, as `kuvert encrypt` does.
func seal(t testing.TB, out string, files []file, o crypt.SealOptions) string {
	t.Helper()
	inputs, _, err := crypt.CollectInputs(writeFiles(t, files))
	if err != nil {
		t.Fatal(err)
	}
	o.Inputs = inputs
	o.Output = out
	if o.Format == "" {
		o.Format = crypt.FormatZip
	}
	if o.Format == crypt.FormatZip || (o.Password.Value == "" && len(o.Recipients) == 0) {
		o.Password = crypt.Password{Value: testPassword, Origin: "user"}
	}
	if _, err := crypt.Seal(context.Background(), o); err != nil {
		t.Fatalf("sealing %s: %v", out, err)
	}
	return out
}

// sevenZip makes an AES-256 zip with 7-Zip, the way recipients' peers do.
func sevenZip(t testing.TB, out string, files []file) string {
	t.Helper()
	_, err := exec.LookPath("7zz")
	browsertest.NeedTool(t, err, "7-Zip (7zz)")
	args := []string{"a", "-tzip", "-mem=AES256", "-p" + testPassword, "-bd", "-bb0", out}
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f.name)
	}
	cmd := exec.Command("7zz", args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("7zz: %v\n%s", err, b)
	}
	return out
}

// flipByte changes one byte of the encrypted data of the (first) entry:
// in its middle, so that neither the salt nor the password verifier is
// hit, which would read as a wrong password (as in every AES zip tool).
func flipByte(t testing.TB, src, dst string, at int64) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at = int64(len(b)) / 2
	}
	b[at] ^= 0x01
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// x25519 returns a fresh identity and its text form.
func x25519(t testing.TB) (*age.X25519Identity, string) {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id, id.String()
}

// want checks that the page offered exactly the files, byte for byte.
func want(t *testing.T, got map[string][]byte, files []file, names ...string) {
	t.Helper()
	if len(got) != len(files) {
		var gn []string
		for n := range got {
			gn = append(gn, n)
		}
		t.Fatalf("saved %d files %q, want %d", len(got), gn, len(files))
	}
	for i, f := range files {
		name := f.name
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		b, ok := got[name]
		if !ok {
			t.Errorf("%q was not offered for saving", name)
			continue
		}
		if !bytes.Equal(b, f.data) {
			t.Errorf("%q: saved %d bytes that differ from the original (%d bytes)", name, len(b), len(f.data))
		}
	}
}

func hasAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// bombZip writes an AES zip with one entry of n zero bytes deflated as a
// single stream at the standard library's best level (yeka/zip's writer),
// so its ratio is deflate's maximum (~1030:1) whatever kuvert's own
// writer does with block boundaries.
func bombZip(t testing.TB, out string, n int) string {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := yzip.NewWriter(f)
	w, err := zw.Encrypt("nollor.txt", testPassword, yzip.AES256Encryption)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
