package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/internal/winetest"
)

// TestWindowsGUI starts kuvert-gui.exe (KUVERT_WINDOWS_GUI; make
// test-windows builds it) under Wine the way Explorer's "Skicka med
// kuvert" does, and checks how the desktop reaches the mail program.
// One Wine prefix and one X server for all; the Wine programs start one
// at a time, but for the four that Explorer starts at once.
func TestWindowsGUI(t *testing.T) {
	exe := winetest.Exe(t, "KUVERT_WINDOWS_GUI", "KUVERT_WINDOWS_GUI=bin/kuvert-gui.exe")
	winetest.Require(t)
	// The clerk's desktop: Swedish. Wine maps å, ä, ö in file names only
	// through a UTF-8 glibc locale (make deps-windows makes sv_SE.UTF-8).
	t.Setenv("LANG", "sv_SE.UTF-8")
	t.Setenv("LC_ALL", "sv_SE.UTF-8")
	for _, k := range []string{"KUVERT_HOME", "KUVERT_SMS_PROVIDER", "KUVERT_GUI_TAB", "KUVERT_GUI_PHONE"} {
		t.Setenv(k, "")
	}
	winetest.Display(t) // for every Wine program of the session
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pfx := winetest.Start(t, repo)
	t.Run("explorer", func(t *testing.T) { testExplorerStarts(t, pfx, exe) })
	t.Run("explorer-at-once", func(t *testing.T) { testExplorerAtOnce(t, pfx, exe) })
	t.Run("outlook", func(t *testing.T) { testShellOpensDraft(t, pfx, repo) })
}

