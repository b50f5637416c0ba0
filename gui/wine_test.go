package gui

import (
	"context"
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/internal/winetest"
)

// wineTests are the desktop app's tests that TestGUIUnderWine runs on
// Windows: sealing with the demo provider and opening the archive, the
// window in Swedish, the settings (secrets in the keyring), the log view
// (verify, CSV export), opening, cancelling, batch, the file pickers.
// Left out: tests that need PostgreSQL (a Linux program) and
// TestLanguageFollowsLocale, which sets the locale per child process
// through LANG, as Unix does; Windows takes it from the user's settings
// instead, which the Swedish prefix has (TestWindowIsSwedish checks it).
var wineTests = []string{
	"TestWindowIsSwedish",
	"TestDemoSealOpensUnderAppData",
	"TestDemoProviderNamedAsDemo",
	"TestDropFillsListAndFlagsPersonnummer",
	"TestSealSendsPasswordByOutbox",
	"TestCancelLeavesNothing",
	"TestSealHeldFile",
	"TestClaimWhileAddressIsRead",
	"TestOpenView",
	"TestLogViewVerifiesAndExports",
	"TestSettingsKeepSecretsInKeyring",
	"TestUnreadableConfigIsNeverReplaced",
	"TestBatchViewDemo",
	"TestBatchViewRunsOutboxAndDrafts",
	"TestFolderURL",
	"TestLocalPathIsTheOSPath",
	"TestAddFilesTakesEverySelectedFile",
	"TestManifestPickerFilters",
	"TestPickerFallsBackToFyneDialog",
	"TestTranslationsComplete",
}

// TestGUIUnderWine runs wineTests in the gui package's tests cross-built
// for Windows (CGO_ENABLED=0: fyne's test driver needs no OpenGL), named
// by KUVERT_WINDOWS_GUI_TEST (make test-windows builds
// bin/gui.test.exe), under Wine in a prefix of its own whose user locale
// is Swedish. Each must pass: a test skipped there fails here.
func TestGUIUnderWine(t *testing.T) {
	exe := winetest.Exe(t, "KUVERT_WINDOWS_GUI_TEST", "KUVERT_WINDOWS_GUI_TEST=bin/gui.test.exe")
	pfx := winetest.Start(t, "..")

	out := t.TempDir()
	report, err := pfx.WindowsPath(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := pfx.Command(ctx, exe, "-test.run", "^("+strings.Join(wineTests, "|")+")$", "-test.v", "-test.count=1")
	var env []string
	for _, kv := range cmd.Env {
		k, _, _ := strings.Cut(kv, "=")
		// The tests' own settings only: none from the caller's.
		if k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_") || strings.HasPrefix(k, "KUVERT_") || strings.HasPrefix(k, "TWILIO_") {
			continue
		}
		env = append(env, kv)
	}
	// Wine makes the Windows user locale from the Unix one (sv-SE):
	// Swedish dates, decimal comma, and the app's language.
	cmd.Env = append(env, "LANG=sv_SE.UTF-8", "LC_ALL=sv_SE.UTF-8",
		"KUVERT_GUI_WINE=1", "KUVERT_WANT_OS_LANG=sv", "KUVERT_GUI_REPORT="+report)
	// A file, not a pipe: Wine's helper processes (winedevice.exe)
	// inherit the program's output and would hold a pipe open.
	log, err := os.Create(filepath.Join(out, "gui.test.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	runErr := cmd.Run()
	b, _ := os.ReadFile(log.Name())
	t.Logf("gui.test.exe under Wine: %s", time.Since(start).Round(100*time.Millisecond))
	if runErr != nil {
		t.Errorf("gui.test.exe: %v", runErr)
	}
	for _, name := range wineTests {
		if !regexp.MustCompile(`(?m)^--- PASS: ` + name + ` `).Match(b) {
			t.Errorf("%s did not pass under Wine", name)
		}
	}
	if t.Failed() {
		t.Fatalf("output:\n%s", b)
	}

	// The app kept its state where Windows programs keep it:
	// %APPDATA%\kuvert of the prefix's user, who is named after the
	// Unix one.
	var rep struct{ Home, Archive string }
	rb, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("TestDemoSealOpensUnderAppData wrote no report: %v", err)
	}
	if err := json.Unmarshal(rb, &rep); err != nil {
		t.Fatal(err)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if want := `C:\users\` + me.Username + `\AppData\Roaming\kuvert`; !strings.EqualFold(rep.Home, want) {
		t.Errorf("the app's folder is %q, want %q", rep.Home, want)
	}
	entries := filepath.Join(pfx.Dir, "drive_c", "users", me.Username, "AppData", "Roaming", "kuvert", "log", "entries.jsonl")
	lb, err := os.ReadFile(entries)
	if err != nil {
		t.Fatalf("no log in the prefix's %%APPDATA%%\\kuvert: %v", err)
	}
	name := rep.Archive[strings.LastIndex(rep.Archive, `\`)+1:]
	if !strings.Contains(string(lb), name) {
		t.Errorf("the log under %%APPDATA%% does not name the archive %q", name)
	}
}
