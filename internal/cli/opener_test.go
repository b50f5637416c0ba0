package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/opener"
)

// The SHA-256 printed is the SHA-256 of the bytes written: what the
// organisation publishes is what it serves.
func TestOpenerPrintsTheWrittenPagesSHA256(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	s := &IOStreams{Out: &out, ErrOut: &errOut}
	path := filepath.Join(t.TempDir(), opener.FileName)
	if err := runOpener(s, &OpenerOptions{Output: path}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if !strings.Contains(out.String(), "sha256 "+hex.EncodeToString(sum[:])) || !bytes.Equal(b, opener.Page()) {
		t.Fatalf("printed %q for a file with sha256 %x", out.String(), sum)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (a public page)", fi.Mode().Perm())
	}
	err = runOpener(s, &OpenerOptions{Output: path})
	if !errors.Is(err, crypt.ErrExists) {
		t.Errorf("second write: %v, want ErrExists", err)
	}
	if err := runOpener(&IOStreams{Out: &out, ErrOut: &errOut, OutTTY: true}, &OpenerOptions{}); err == nil {
		t.Error("printed the page to a terminal")
	}
}

// A PNG logo is embedded and the SHA-256 printed is that of the page
// with it; a logo larger than the limit is refused before it is read.
func TestOpenerLogo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 8, 4))
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	logo := filepath.Join(dir, "logo.png")
	os.WriteFile(logo, buf.Bytes(), 0o644)
	var out, errOut bytes.Buffer
	s := &IOStreams{Out: &out, ErrOut: &errOut}
	path := filepath.Join(dir, opener.FileName)
	if err := runOpener(s, &OpenerOptions{Output: path, Organisation: "Sundsvalls kommun", Logo: logo}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	sum := sha256.Sum256(b)
	if !bytes.Contains(b, []byte(`src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(buf.Bytes())+`"`)) ||
		!strings.Contains(out.String(), "sha256 "+hex.EncodeToString(sum[:])) || hex.EncodeToString(sum[:]) == opener.SHA256() {
		t.Errorf("the logo is not in the page, or the printed sum %q is not the page's", out.String())
	}
	big := filepath.Join(dir, "big.png")
	os.WriteFile(big, append(buf.Bytes(), make([]byte, opener.MaxLogoBytes)...), 0o644)
	err := runOpener(s, &OpenerOptions{Output: filepath.Join(dir, "x.html"), Organisation: "K", Logo: big})
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "högst 65536 / the logo") {
		t.Errorf("a large logo: %v", err)
	}
	if err := runOpener(s, &OpenerOptions{Output: filepath.Join(dir, "y.html"), Organisation: "K", Logo: filepath.Join(dir, "none.png")}); err == nil {
		t.Error("a missing logo file was not an error")
	}
	if _, err := os.Stat(filepath.Join(dir, "x.html")); err == nil {
		t.Error("a page was written with a refused logo")
	}
}