// testExplorerStarts: the first start has two files (the %* verb: the
// whole selection in one process), a second start one more (the "%1"
// verb, or a right-click while the app runs). The second exits 0 quickly,
// after the first window took its file: its answer counts three. A third
// start adds a folder's two files, not a file already there, and names
// one that is gone.
func testExplorerStarts(t *testing.T, pfx *winetest.Prefix, exe string) {
	dir := filepath.Join(t.TempDir(), "Lönelistor för maj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var win []string
	for _, name := range []string{"Åsa Öberg lön.csv", "intyg för Örjan.txt", "avtal 2026 bilaga.txt"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("anställd;lön\nÅsa;34500\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		wp, err := pfx.WindowsPath(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(wp, `\Lönelistor för maj\`) {
			t.Fatalf("Windows path %q lost its letters", wp)
		}
		win = append(win, wp)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// %LOCALAPPDATA%\kuvert of the prefix's user, named after the Unix one.
	claim := filepath.Join(pfx.Dir, "drive_c", "users", me.Username, "AppData", "Local", "kuvert", "gui.addr")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := pfx.Env(nil)
	first := pfx.Command(ctx, exe, win[0], win[1])
	first.Env = env
	// A file, not a pipe: Wine's own processes may outlive the program
	// and hold a pipe open.
	logf, err := os.Create(filepath.Join(t.TempDir(), "first.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	firstOut := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	first.Stdout, first.Stderr = logf, logf
	start := time.Now()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = first.Wait(); close(exited) }()
	defer func() {
		first.Process.Kill()
		<-exited
	}()
	for {
		if _, err := os.Stat(claim); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("the first kuvert-gui.exe ended (%v):\n%s", exitErr, firstOut())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("the first kuvert-gui.exe did not claim %s in 2 min:\n%s", claim, firstOut())
		}
	}
	t.Logf("first window listening after %v", time.Since(start).Round(time.Millisecond))

	second := func(args ...string) (string, time.Duration) {
		t.Helper()
		cmd := pfx.Command(ctx, exe, args...)
		cmd.Env = env
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(t0)
		if err != nil {
			t.Fatalf("a second kuvert-gui.exe %q: %v (after %v)\n%s\nfirst:\n%s", args, err, took, out, firstOut())
		}
		return string(out), took
	}
	out, took := second(win[2])
	t.Logf("second start answered in %v: %s", took.Round(time.Millisecond), strings.TrimSpace(out))
	if !strings.Contains(out, "3 filer i formuläret / 3 files in the form") {
		t.Errorf("the second start printed %q, want the window's 3 files", out)
	}
	if took > 20*time.Second {
		t.Errorf("the second start took %v", took)
	}
	// A file already there, one gone since the right-click, and a folder,
	// whose two files join as the form adds a folder.
	sub := filepath.Join(dir, "Bilagor för Åsa")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bilaga 1.txt", "bilaga 2.txt"} {
		if err := os.WriteFile(filepath.Join(sub, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wsub, err := pfx.WindowsPath(sub)
	if err != nil {
		t.Fatal(err)
	}
	gone := strings.TrimSuffix(win[0], "Åsa Öberg lön.csv") + "flyttad fil.pdf"
	out, _ = second(win[0], gone, wsub)
	if !strings.Contains(out, "5 filer i formuläret / 5 files in the form") || !strings.Contains(out, gone) {
		t.Errorf("a start with a file already there, a missing one and a folder printed %q", out)
	}
	select {
	case <-exited:
		t.Fatalf("the first window ended (%v):\n%s", exitErr, firstOut())
	default:
	}
}

// testExplorerAtOnce: the MSI's verb passes "%1", so for four files
// selected together Explorer starts four kuvert-gui.exe at the same
// moment, with no window running yet. One becomes the window; the other
// three hand their file to it (each waiting for it to listen) and exit 0.
// Their answers count 2, 3 and 4 files: all four in one window, none
// dropped, no second window.
func testExplorerAtOnce(t *testing.T, pfx *winetest.Prefix, exe string) {
	dir := filepath.Join(t.TempDir(), "Utskick för juni")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env := pfx.Env(nil)
	type start struct {
		cmd  *exec.Cmd
		log  string
		done chan struct{}
		err  error
	}
	var starts []*start
	defer func() {
		for _, s := range starts {
			s.cmd.Process.Kill()
			<-s.done
		}
	}()
	logs := t.TempDir()
	for i, name := range []string{"lönespec Åsa.pdf", "lönespec Örjan.pdf", "lönespec Ängla.pdf", "lönespec Östen.pdf"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("%PDF-1.4 "+name), 0o644); err != nil {
			t.Fatal(err)
		}
		wp, err := pfx.WindowsPath(p)
		if err != nil {
			t.Fatal(err)
		}
		s := &start{cmd: pfx.Command(ctx, exe, wp), log: filepath.Join(logs, fmt.Sprintf("start%d.log", i)), done: make(chan struct{})}
		s.cmd.Env = env
		f, err := os.Create(s.log)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s.cmd.Stdout, s.cmd.Stderr = f, f
		starts = append(starts, s)
	}
	t0 := time.Now()
	for _, s := range starts {
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { s.err = s.cmd.Wait(); close(s.done) }()
	}
	out := func(s *start) string { b, _ := os.ReadFile(s.log); return strings.TrimSpace(string(b)) }
	all := func() string {
		var b strings.Builder
		for i, s := range starts {
			fmt.Fprintf(&b, "start %d:\n%s\n", i, out(s))
		}
		return b.String()
	}
	ended := func() (n int) {
		for _, s := range starts {
			select {
			case <-s.done:
				n++
			default:
			}
		}
		return n
	}
	for ended() < len(starts)-1 {
		if time.Since(t0) > 2*time.Minute {
			t.Fatalf("%d of %d starts ended in 2 min; the rest run (two windows?):\n%s", ended(), len(starts), all())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("three starts handed off within %v", time.Since(t0).Round(time.Millisecond))
	var counts []string
	for _, s := range starts {
		select {
		case <-s.done:
		default:
			continue // the window
		}
		if s.err != nil {
			t.Errorf("a start ended with %v", s.err)
		}
		o := out(s)
		if strings.Contains(o, "ett nytt öppnas") {
			t.Errorf("a start opened a window of its own: %q", o)
		}
		var n int
		if _, err := fmt.Sscanf(o, "%d filer i formuläret", &n); err != nil {
			t.Errorf("a start printed %q", o)
		}
		counts = append(counts, fmt.Sprint(n))
	}
	slices.Sort(counts)
	if got := strings.Join(counts, " "); got != "2 3 4" {
		t.Errorf("the hand-offs counted %q files, want 2 3 4 (every file in one window)\n%s", got, all())
	}
	time.Sleep(time.Second)
	if ended() != len(starts)-1 {
		t.Errorf("the window ended too:\n%s", all())
	}
}

// testShellOpensDraft: internal/desktop's Open, in a Windows program
// built from source, asks the shell to open an .eml draft. A fresh prefix
// has no mail program (the "no program takes .eml" path); with a stand-in
// registered for .eml in the registry, the shell starts it with the
// draft's full path.
func testShellOpensDraft(t *testing.T, pfx *winetest.Prefix, repo string) {
	bin := filepath.Join(t.TempDir(), "Program Files", "Testpost")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"shellopen", "recorder"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name+".exe"), "./internal/desktop/testdata/"+name)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s.exe: %v\n%s", name, err, out)
		}
	}
	dir := filepath.Join(t.TempDir(), "Utkast för Åsa")
	os.Mkdir(dir, 0o755)
	eml := filepath.Join(dir, "lönelista maj.zip.eml")
	if err := os.WriteFile(eml, []byte("X-Unsent: 1\r\nSubject: Krypterad bilaga\r\n\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	weml, err := pfx.WindowsPath(eml)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shellOpen := func() (string, int) {
		cmd := pfx.Command(ctx, filepath.Join(bin, "shellopen.exe"), weml)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out)), code
	}

	if out, code := shellOpen(); code != 3 || out != "noassoc" {
		t.Fatalf("with no mail program: exit %d, %q; want 3, noassoc", code, out)
	}

	wrec, err := pfx.WindowsPath(filepath.Join(bin, "recorder.exe"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{`HKCR\.eml`, "/ve", "/d", "kuverttest.eml", "/f"},
		{`HKCR\kuverttest.eml\shell\open\command`, "/ve", "/d", fmt.Sprintf(`"%s" "%%1"`, wrec), "/f"},
	} {
		cmd := pfx.Command(ctx, "reg", append([]string{"add"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("reg add %q: %v\n%s", args, err, out)
		}
	}
	if out, code := shellOpen(); code != 0 || out != "ok" {
		t.Fatalf("with a mail program: exit %d, %q", code, out)
	}
	rec := filepath.Join(bin, "recorder.txt")
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(rec)
		if err == nil {
			if got := strings.TrimSpace(string(b)); got != weml {
				t.Errorf("the mail program was asked to open %q, want %q", got, weml)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mail program was not started in 30 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
