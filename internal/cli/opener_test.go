package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
