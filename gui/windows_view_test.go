package gui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"github.com/jeandeaual/go-locale"

	"github.com/kuvert-app/kuvert/crypt"
)

// These tests run on every OS and, cross-built for Windows, under Wine
// with a Swedish user locale (TestGUIUnderWine, make test-windows).

// TestWindowIsSwedish: on a Swedish desktop the window's title, tabs and
// first view are in Swedish, word for word as translations/sv.json has
// them. Under Wine the driver also names the language Windows reports
// (KUVERT_WANT_OS_LANG), so a prefix that is not Swedish fails here
// instead of passing on the fallback.
func TestWindowIsSwedish(t *testing.T) {
	if want := os.Getenv("KUVERT_WANT_OS_LANG"); want != "" {
		if got, err := locale.GetLanguage(); err != nil || got != want {
			t.Fatalf("the OS reports the language %q (%v), want %q", got, err, want)
		}
	}
	h := newHarness(t, nil)
	sv := loadTranslations(t, "sv.json")
	if got := h.w.Title(); got != sv["app.title"] {
		t.Errorf("title %q, want %q", got, sv["app.title"])
	}
	tabs, ok := h.w.Content().(*container.AppTabs)
	if !ok {
		t.Fatalf("content %T", h.w.Content())
	}
	for i, key := range []string{"tab.seal", "tab.batch", "tab.open", "tab.log", "tab.settings"} {
		if got := tabs.Items[i].Text; got != sv[key] {
			t.Errorf("tab %d reads %q, want %q", i, got, sv[key])
		}
	}
	if got := lang.L("seal.drop"); got != sv["seal.drop"] {
		t.Errorf("the seal view reads %q, want %q", got, sv["seal.drop"])
	}
}

// appDataHome is kuvert's state folder as the desktop app finds it
// (SystemDeps): %APPDATA%\kuvert on Windows. Under the Wine driver
// (KUVERT_GUI_WINE=1) it is the prefix's real one, which the driver then
// reads from the Linux side; elsewhere the folder the OS names is moved
// into a temporary one first, so a developer's own settings are left
// alone.
func appDataHome(t *testing.T) string {
	t.Helper()
	t.Setenv("KUVERT_HOME", "")
	var want string
	if runtime.GOOS == "windows" {
		if os.Getenv("KUVERT_GUI_WINE") != "1" {
			t.Setenv("APPDATA", tempDir(t))
		}
		want = filepath.Join(os.Getenv("APPDATA"), "kuvert")
	} else {
		cfg := tempDir(t)
		t.Setenv("XDG_CONFIG_HOME", cfg)
		t.Setenv("HOME", cfg) // macOS: ~/Library/Application Support
		want = filepath.Join(cfg, "kuvert")
		if runtime.GOOS == "darwin" {
			want = filepath.Join(cfg, "Library", "Application Support", "kuvert")
		}
	}
	home := SystemDeps().Home
	if home != want {
		t.Fatalf("the app keeps its state in %q, want %q", home, want)
	}
	if runtime.GOOS == "windows" && (filepath.VolumeName(home) == "" || strings.Contains(home, "/")) {
		t.Fatalf("not a Windows path: %q", home)
	}
	return home
}

// TestDemoSealOpensUnderAppData drives the window as a clerk would on
// Windows: files with Swedish names in a folder with spaces are dropped,
// a number typed, sealed with the demo provider (nothing sent; the
// password shown); the archive opens with that password and holds the
// files unchanged, and the log is under %APPDATA%\kuvert.
func TestDemoSealOpensUnderAppData(t *testing.T) {
	home := appDataHome(t)
	h := newHarnessAt(t, home, nil)
	v := h.u.seal
	files := map[string]string{
		"lönespec Åsa Öberg.txt":   "Lön mars: 31 250 kr\r\n",
		"Tjänstgöringsintyg ä.csv": "namn;år\r\nÅsa;2026\r\n",
	}
	var paths []string
	for name, content := range files {
		paths = append(paths, h.file(filepath.Join("Löner mars 2026", name), content))
	}
	before := len(h.entries())
	h.drop(paths...)
	if got := len(h.files()); got != len(files) {
		t.Fatalf("%d files in the list, want %d", got, len(files))
	}
	for _, f := range h.files() {
		if runtime.GOOS == "windows" && strings.Contains(f.path, "/") {
			t.Errorf("the list shows %q, not a Windows path", f.path)
		}
	}
	test.Type(v.phone, "070-123 45 67")
	if v.primary.Text != lang.L("seal.button.demo") || v.primary.Disabled() {
		t.Fatalf("button %q (disabled %v)", v.primary.Text, v.primary.Disabled())
	}
	pw := v.form.Generated.Value
	test.Tap(v.primary)
	v.work.Wait()
	if v.status.Text != lang.L("result.title") {
		t.Fatalf("status %q", v.status.Text)
	}
	if all := resultTexts(v); !strings.Contains(all, pw) {
		t.Fatalf("the demo result does not show the password:\n%s", all)
	}
	es := h.entries()
	if len(es) != before+2 {
		t.Fatalf("%d new log entries, want 2 (sealing, demo SMS)", len(es)-before)
	}
	seal := es[before]
	archive := filepath.Join(h.workDir, "Löner mars 2026", seal.Archive.Name)
	if _, err := os.Stat(archive); err != nil {
		archive = filepath.Join(h.workDir, seal.Archive.Name)
	}
	res, err := crypt.Extract(context.Background(), archive, crypt.ExtractOptions{
		OpenOptions: crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}, Dest: tempDir(t), Force: true})
	if err != nil {
		t.Fatalf("the archive does not open with the shown password: %v", err)
	}
	for name, content := range files {
		got, err := os.ReadFile(filepath.Join(res.Dest, name))
		if err != nil || string(got) != content {
			t.Errorf("%s: extracted %q, %v", name, got, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "log", "entries.jsonl")); err != nil {
		t.Errorf("no log under %s: %v", home, err)
	}
	// For the Wine driver, which checks the same files from outside.
	if out := os.Getenv("KUVERT_GUI_REPORT"); out != "" {
		b, _ := json.Marshal(map[string]string{"home": home, "archive": archive})
		if err := os.WriteFile(out, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLocalPathIsTheOSPath: a dropped or picked file shows as the OS
// writes its path (C:\Users\… on Windows, never C:/Users/…).
func TestLocalPathIsTheOSPath(t *testing.T) {
	p := filepath.Join(tempDir(t), "Löner mars", "lönespec Åsa.xlsx")
	if got := localPath(storage.NewFileURI(p)); got != p {
		t.Errorf("localPath(%q) = %q", p, got)
	}
}
