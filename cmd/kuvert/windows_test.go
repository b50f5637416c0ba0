package main

import (
	"bytes"
	"debug/pe"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kuvert-app/kuvert/internal/winetest"
)

// windowsScripts are the CLI sessions that make sense on a Windows
// desktop. TestScriptsWindows runs them, unchanged, against the
// cross-built kuvert.exe under Wine, plus the Windows-only sessions in
// testdata/windows. Every shared session is here or in windowsLeftOut.
var windowsScripts = []string{
	"encrypt_decrypt", "interop_7zip", "age", "genpass",
	"usage", "guard", "mistyped", "log", "batch", "batch_exit", "sms_console", "outbox",
	"config", "sms", "sms_trust", "server_offline", "paste",
	"batch_mail", "batch_runs", "resend", "resend_batch", "resend_race",
	"opener", "opener_brand", "opener_link",
}

// windowsLeftOut are the shared sessions that do not run on Windows, and
// why.
var windowsLeftOut = map[string]string{
	"prompt":         "it drives kuvert through a Unix pseudo-terminal, which a Windows console is not (under Wine the session hangs until the deadline)",
	"special_inputs": "it feeds kuvert FIFOs, Unix sockets and device files, which Windows has not",
	"policy":         "machine policy comes from a file there; Windows reads the registry (testdata/windows/policy.txtar is its twin)",
}

// Every shared session either runs on Windows or says why not: a new
// one is not left out by forgetting.
func TestWindowsScriptsChosen(t *testing.T) {
	all, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(all) == 0 {
		t.Fatalf("no sessions: %v", err)
	}
	for _, p := range all {
		name := strings.TrimSuffix(filepath.Base(p), ".txtar")
		_, out := windowsLeftOut[name]
		if in := slices.Contains(windowsScripts, name); in == out {
			t.Errorf("session %s: on Windows %v, left out %v; want exactly one", name, in, out)
		}
	}
	for _, name := range append(slices.Clone(windowsScripts), slices.Collect(maps.Keys(windowsLeftOut))...) {
		if _, err := os.Stat(filepath.Join("testdata", name+".txtar")); err != nil {
			t.Errorf("%s: no such session", name)
		}
	}
}

// wineWrapper is the sessions' `kuvert`: kuvert.exe under Wine.
//
// Under load (two test lanes at once), Wine 8.0 now and then ends a
// program with exit status 1 before it has written a byte, with Wine's
// own diagnostics off (WINEDEBUG=-all; turned on, they break the
// sessions' `! stderr .`). Seen twice in about five full runs, both times
// on `kuvert log verify`; not in 160 runs of it in a loop, idle or with
// both cores busy. kuvert
// itself never exits 1 without saying why on stderr, so such a run is
// Wine's: it is run once more with the same standard input, and noted in
// KUVERT_WINE_SILENT, which the test prints. A second silent exit stands,
// and the session fails as it would have.
//
// With KUVERT_WRAP_EXEC set the wrapper becomes Wine (exec), so that a
// signal to it reaches the program: Ctrl-C (the ctrlc command) and
// kill -KILL of a background job.
const wineWrapper = `#!/bin/sh
export TMPDIR="$KUVERT_WINE_TMP"
if [ -n "$KUVERT_WRAP_EXEC" ]; then
	exec "$KUVERT_WINE_LOADER" "$KUVERT_WINDOWS_EXE" "$@"
fi
d=$(mktemp -d)
cat > "$d/in"
try=1
while :; do
	"$KUVERT_WINE_LOADER" "$KUVERT_WINDOWS_EXE" "$@" < "$d/in" > "$d/out" 2> "$d/err"
	rc=$?
	if [ $rc -eq 1 ] && [ $try -eq 1 ] && [ ! -s "$d/out" ] && [ ! -s "$d/err" ]; then
		echo "kuvert $*" >> "$KUVERT_WINE_SILENT"
		try=2
		continue
	fi
	break
done
cat "$d/out"
cat "$d/err" >&2
rm -rf "$d"
exit $rc
`

