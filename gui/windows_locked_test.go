//go:build windows

package gui

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
)

// TestSealHeldFile: Excel holds the workbook open with no sharing (as
// it does while it shows it). Sealing it says so in the window's
// language, naming the file and what to do; nothing is written beside
// it. Once Excel lets go, the same form seals. Windows only: elsewhere
// file locks are advisory and nothing refuses the read (the wording is
// checked on every OS in TestSwedish).
func TestSealHeldFile(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	book := h.file("Lönelista december.xlsx", "PK not really a workbook")
	p, err := syscall.UTF16PtrFromString(book)
	if err != nil {
		t.Fatal(err)
	}
	held, err := syscall.CreateFile(p, syscall.GENERIC_READ|syscall.GENERIC_WRITE, 0, nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		t.Fatal(err)
	}
	release := sync.OnceFunc(func() { syscall.CloseHandle(held) })
	t.Cleanup(release)
	if _, err := os.ReadFile(book); err == nil {
		t.Fatal("the file is not held: the test proves nothing")
	}

	h.drop(book)
	test.Type(v.phone, "070-123 45 67")
	test.Tap(v.primary)
	v.work.Wait()
	want := lang.L("err.held", map[string]any{"Path": book})
	if v.status.Text != want {
		t.Fatalf("status %q, want %q", v.status.Text, want)
	}
	if got := dirNames(t, h.workDir); !slices.Equal(got, []string{filepath.Base(book)}) {
		t.Fatalf("left beside the held file: %v", got)
	}

	release()
	test.Tap(v.primary)
	v.work.Wait()
	if v.status.Text != lang.L("result.title") {
		t.Fatalf("after Excel let go: status %q", v.status.Text)
	}
}
