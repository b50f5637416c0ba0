package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// windowsCmds are the commands the Windows-only sessions
// (testdata/windows) use to do to kuvert.exe what a Windows desktop does:
// press Ctrl-C, and hold a file open the way Excel does.
func windowsCmds(wintool string) map[string]func(*testscript.TestScript, bool, []string) {
	return map[string]func(*testscript.TestScript, bool, []string){
		"ctrlc":   cmdCtrlC,
		"credman": cmdCredman,
		"lock":    func(ts *testscript.TestScript, neg bool, args []string) { cmdLock(ts, wintool, args) },
	}
}

// sessionEnv is the environment a session's exec gets, for the commands
// that start programs themselves (testscript exposes no whole list).
func sessionEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{
		"PATH", "HOME", "USER", "TZ", "LC_ALL", "LANG", "WORK",
		"WINEPREFIX", "WINEDEBUG", "WINEARCH", "WINEDLLOVERRIDES",
		"KUVERT_WINE_LOADER", "KUVERT_WINDOWS_EXE", "KUVERT_WINE_TMP",
		"KUVERT_HOME", "KUVERT_SMS_PROVIDER", "KUVERT_SMS_FROM", "KUVERT_SMS_TIMEOUT",
		"KUVERT_TWILIO_API_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
	} {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	// Wine keeps its server's socket under TMPDIR, as the kuvert wrapper
	// sets it (TestScriptsWindows); Ctrl-C must reach the program itself,
	// so the wrapper becomes it (wineWrapper).
	return append(env, "TMPDIR="+ts.Getenv("KUVERT_WINE_TMP"), "KUVERT_WRAP_EXEC=1")
}

