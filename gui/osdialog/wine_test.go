package osdialog

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/gui"
	"github.com/kuvert-app/kuvert/internal/winetest"
)

// The dialogs the child opens, by their titles.
const (
	titleFiles    = "Välj filer att kryptera"
	titleManifest = "Välj utskickslistan"
)

// dialogResult is what the child's dialogs returned.
type dialogResult struct {
	Files     []string
	FilesErr  string
	Cancelled []string
	CancelErr string
}

// TestDialogChild is the Windows side of TestDialogUnderWine: it opens
// the files dialog (several files, the workbook filter first), then the
// manifest dialog, which the driver cancels, and writes what they
// returned.
func TestDialogChild(t *testing.T) {
	out := os.Getenv("KUVERT_OSDIALOG_OUT")
	if out == "" {
		t.Skip("TestDialogUnderWine runs this under Wine")
	}
	filters := []gui.FileFilter{
		{Name: "Excel-arbetsböcker (*.xlsx, *.xlsm)", Patterns: []string{"*.xlsx", "*.xlsm"}},
		{Name: "Alla filer (*.*)", Patterns: []string{"*"}},
	}
	var r dialogResult
	files, err := Picker{}.OpenFiles(titleFiles, true, filters)
	r.Files = files
	if err != nil {
		r.FilesErr = err.Error()
	}
	none, err := Picker{}.OpenFiles(titleManifest, false, filters)
	r.Cancelled = none
	if err != nil {
		r.CancelErr = err.Error()
	}
	b, _ := json.Marshal(r)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDialogUnderWine opens the real Windows file dialog that the
// desktop app uses, under Wine on an Xvfb screen with a Swedish user
// locale, and answers it with xdotool as a clerk would: goes to a
// folder, picks two workbooks at once; then cancels the next dialog.
// The exe is the package's tests cross-built for Windows, named by
// KUVERT_WINDOWS_OSDIALOG_TEST (make test-windows builds it).
func TestDialogUnderWine(t *testing.T) {
	exe := winetest.Exe(t, "KUVERT_WINDOWS_OSDIALOG_TEST", "KUVERT_WINDOWS_OSDIALOG_TEST=bin/osdialog.test.exe")
	winetest.Require(t)
	if _, err := exec.LookPath("xdotool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xdotool is needed (make deps-windows installs it): required in CI")
		}
		t.Skip("xdotool is needed (make deps-windows installs it)")
	}
	display := winetest.Display(t)
	pfx := winetest.Start(t, "../..")

	dir := filepath.Join(t.TempDir(), "Löner mars")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lista mars.xlsx", "lonespec Asa.xlsx", "anteckning.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	winDir, err := pfx.WindowsPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	winOut, err := pfx.WindowsPath(filepath.Join(work, "result.json"))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := pfx.Command(ctx, exe, "-test.run", "^TestDialogChild$", "-test.v")
	cmd.Env = append(cmd.Env, "DISPLAY="+display, "LANG=sv_SE.UTF-8", "LC_ALL=sv_SE.UTF-8", "KUVERT_OSDIALOG_OUT="+winOut)
	log, err := os.Create(filepath.Join(work, "child.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log // a file: Wine's helpers would hold a pipe open
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	fail := func(format string, args ...any) {
		t.Helper()
		shot := filepath.Join(work, "screen.png")
		exec.Command("import", "-display", display, "-window", "root", shot).Run()
		b, _ := os.ReadFile(log.Name())
		res, _ := os.ReadFile(filepath.Join(work, "result.json"))
		t.Fatalf(format+"\n(screen: %s)\nchild:\n%s\nresult: %s", append(args, shot, b, res)...)
	}
	xdo := func(args ...string) {
		t.Helper()
		c := exec.Command("xdotool", args...)
		c.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := c.CombinedOutput(); err != nil {
			fail("xdotool %v: %v %s", args, err, out)
		}
	}
	await := func(title string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			c := exec.Command("xdotool", "search", "--onlyvisible", "--name", title)
			c.Env = append(os.Environ(), "DISPLAY="+display)
			if out, err := c.Output(); err == nil && len(strings.Fields(string(out))) > 0 {
				// Without a window manager the new dialog has the
				// focus already; asking for it is only a help.
				f := exec.Command("xdotool", "windowfocus", "--sync", strings.Fields(string(out))[0])
				f.Env = c.Env
				f.Run()
				time.Sleep(500 * time.Millisecond)
				return
			}
			select {
			case err := <-done:
				fail("the child ended before the dialog %q showed: %v", title, err)
			case <-time.After(200 * time.Millisecond):
			}
		}
		fail("no dialog titled %q", title)
	}

	// Into the folder, then two workbooks at once, as Windows takes
	// several names in the file name box.
	await(titleFiles)
	xdo("type", "--delay", "15", winDir)
	xdo("key", "Return")
	time.Sleep(1500 * time.Millisecond)
	xdo("key", "ctrl+a")
	xdo("type", "--delay", "15", `"lista mars.xlsx" "lonespec Asa.xlsx"`)
	xdo("key", "Return")
	await(titleManifest)
	xdo("key", "Escape")
	select {
	case err := <-done:
		if err != nil {
			fail("child: %v", err)
		}
	case <-time.After(60 * time.Second):
		fail("the child did not end after the dialogs")
	}

	b, err := os.ReadFile(filepath.Join(work, "result.json"))
	if err != nil {
		fail("no result: %v", err)
	}
	var r dialogResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	want := []string{winDir + `\lista mars.xlsx`, winDir + `\lonespec Asa.xlsx`}
	if r.FilesErr != "" || len(r.Files) != len(want) {
		fail("the files dialog returned %q, %q; want %q", r.Files, r.FilesErr, want)
	}
	for i := range want {
		if !strings.EqualFold(r.Files[i], want[i]) {
			t.Errorf("file %d: %q, want %q", i, r.Files[i], want[i])
		}
	}
	if r.CancelErr != "" || len(r.Cancelled) != 0 {
		t.Errorf("cancelling returned %q, %q; want nothing and no error", r.Cancelled, r.CancelErr)
	}
}
