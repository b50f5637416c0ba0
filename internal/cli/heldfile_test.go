package cli

import (
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
	got := explainHeld(err)
	if exitCode(got) != ExitUsage {
		t.Errorf("exit code %d, want %d", exitCode(got), ExitUsage)
	}
	want := "filen Lönelista december.xlsx är öppen i ett annat program (t.ex. Excel) / Lönelista december.xlsx is open in another program (e.g. Excel)"
	if got.Error() != want {
		t.Errorf("message %q\nwant %q", got.Error(), want)
	}
	if h := hints(got); len(h) != 1 || h[0] != heldFileHint {
		t.Errorf("hints %q", h)
	}
	if other := errors.New("x"); explainHeld(other) != other {
		t.Error("explainHeld changed an unrelated error")
	}
}

// Run prints it so, on one line each.
func TestLockedInputRun(t *testing.T) {
	t.Parallel()
	// A folder that does not exist: not locked, the ordinary message.
	code, _, errb := newTestEnv(t).run("encrypt", t.TempDir()+"/saknas.xlsx")
	if code != ExitUsage || strings.Contains(errb, "annat program") {
		t.Fatalf("code %d, stderr %q", code, errb)
	}
}
