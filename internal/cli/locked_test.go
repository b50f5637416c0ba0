package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// A held input (Windows' sharing violation, made here by hand: only
// Windows refuses such opens) reads Swedish first, names the file, says
// what to do, and keeps the input error's exit code. The Wine session
// testdata/windows/locked.txtar does it for real with kuvert.exe.
func TestLockedInputMessage(t *testing.T) {
	le := &crypt.LockedError{Path: "Lönelista december.xlsx", Err: syscall.Errno(32)}
	err := fmt.Errorf("sealing: %w", le)
	if !errors.Is(err, crypt.ErrInput) || !errors.Is(err, crypt.ErrLocked) {
		t.Fatalf("%v matches neither ErrInput nor ErrLocked", err)
	}
	got := explainLocked(err)
	if exitCode(got) != ExitUsage {
		t.Errorf("exit code %d, want %d", exitCode(got), ExitUsage)
	}
	want := "filen Lönelista december.xlsx är öppen i ett annat program (t.ex. Excel) / Lönelista december.xlsx is open in another program (e.g. Excel)"
	if got.Error() != want {
		t.Errorf("message %q\nwant %q", got.Error(), want)
	}
	if h := hints(got); len(h) != 1 || h[0] != lockedHint {
		t.Errorf("hints %q", h)
	}
	if other := errors.New("x"); explainLocked(other) != other {
		t.Error("explainLocked changed an unrelated error")
	}
}

// Run prints it so, on one line each.
func TestLockedInputRun(t *testing.T) {
	var errb bytes.Buffer
	s := &IOStreams{In: strings.NewReader(""), Out: new(bytes.Buffer), ErrOut: &errb}
	// A folder that does not exist: not locked, the ordinary message.
	code := Run(context.Background(), []string{"encrypt", t.TempDir() + "/saknas.xlsx"}, s)
	if code != ExitUsage || strings.Contains(errb.String(), "annat program") {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}