// ctrlc CODE WAIT PROG ARGS... runs PROG, presses Ctrl-C and checks that
// PROG exits with CODE; its output is in ctrlc.stdout and ctrlc.stderr.
// WAIT says when: a glob (for a temporary file that has grown past
// 1 MiB: the program is writing), or "stdin" (the program waits for a
// password on a standard input that never ends).
//
// Ctrl-C is SIGINT to the Wine process: Wine 8.0 hands it to the program
// as CTRL_C_EVENT through its console control handlers, the path Ctrl-C
// takes on Windows (measured; GenerateConsoleCtrlEvent from a helper
// fails under Wine for programs started from the Unix side).
func cmdCtrlC(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 {
		ts.Fatalf("usage: ctrlc CODE WAIT PROG ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	// The session's PATH, where kuvert is the wrapper that runs
	// kuvert.exe under Wine, not the test process's.
	prog := lookPath(ts.Getenv("PATH"), args[2])
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args[3:]...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = sessionEnv(ts)
	stdin, err := cmd.StdinPipe() // held open: a read from it blocks
	ts.Check(err)
	defer stdin.Close()
	stdout, err := os.Create(ts.MkAbs("ctrlc.stdout"))
	ts.Check(err)
	defer stdout.Close()
	stderr, err := os.Create(ts.MkAbs("ctrlc.stderr"))
	ts.Check(err)
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	if args[1] == "stdin" {
		// Nothing to watch on disk: wait until Wine has mapped the
		// program (its runtime then sets up its handlers within
		// milliseconds), and a second more for it to reach the read.
		exe := filepath.Base(ts.Getenv("KUVERT_WINDOWS_EXE"))
		for !mapped(cmd.Process.Pid, exe) {
			select {
			case err := <-exited:
				ts.Fatalf("%s ended before Ctrl-C: %v", args[2], err)
			case <-time.After(20 * time.Millisecond):
			}
			if time.Since(start) > time.Minute {
				ts.Fatalf("%s never started", exe)
			}
		}
		select {
		case err := <-exited:
			ts.Fatalf("%s ended before Ctrl-C: %v", args[2], err)
		case <-time.After(time.Second):
		}
	} else {
		for !grown(ts.MkAbs(args[1])) {
			select {
			case err := <-exited:
				ts.Fatalf("%s ended before it wrote %s: %v", args[2], args[1], err)
			case <-time.After(5 * time.Millisecond):
			}
			if time.Since(start) > time.Minute {
				ts.Fatalf("%s never wrote %s", args[2], args[1])
			}
		}
	}
	ts.Check(cmd.Process.Signal(os.Interrupt))
	sent := time.Now()
	select {
	case err = <-exited:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-exited
		ts.Fatalf("%s still ran 20 s after Ctrl-C", args[2])
	}
	ts.Logf("Ctrl-C after %v; ended %v later", sent.Sub(start).Round(time.Millisecond), time.Since(sent).Round(time.Millisecond))
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			ts.Fatalf("%s was killed by %v instead of cleaning up", args[2], ws.Signal())
		}
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

func lookPath(path, name string) string {
	if strings.ContainsRune(name, '/') {
		return name
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}

// mapped reports whether the process pid has exe mapped (Linux /proc):
// under Wine, the Windows program has been loaded.
func mapped(pid int, exe string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	return err == nil && strings.Contains(string(b), exe)
}

// grown reports whether a file matching glob holds more than 1 MiB.
func grown(glob string) bool {
	ms, _ := filepath.Glob(glob)
	for _, m := range ms {
		if fi, err := os.Stat(m); err == nil && fi.Size() > 1<<20 {
			return true
		}
	}
	return false
}

// lock FILE holds FILE open with share mode 0, as Excel holds an open
// workbook, until the session ends or `lock -release FILE`. The holder
// is wintool.exe (internal/winetest/testdata/wintool), started under Wine
// in the session's prefix.
func cmdLock(ts *testscript.TestScript, wintool string, args []string) {
	if len(args) == 2 && args[0] == "-release" {
		if rel := locks(ts)[ts.MkAbs(args[1])]; rel != nil {
			rel()
			return
		}
		ts.Fatalf("%s is not locked", args[1])
	}
	if len(args) != 1 {
		ts.Fatalf("usage: lock FILE | lock -release FILE")
	}
	cmd := exec.Command(ts.Getenv("KUVERT_WINE_LOADER"), wintool, "lock", args[0])
	cmd.Env = sessionEnv(ts)
	cmd.Dir = ts.MkAbs(".")
	in, err := cmd.StdinPipe()
	ts.Check(err)
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	var errb strings.Builder
	cmd.Stderr = &errb
	ts.Check(cmd.Start())
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		in.Close()
		cmd.Wait()
		ts.Fatalf("wintool lock %s: %q %s", args[0], line, errb.String())
	}
	var once bool
	release := func() {
		if once {
			return
		}
		once = true
		in.Close() // wintool lets go when its stdin ends
		go io.Copy(io.Discard, out)
		cmd.Wait()
	}
	ts.Defer(release)
	locks(ts)[ts.MkAbs(args[0])] = release
}

// locksKey holds a session's held files (file → release), set up in
// TestScriptsWindows.
type locksKey struct{}

func locks(ts *testscript.TestScript) map[string]func() {
	m, _ := ts.Value(locksKey{}).(map[string]func())
	if m == nil {
		ts.Fatalf("lock: the session has no lock table (TestScriptsWindows sets it up)")
	}
	return m
}

// credKey is where Wine 8.0 keeps Credential Manager (advapi32's
// CredWriteW/CredReadW): its registry, encrypted with the key in the
// EncryptionKey value.
const credKey = `HKCU\Software\Wine\Credential Manager`

// credman reset|break: reset empties Credential Manager now and again
// when the session ends (the prefix, and so its keyring, is shared by
// every session of the run: no secret may outlive this one); break
// makes every Cred* call fail, as on a desktop whose Credential Manager
// is unavailable: an EncryptionKey that is not REG_BINARY makes Wine
// answer ERROR_REGISTRY_CORRUPT (dlls/advapi32/cred.c).
func cmdCredman(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: credman reset|break")
	}
	reg := func(args ...string) error {
		cmd := exec.Command(ts.Getenv("KUVERT_WINE_LOADER"), append([]string{"reg"}, args...)...)
		cmd.Env = sessionEnv(ts)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("wine reg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	switch args[0] {
	case "reset":
		reset := func() { _ = reg("delete", credKey, "/f") } // absent is fine
		reset()
		ts.Defer(reset)
	case "break":
		ts.Check(reg("add", credKey, "/v", "EncryptionKey", "/t", "REG_SZ", "/d", "kaputt", "/f"))
	default:
		ts.Fatalf("usage: credman reset|break")
	}
}
