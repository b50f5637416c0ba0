//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Ctrl-C while kuvert waits for `--password-file -` on a pipe that
// never ends used to be ignored until a second Ctrl-C: the read blocked
// where the cancelled context could not reach it. Now kuvert stops at
// once with 130, having written nothing. (testdata/windows/interrupt.txtar
// does the same to kuvert.exe under Wine.)
func TestSignalStopsPasswordRead(t *testing.T) {
	kuvert, err := exec.LookPath("kuvert")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "lön.csv")
	os.WriteFile(in, []byte("namn;lön\nÅsa;35000\n"), 0o600)
	cmd := exec.Command(kuvert, "encrypt", "--password-file", "-", in)
	cmd.Env = append(os.Environ(), "KUVERT_HOME="+filepath.Join(dir, "home"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	time.Sleep(500 * time.Millisecond) // reach the read
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err = <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("kuvert still waited for the password 10 s after SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: %v, want code 130", err)
	}
	if !strings.Contains(stderr.String(), "kuvert: interrupted (SIGINT)") {
		t.Errorf("stderr: %q", stderr.String())
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, l := range left {
		if b := filepath.Base(l); b != "lön.csv" && b != "home" {
			t.Errorf("left behind: %s", b)
		}
	}
}
