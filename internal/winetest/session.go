package winetest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Exe is the absolute path of the Windows program a make target names in
// the environment variable env (e.g. KUVERT_WINDOWS_EXE=bin/kuvert.exe);
// the test is skipped when the variable is unset (hint says how to set
// it) and fails when it names nothing.
func Exe(t testing.TB, env, hint string) string {
	t.Helper()
	exe := os.Getenv(env)
	if exe == "" {
		t.Skipf("make test-windows runs this with %s", hint)
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	return exe
}

// Start makes a prefix of the test's own (see [New]) after [Require],
// and stops its wineserver when the test ends. repo is the repository's
// root, where windows/wine holds the DLL's source.
func Start(t testing.TB, repo string) *Prefix {
	t.Helper()
	Require(t)
	repo, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := New(t.TempDir(), repo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pfx.Stop)
	return pfx
}

// Display starts a virtual X server (Xvfb) for the test's windows and
// sets DISPLAY for the rest of the test, so that every Wine program of
// the session gets it, wineboot and winepath too: the first program that
// wants a desktop starts Wine's desktop process, which lingers, and one
// started without a display leaves the next window with no driver
// ("Failed to create helper window"; a file dialog then returns at once
// as if cancelled). Call it before [Start]. Xvfb missing fails the test
// in CI and skips it elsewhere.
func Display(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("Xvfb not found (make deps installs xvfb): required in CI")
		}
		t.Skip("Xvfb not found (make deps installs xvfb)")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb did not start")
		}
		// A Swedish keyboard, as the clerk's: å, ä and ö have keys of
		// their own, so xdotool types them with those. On the US layout
		// it lends a spare key to each such letter for a moment, and a
		// program that reads the keyboard map late gets nothing (seen:
		// "Löner" typed into Wine's file dialog as "Lner" on a busy
		// machine).
		if out, err := exec.Command("setxkbmap", "-display", ":"+n, "se").CombinedOutput(); err != nil {
			t.Fatalf("setxkbmap se (make deps-windows installs x11-xkb-utils): %v %s", err, out)
		}
		t.Setenv("DISPLAY", ":"+n)
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start in 30 s")
	}
	return ""
}
