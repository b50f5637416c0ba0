package msi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/kuvert-app/kuvert/internal/winetest"
	"github.com/kuvert-app/kuvert/settings"
)

// TestMSIUnderWine installs the package with Windows Installer (Wine's
// msiexec, silently, as Intune and SCCM do), then upgrades it, refuses a
// downgrade and uninstalls it, checking the files, the registry and the
// Start-menu shortcut each time. Between install and upgrade, with only
// a server address and an enrollment code written to HKLM's policy key,
// the installed kuvert.exe enrolls itself with a real `kuvert server`
// on PostgreSQL, texts through its relay and ships to its central log;
// after the upgrade it still does, with the token it has. make
// test-windows runs it with the programs it built (KUVERT_WINDOWS_EXE,
// KUVERT_WINDOWS_GUI).
func TestMSIUnderWine(t *testing.T) {
	exe, gui := os.Getenv("KUVERT_WINDOWS_EXE"), os.Getenv("KUVERT_WINDOWS_GUI")
	if exe == "" || gui == "" {
		t.Skip("make test-windows runs this with KUVERT_WINDOWS_EXE and KUVERT_WINDOWS_GUI")
	}
	winetest.Require(t)
	requireTools(t, "wixl", "msiinfo", "convert")
	cli, _ := programs(t)
	start := time.Now()

	// Two releases whose programs differ (bytes appended to the second's),
	// built side by side.
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "kuvert-1.0.0-x64.msi"), filepath.Join(dir, "kuvert-1.1.0-x64.msi")
	oldBin, newBin := winBin(t, exe, gui, ""), winBin(t, exe, gui, "\x00kuvert test release 1.1.0\x00")
	errs := make(chan error, 2)
	for _, b := range []struct{ out, version, bin string }{
		{older, "1.0.0", oldBin},
		{newer, "1.1.0", newBin},
	} {
		go func() {
			stderr, err := buildMSI(t, b.out, "MSI_VERSION="+b.version, "KUVERT="+cli, "WIN_BIN="+b.bin)
			if err != nil {
				err = errors.New(err.Error() + "\n" + stderr)
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("msi.sh: %v", err)
		}
	}
	t.Logf("two packages built in %v", time.Since(start).Round(100*time.Millisecond))

	// The downgrade refusal is the package's launch condition; its text is
	// what Windows shows (a silent install only fails).
	if b, err := exec.Command("msiinfo", "export", older, "LaunchCondition").Output(); err != nil ||
		!strings.Contains(string(b), "En nyare version av kuvert är redan installerad. / A newer version of kuvert is already installed.") {
		t.Errorf("the package's downgrade message (%v):\n%s", err, b)
	}

	mark := time.Now()
	pfx, err := winetest.New(t.TempDir(), repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pfx.Stop)
	t.Logf("Wine prefix in %v", time.Since(mark).Round(100*time.Millisecond))
	w := wine{t: t, pfx: pfx}

	progDir := filepath.Join(pfx.Dir, "drive_c", "Program Files", "kuvert")
	installed := []string{"kuvert.exe", "kuvert-gui.exe", "oppna.html",
		`policy\kuvert.admx`, `policy\en-US\kuvert.adml`, `policy\sv-SE\kuvert.adml`}

	checkInstalled := func(version, bin string) {
		t.Helper()
		for _, name := range installed {
			if _, err := os.Stat(filepath.Join(progDir, filepath.FromSlash(strings.ReplaceAll(name, `\`, "/")))); err != nil {
				t.Errorf("after installing %s: %v", version, err)
			}
		}
		for _, name := range []string{"kuvert.exe", "kuvert-gui.exe"} {
			if got, want := sha(t, filepath.Join(progDir, name)), sha(t, filepath.Join(bin, name)); got != want {
				t.Errorf("after installing %s, %s is not that release's program", version, name)
			}
		}
		menu := w.contextMenu()
		for _, want := range []string{
			`MUIVerb REG_SZ Skicka med kuvert`,
			`Icon REG_SZ "C:\Program Files\kuvert\kuvert-gui.exe",0`,
			`MultiSelectModel REG_SZ Player`,
			`HKEY_LOCAL_MACHINE\Software\Classes\*\shell\kuvert\command (Default) REG_SZ "C:\Program Files\kuvert\kuvert-gui.exe" "%1"`,
		} {
			if !strings.Contains(menu, want) {
				t.Errorf("after installing %s, the Explorer entry lacks %q:\n%s", version, want, menu)
			}
		}
		lnks := w.shortcuts()
		if len(lnks) != 1 {
			t.Errorf("after installing %s, Start-menu shortcuts %v, want one kuvert.lnk", version, lnks)
		} else if b, err := os.ReadFile(lnks[0]); err != nil || !(bytes.Contains(b, []byte("kuvert-gui.exe")) || bytes.Contains(b, utf16le("kuvert-gui.exe"))) {
			t.Errorf("the shortcut %s does not point at kuvert-gui.exe (%v)", lnks[0], err)
		}
		if got := w.products(); len(got) != 1 || got[0] != version {
			t.Errorf("after installing %s, installed kuvert versions %v, want [%s]", version, got, version)
		}
	}

	// Install.
	mark = time.Now()
	if code := w.msiexec("/i", older); code != 0 {
		t.Fatalf("msiexec /i 1.0.0: exit %d", code)
	}
	t.Logf("install in %v", time.Since(mark).Round(100*time.Millisecond))
	checkInstalled("1.0.0", oldBin)

	// A desktop no one configured: machine policy names the server and
	// an enrollment code, and the first sealing enrolls, texts through
	// the relay in the organisation's words set on the server, and
	// ships its entry to the central log.
	const organisation = "Servkommun"
	srv := startOrgServer(t, organisation)
	device := ""
	if srv != nil {
		device = enrollByPolicy(t, w, srv, organisation)
	}

	// The installed program runs from Program Files and reads what a
	// Group Policy Object made from kuvert.admx writes.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := pfx.Command(ctx, "reg", "add", `HKLM\`+settings.PolicyRegistryKey, "/v", "Organisation",
		"/t", "REG_SZ", "/d", "Exempelby kommun", "/f").CombinedOutput(); err != nil {
		t.Fatalf("reg add: %v\n%s", err, out)
	}
	show, err := pfx.Command(ctx, `C:\Program Files\kuvert\kuvert.exe`, "config", "show").CombinedOutput()
	if err != nil || !regexp.MustCompile(`organisation +Exempelby kommun +maskinpolicy`).Match(show) {
		t.Errorf("installed kuvert.exe config show with the policy set: %v\n%s", err, show)
	}

	// A user's own settings and log, which uninstalling must leave.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	userFile := filepath.Join(pfx.Dir, "drive_c", "users", me.Username, "AppData", "Roaming", "kuvert", "config.json")
	if err := os.MkdirAll(filepath.Dir(userFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(userFile, []byte(`{"organisation":"Exempelby kommun"}`), 0o644); err != nil {
		t.Fatal(err)
	}

	// Upgrade: the newer package replaces the older, one entry remains.
	mark = time.Now()
	if code := w.msiexec("/i", newer); code != 0 {
		t.Fatalf("msiexec /i 1.1.0 over 1.0.0: exit %d", code)
	}
	t.Logf("upgrade in %v", time.Since(mark).Round(100*time.Millisecond))
	checkInstalled("1.1.0", newBin)
	if srv != nil {
		stillEnrolled(t, w, srv, device)
	}

	// Downgrade: refused (ERROR_INSTALL_FAILURE, 1603; a Unix exit
	// status keeps its low byte, 67), and 1.1.0 stays as it was.
	if code := w.msiexec("/i", older); code != 1603 && code != 1603&0xff {
		t.Errorf("msiexec /i 1.0.0 over 1.1.0: exit %d, want 1603 (the downgrade refused)", code)
	}
	checkInstalled("1.1.0", newBin)

	// Uninstall: no program files, registry values or shortcut left; the
	// user's folder stays.
	mark = time.Now()
	if code := w.msiexec("/x", newer); code != 0 {
		t.Fatalf("msiexec /x: exit %d", code)
	}
	t.Logf("uninstall in %v", time.Since(mark).Round(100*time.Millisecond))
	if _, err := os.Stat(progDir); !errors.Is(err, os.ErrNotExist) {
		entries, _ := os.ReadDir(progDir)
		t.Errorf("after uninstalling, %s is still there (%v, %d entries)", progDir, err, len(entries))
	}
	if menu := w.contextMenu(); menu != "" {
		t.Errorf("after uninstalling, the Explorer entry is still there:\n%s", menu)
	}
	if lnks := w.shortcuts(); len(lnks) != 0 {
		t.Errorf("after uninstalling, shortcuts remain: %v", lnks)
	}
	if got := w.products(); len(got) != 0 {
		t.Errorf("after uninstalling, installed kuvert versions %v", got)
	}
	// The policy is Group Policy's, not the package's: it stays until the
	// GPO that set it goes.
	if policy := w.reg(`HKLM\` + settings.PolicyRegistryKey); !strings.Contains(policy, "Organisation REG_SZ Exempelby kommun") {
		t.Errorf("uninstalling removed the machine policy: %q", policy)
	}
	if b, err := os.ReadFile(userFile); err != nil || !strings.Contains(string(b), "Exempelby") {
		t.Errorf("uninstalling touched the user's %%APPDATA%%\\kuvert: %v", err)
	}
	t.Logf("whole session %v", time.Since(start).Round(100*time.Millisecond))
}

// wine runs Windows Installer and reg in one prefix.
type wine struct {
	t   *testing.T
	pfx *winetest.Prefix
}

// msiexec runs msiexec ACTION PACKAGE /qn and returns its exit code.
func (w wine) msiexec(action, pkg string) int {
	w.t.Helper()
	win, err := w.pfx.WindowsPath(pkg)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := w.pfx.Command(ctx, "msiexec", action, win, "/qn").CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	default:
		w.t.Fatalf("msiexec %s: %v\n%s", action, err, out)
		return -1
	}
}

// reg is `reg query KEY /s` with each line's fields joined by one space,
// or "" when the key does not exist.
func (w wine) reg(key string) string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := w.pfx.Command(ctx, "reg", "query", key, "/s").Output()
	if err != nil {
		return ""
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	return strings.Join(lines, " ")
}

func (w wine) contextMenu() string { return w.reg(`HKLM\Software\Classes\*\shell\kuvert`) }

// products are the DisplayVersions of kuvert in Windows' list of
// installed programs (Settings → Apps).
func (w wine) products() []string {
	w.t.Helper()
	all := w.reg(`HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall`)
	var versions []string
	for _, entry := range strings.Split(all, "HKEY_LOCAL_MACHINE")[1:] {
		if !strings.Contains(entry, " DisplayName REG_SZ kuvert ") {
			continue
		}
		_, v, _ := strings.Cut(entry, " DisplayVersion REG_SZ ")
		v, _, _ = strings.Cut(v, " ")
		versions = append(versions, v)
	}
	return versions
}

// shortcuts are the kuvert.lnk files in the Start menu, all users' or
// the user's: Wine 8 resolves a per-machine package's ProgramMenuFolder
// to the user's, Windows to all users'.
func (w wine) shortcuts() []string {
	c := filepath.Join(w.pfx.Dir, "drive_c")
	a, _ := filepath.Glob(filepath.Join(c, "ProgramData", "Microsoft", "Windows", "Start Menu", "Programs", "kuvert.lnk"))
	b, _ := filepath.Glob(filepath.Join(c, "users", "*", "AppData", "Roaming", "Microsoft", "Windows", "Start Menu", "Programs", "kuvert.lnk"))
	return append(a, b...)
}

func sha(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
