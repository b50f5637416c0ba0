//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/crypt"
)

// SIGTERM (or a closed terminal, SIGHUP) in the middle of
// an extraction used to kill kuvert on the spot, leaving a .part file and
// the entries already extracted — unverified plaintext — with exit 143.
// Only SIGINT cleaned up. Each of the three now stops kuvert the same way:
// everything written is removed, and the exit code is 128 + the signal's
// number, as a shell reports a process the signal ended.
//
// This runs the real binary (testscript's copy of the test binary, on
// PATH as "kuvert") and signals it while it writes a large entry.
func TestSignalStopsExtractionCleanly(t *testing.T) {
	kuvert, err := exec.LookPath("kuvert")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	small := filepath.Join(dir, "in", "a.csv")
	big := filepath.Join(dir, "in", "b.jpg") // stored, not deflated: a steady write
	os.MkdirAll(filepath.Dir(small), 0o755)
	os.WriteFile(small, []byte("namn;lön\nÅsa;35000\n"), 0o600)
	f, _ := os.Create(big)
	f.Truncate(192 << 20)
	f.Close()
	ins, _, err := crypt.CollectInputs([]string{small, big})
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := crypt.Generate(crypt.GenOptions{})
	arch := filepath.Join(dir, "x.zip")
	if _, err := crypt.Seal(context.Background(), crypt.SealOptions{Inputs: ins, Output: arch, Format: crypt.FormatZip, Password: pw}); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(dir, "in"))

	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dest := filepath.Join(dir, "ut")
			cmd := exec.Command(kuvert, "decrypt", "-o", dest, arch)
			cmd.Env = append(os.Environ(), "KUVERT_PASSWORD="+pw.Value, "KUVERT_HOME="+filepath.Join(dir, "home"))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait until the big entry is being written, then signal.
			deadline := time.Now().Add(30 * time.Second)
			for !writingBig(dest) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("the big entry never started")
				}
				time.Sleep(2 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Errorf("exit: %v, want code %d", err, 128+int(sig))
			} else if ee.ExitCode() != 128+int(sig) {
				t.Errorf("exit: %v (code %d), want %d", err, ee.ExitCode(), 128+int(sig))
			}
			if !strings.Contains(stderr.String(), "kuvert: interrupted") || strings.Contains(stderr.String(), "goroutine") {
				t.Errorf("stderr: %q", stderr.String())
			}
			if _, err := os.Stat(dest); !os.IsNotExist(err) {
				var left []string
				filepath.Walk(dest, func(p string, _ os.FileInfo, _ error) error { left = append(left, p); return nil })
				t.Errorf("left behind: %v", left)
				os.RemoveAll(dest)
			}
		})
	}
}

// writingBig reports whether a temporary file in dest has grown past 1 MiB.
func writingBig(dest string) bool {
	parts, _ := filepath.Glob(filepath.Join(dest, "*", ".kuvert-*.part"))
	more, _ := filepath.Glob(filepath.Join(dest, ".kuvert-*.part"))
	for _, p := range append(parts, more...) {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 1<<20 {
			return true
		}
	}
	return false
}
