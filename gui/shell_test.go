package gui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/internal/desktop"
)

func (h *harness) paths() []string {
	var out []string
	for _, f := range h.files() {
		out = append(out, f.path)
	}
	return out
}

// TestAddFromShell is Explorer's "Skicka med kuvert": the selection
// arrives as paths (with spaces and Swedish letters), a folder among
// them; a later right-click adds to the same form without doubles; a file
// gone since the right-click is left out with a note.
func TestAddFromShell(t *testing.T) {
	h := newHarness(t, nil)
	a := h.file("Lönelista maj 2026.csv", "namn;lön\nÅsa;1\n")
	b := h.file("Intyg för Örjan/intyg 1.txt", "x")
	c := h.file("Intyg för Örjan/intyg 2.txt", "y")
	gone := filepath.Join(h.workDir, "flyttad.pdf")
	h.u.SelectTab("log")

	n, missing := h.u.AddFromShell([]string{a, filepath.Dir(b), gone})
	h.u.seal.work.Wait()
	if n != 3 || !slices.Equal(missing, []string{gone}) {
		t.Fatalf("AddFromShell = %d, %q; want 3 files and %q missing", n, missing, gone)
	}
	if got, want := h.paths(), []string{a, b, c}; !slices.Equal(got, want) {
		t.Errorf("the form lists %q, want %q", got, want)
	}
	if h.u.tabs.SelectedIndex() != 0 {
		t.Errorf("the Seal view is not in front (tab %d)", h.u.tabs.SelectedIndex())
	}
	if st := h.u.seal.status.Text; !strings.Contains(st, gone) || st != lang.L("shell.missing", map[string]any{"Paths": gone}) {
		t.Errorf("no note for the missing file: %q", st)
	}
	// The list shows the files by name.
	var shown []string
	for _, o := range test.LaidOutObjects(h.u.seal.list) {
		if l, ok := o.(*widget.Label); ok {
			shown = append(shown, l.Text)
		}
	}
	for _, f := range []string{a, b} {
		if !strings.Contains(strings.Join(shown, "\n"), filepath.Base(f)) {
			t.Errorf("the list does not show %s: %q", filepath.Base(f), shown)
		}
	}

	// A second right-click: one new file, two already there.
	d := h.file("nytt avtal.docx", "z")
	n, missing = h.u.AddFromShell([]string{a, d, c})
	h.u.seal.work.Wait()
	if n != 4 || len(missing) != 0 {
		t.Fatalf("second AddFromShell = %d, %q; want 4 files, none missing", n, missing)
	}
	if got := h.paths(); !slices.Equal(got, []string{a, b, c, d}) {
		t.Errorf("after the second: %q", got)
	}
	// Nothing but missing or empty arguments: the form is unchanged.
	if n, _ := h.u.AddFromShell([]string{"", gone}); n != 4 {
		t.Errorf("missing only: %d files", n)
	}
}

// opener records what the app asked the desktop to open or show.
type opener struct {
	mu     sync.Mutex
	opened []string
	shown  []string
	err    error
}

func (o *opener) open(p string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opened = append(o.opened, p)
	return o.err
}

func (o *opener) show(p string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.shown = append(o.shown, p)
	return nil
}

// topObjects are the widgets of the window's top dialog.
func topObjects(w fyne.Window) []fyne.CanvasObject {
	top := w.Canvas().Overlays().Top()
	if top == nil {
		return nil
	}
	return test.LaidOutObjects(top)
}

func findButton(objs []fyne.CanvasObject, text string) *widget.Button {
	for _, o := range objs {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

// TestResultOpensDraftAndShowsArchive: after sealing, the result's
// buttons hand the archive to the file manager (selected) and the .eml
// draft to the mail program; with no mail program the app says so and
// copies the archive's path on request.
func TestResultOpensDraftAndShowsArchive(t *testing.T) {
	h := newHarness(t, nil)
	op := &opener{}
	h.u.deps.OpenFile, h.u.deps.ShowFile = op.open, op.show
	v := h.u.seal
	h.drop(h.file("Lönelista maj.csv", "x"))
	test.Type(v.phone, "070-123 45 67")
	test.Tap(v.primary)
	v.work.Wait()
	archive := filepath.Join(h.workDir, h.entries()[0].Archive.Name)
	if _, err := os.Stat(archive); err != nil {
		t.Fatalf("no archive (status %q): %v", v.status.Text, err)
	}

	show := findButton(test.LaidOutObjects(v.result), showFileLabel())
	draft := findButton(test.LaidOutObjects(v.result), lang.L("result.draft"))
	if show == nil || draft == nil {
		t.Fatalf("result buttons: show %v, draft %v", show, draft)
	}
	test.Tap(show)
	if !slices.Equal(op.shown, []string{archive}) {
		t.Errorf("shown %q, want the archive %q", op.shown, archive)
	}

	draftVia := func() {
		t.Helper()
		test.Tap(draft)
		objs := topObjects(h.w)
		var to *widget.Entry
		for _, o := range objs {
			if e, ok := o.(*widget.Entry); ok {
				to = e
			}
		}
		ok := findButton(objs, "OK")
		if to == nil || ok == nil {
			t.Fatal("no address form")
		}
		test.Type(to, "kalle@example.se")
		test.Tap(ok)
		v.work.Wait()
	}
	draftVia()
	eml := archive + ".eml"
	if !slices.Equal(op.opened, []string{eml}) {
		t.Fatalf("opened %q, want the draft %q", op.opened, eml)
	}
	if b, err := os.ReadFile(eml); err != nil || !strings.Contains(string(b), "X-Unsent: 1") {
		t.Fatalf("draft: %v\n%s", err, b)
	}
	if v.status.Text != lang.L("result.draft.opened", map[string]any{"Path": eml}) {
		t.Errorf("status %q", v.status.Text)
	}

	// No program takes .eml (the new Outlook, Outlook on the web).
	op.err = fmt.Errorf("ShellExecute: %w", desktop.ErrNoAssociation)
	draftVia()
	objs := topObjects(h.w)
	want := lang.L("result.draft.noMailer", map[string]any{"Path": eml, "Archive": archive})
	var said bool
	for _, o := range objs {
		if l, ok := o.(*widget.Label); ok && l.Text == want {
			said = true
		}
	}
	if !said || !strings.Contains(want, "e-postprogram") && uiLang == "sv" {
		t.Errorf("no-mail-program dialog does not say %q", want)
	}
	cp := findButton(objs, lang.L("result.copyPath"))
	if cp == nil {
		t.Fatal("no copy-path button")
	}
	test.Tap(cp)
	if got := h.clip.Content(); got != archive {
		t.Errorf("clipboard %q, want %q", got, archive)
	}

	// Another failure: the same offer, in other words.
	op.err = errors.New("access denied")
	draftVia()
	if findButton(topObjects(h.w), lang.L("result.copyPath")) == nil ||
		v.status.Text != lang.L("result.draft.openFailed", map[string]any{"Path": eml, "Archive": archive}) {
		t.Errorf("after a failed open: %q", v.status.Text)
	}
}