// TestScriptsWindows runs the Windows sessions against the program named
// by KUVERT_WINDOWS_EXE (make test-windows builds bin/kuvert.exe and sets
// it) under Wine, in a Wine prefix of the test's own.
func TestScriptsWindows(t *testing.T) {
	exe := winetest.Exe(t, "KUVERT_WINDOWS_EXE", "KUVERT_WINDOWS_EXE=bin/kuvert.exe")
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pfx := winetest.Start(t, repo)

	// A wrapper named kuvert ahead of the test binary's own on PATH, so
	// the scripts' `exec kuvert` runs kuvert.exe under Wine.
	wrap := t.TempDir()
	// Wine finds the prefix's one server through TMPDIR (winetest.Prefix.Env):
	// the sessions keep theirs in $WORK, where they list and scan folders.
	silent := filepath.Join(t.TempDir(), "silent.log")
	if err := os.WriteFile(filepath.Join(wrap, "kuvert"), []byte(wineWrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b, err := os.ReadFile(silent); err == nil {
			t.Logf("Wine ended kuvert.exe with exit 1 before it wrote anything, and the run was repeated:\n%s", b)
		}
	})
	// And winreg: Windows' reg.exe in the prefix, for machine policy.
	reg := "#!/bin/sh\nTMPDIR=\"$KUVERT_WINE_TMP\" exec \"$KUVERT_WINE_LOADER\" reg.exe \"$@\"\n"
	if err := os.WriteFile(filepath.Join(wrap, "winreg"), []byte(reg), 0o755); err != nil {
		t.Fatal(err)
	}

	wineTmp := pfx.Tmp()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	wintool, err := winetest.BuildTool(t.TempDir(), repo)
	if err != nil {
		t.Fatal(err)
	}
	underWine = true
	t.Cleanup(func() { underWine = false })
	p := scriptParams()
	for k, v := range windowsCmds(wintool) {
		p.Cmds[k] = v
	}
	for _, name := range windowsScripts {
		p.Files = append(p.Files, filepath.Join("testdata", name+".txtar"))
	}
	wins, _ := filepath.Glob(filepath.Join("testdata", "windows", "*.txtar"))
	p.Files = append(p.Files, wins...)
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		for _, kv := range pfx.Env([]string{}) {
			if k, v, _ := strings.Cut(kv, "="); k != "TMPDIR" {
				env.Setenv(k, v)
			}
		}
		env.Setenv("KUVERT_WINE_LOADER", pfx.Loader())
		env.Setenv("KUVERT_WINDOWS_EXE", exe)
		env.Setenv("PATH", wrap+string(os.PathListSeparator)+env.Getenv("PATH"))
		env.Setenv("KUVERT_WINE_TMP", wineTmp)
		env.Setenv("KUVERT_WINE_SILENT", silent)
		env.Values[locksKey{}] = map[string]func(){}
		// %APPDATA% of the prefix's user, who is named after the Unix one.
		env.Setenv("APPDATA_DIR", filepath.Join(pfx.Dir, "drive_c", "users", me.Username, "AppData", "Roaming"))
		return nil
	}
	testscript.Run(t, p)
}

// TestWindowsExe checks that the Windows programs carry their icon and
// version information (scripts/winres.sh), which Explorer, the MSI and
// SmartScreen show.
func TestWindowsExe(t *testing.T) {
	var exes []string
	for _, k := range []string{"KUVERT_WINDOWS_EXE", "KUVERT_WINDOWS_GUI"} {
		if v := os.Getenv(k); v != "" {
			exes = append(exes, v)
		}
	}
	if len(exes) == 0 {
		t.Skip("make test-windows runs this with the built programs")
	}
	for _, exe := range exes {
		f, err := pe.Open(exe)
		if err != nil {
			t.Fatalf("%s: %v", exe, err)
		}
		rsrc := f.Section(".rsrc")
		if rsrc == nil {
			f.Close()
			t.Fatalf("%s has no resources (icon, version information)", exe)
		}
		b, err := rsrc.Data()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"FileDescription", "ProductName", "kuvert – krypterade bilagor"} {
			if !bytes.Contains(b, utf16le(want)) {
				t.Errorf("%s: the version information lacks %q", filepath.Base(exe), want)
			}
		}
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
