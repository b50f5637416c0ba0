//go:build unix

package crypt

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Opening a named pipe as an archive hung forever (open
// waits for a writer). Every input that is not a regular file is refused
// before it is opened: pipe, device, folder.
func TestNonRegularArchiveRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "lista.zip")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/null", dir} {
		for name, open := range map[string]func() error{
			"inspect": func() error { _, err := Inspect(p); return err },
			"list":    func() error { _, err := List(p, OpenOptions{}); return err },
			"verify": func() error {
				_, err := Verify(t.Context(), p, OpenOptions{Credentials: Credentials{Password: "pw"}})
				return err
			},
			"extract": func() error { _, err := extractTo(p, filepath.Join(dir, "out"), "pw", Limits{}); return err },
		} {
			done := make(chan error, 1)
			go func() { done <- open() }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "not a regular file") {
					t.Errorf("%s %s: err = %v, want ErrInput (not a regular file)", name, p, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s %s: still waiting after 5 s", name, p)
			}
		}
	}
	assertNothingLeft(t, filepath.Join(dir, "out"))
}

// Sealing never opens a pipe either: a named one is refused, one inside a
// folder is skipped and reported. (This already held; kept as a guard.)
func TestNonRegularSealInputs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mapp", "a.csv"), []byte("x"), time.Time{})
	fifo := filepath.Join(dir, "mapp", "rör")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := CollectInputs([]string{fifo}); !errors.Is(err, ErrInput) {
		t.Fatalf("named pipe: %v", err)
	}
	ins, skipped, err := CollectInputs([]string{filepath.Join(dir, "mapp")})
	if err != nil || len(ins) != 1 || len(skipped) != 1 || skipped[0] != fifo {
		t.Fatalf("ins=%v skipped=%v err=%v", ins, skipped, err)
	}
}
