// Package winetest runs kuvert's Windows programs under Wine in tests: a
// Wine prefix of the test's own in a temporary folder, made ready for Go
// programs, and a way to run an .exe in it.
//
// Debian 12's Wine 8.0 lacks bcryptprimitives.dll, whose ProcessPrng the
// Go runtime (1.22 and later) needs at start. The prefix gets one built
// here from windows/wine/processprng.c with mingw-w64; nothing built is
// kept outside the prefix.
package winetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Wine is the 64-bit Wine loader: Debian keeps it out of PATH.
func Wine() (string, error) {
	if p := os.Getenv("KUVERT_WINE"); p != "" {
		return p, nil
	}
	for _, p := range []string{"/usr/lib/wine/wine64", "/usr/bin/wine64", "/opt/wine-stable/bin/wine64"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("wine64"); err == nil {
		return p, nil
	}
	return "", errors.New("wine64 not found (make deps-windows installs Debian's wine64)")
}

// Prefix is a Wine prefix for one test run.
type Prefix struct {
	Dir  string // WINEPREFIX
	wine string
	tmp  string // TMPDIR, where the wineserver keeps its socket
}

// Require fails the test in CI and skips it elsewhere when Wine or
// mingw-w64 is missing.
func Require(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("Wine tests run on Linux")
	}
	w, err := Wine()
	if err == nil {
		_, err = exec.LookPath("x86_64-w64-mingw32-gcc")
		if err != nil {
			err = errors.New("x86_64-w64-mingw32-gcc not found (make deps-windows installs gcc-mingw-w64-x86-64)")
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: required in CI", err)
		}
		t.Skip(err)
	}
	return w
}

// New makes a prefix in dir: wineboot, then the ProcessPrng DLL built
// from source into its system32. repo is the repository's root.
func New(dir, repo string) (*Prefix, error) {
	w, err := Wine()
	if err != nil {
		return nil, err
	}
	// Wine finds the prefix's server through a socket under TMPDIR: a
	// program started with another TMPDIR finds none, starts a server of
	// its own that boots the prefix's services (seconds) and stops when
	// the program ends, resetting the connection of any program that
	// starts meanwhile. Every program of the prefix gets this one.
	p := &Prefix{Dir: dir, wine: w, tmp: filepath.Join(dir, ".tmp")}
	if err := os.MkdirAll(p.tmp, 0o700); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, w, "wineboot", "-i")
	cmd.Env = p.Env(nil)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("wineboot: %v\n%s", err, out)
	}
	src := filepath.Join(repo, "windows", "wine")
	dll := filepath.Join(dir, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	cc := exec.CommandContext(ctx, "x86_64-w64-mingw32-gcc", "-O2", "-shared", "-o", dll,
		filepath.Join(src, "processprng.c"), filepath.Join(src, "bcryptprimitives.def"), "-ladvapi32")
	if out, err := cc.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building bcryptprimitives.dll: %v\n%s", err, out)
	}
	// One wineserver for the whole run: a server that stops between two
	// programs resets the next one's connection ("wine client error").
	// wineboot's own server lingers a few seconds: wait for it to go,
	// then start one that stays. It forks into the background: no pipes
	// of ours for it to hold open.
	for _, args := range [][]string{{"-w"}, {"-p"}} {
		ws := exec.CommandContext(ctx, p.wineserver(), args...)
		ws.Env = p.Env(nil)
		if err := ws.Run(); err != nil {
			return nil, fmt.Errorf("wineserver %s: %v", args[0], err)
		}
	}
	// The first program of a server starts the prefix's services and
	// desktop, which live as long as the server and inherit that
	// program's standard output: a test's pipe would never close. Start
	// them here, with nothing of ours to inherit.
	warm := exec.CommandContext(ctx, w, "cmd.exe", "/c", "exit")
	warm.Env = p.Env(nil)
	if err := warm.Run(); err != nil {
		p.Stop()
		return nil, fmt.Errorf("starting the prefix's services: %v", err)
	}
	return p, nil
}

// wineserver is the server program itself: Debian's wineserver is a
// script that always adds -p0 (stop as soon as the last program ends).
func (p *Prefix) wineserver() string {
	for _, name := range []string{"wineserver64", "wineserver"} {
		ws := filepath.Join(filepath.Dir(p.wine), name)
		if _, err := os.Stat(ws); err == nil {
			return ws
		}
	}
	return "wineserver"
}

// Env is env (the process's own when nil) with the prefix's variables.
func (p *Prefix) Env(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	out := make([]string, 0, len(env)+4)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "WINEPREFIX", "WINEDEBUG", "WINEARCH", "WINEDLLOVERRIDES", "TMPDIR":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "WINEPREFIX="+p.Dir, "TMPDIR="+p.tmp, "WINEDEBUG=-all", "WINEARCH=win64",
		// No Mono or Gecko installer prompts in a headless prefix.
		"WINEDLLOVERRIDES=mscoree,mshtml=")
}

// Tmp is the TMPDIR every program of the prefix must run with (see
// [Prefix.Env]) to reach its one wineserver.
func (p *Prefix) Tmp() string { return p.tmp }

// Loader is the Wine program to run an .exe with.
func (p *Prefix) Loader() string { return p.wine }

// Command runs exe under Wine in the prefix.
func (p *Prefix) Command(ctx context.Context, exe string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.wine, append([]string{exe}, args...)...)
	cmd.Env = p.Env(nil)
	return cmd
}

// WindowsPath is a Unix path as the programs in the prefix see it.
func (p *Prefix) WindowsPath(path string) (string, error) {
	cmd := exec.Command(p.wine, "winepath", "-w", path)
	cmd.Env = p.Env(nil)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("winepath: %v", err)
	}
	return strings.TrimSpace(out.String()), nil
}

// Stop ends the prefix's wineserver, so no process outlives the test.
func (p *Prefix) Stop() {
	cmd := exec.Command(p.wineserver(), "-k")
	cmd.Env = p.Env(nil)
	_ = cmd.Run()
}

// BuildTool builds wintool.exe (testdata/wintool: holds a file open as
// Excel does) from source into dir and returns its path. repo is the
// repository's root.
func BuildTool(dir, repo string) (string, error) {
	exe := filepath.Join(dir, "wintool.exe")
	cmd := exec.Command("go", "build", "-o", exe, "./internal/winetest/testdata/wintool")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building wintool.exe: %v\n%s", err, out)
	}
	return exe, nil
}
