package gui

import (
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/config"
)

// fakePicker answers the app's file dialogs as a user would, and records
// what the app asked for.
type fakePicker struct {
	mu    sync.Mutex
	calls []pickCall
	files []string // OpenFiles' answer
	dir   string   // OpenFolder's answer
	err   error    // both answer this when set (no native dialog)
}

type pickCall struct {
	title    string
	multiple bool
	filters  []FileFilter
	folder   bool
}

func (p *fakePicker) OpenFiles(title string, multiple bool, filters []FileFilter) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, pickCall{title: title, multiple: multiple, filters: filters})
	if p.err != nil {
		return nil, p.err
	}
	if !multiple && len(p.files) > 1 {
		return p.files[:1], nil
	}
	return p.files, nil
}

func (p *fakePicker) OpenFolder(title string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, pickCall{title: title, folder: true})
	return p.dir, p.err
}

func (p *fakePicker) last(t *testing.T) pickCall {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) != 1 {
		t.Fatalf("%d dialogs shown, want 1", len(p.calls))
	}
	return p.calls[0]
}

// withPicker gives the harness's app the fake as its native dialog.
func (h *harness) withPicker(p *fakePicker) { h.u.deps.Picker = p }

// tapButton taps the button labelled text in content, and waits for the
// dialog and what it started.
func (h *harness) tapButton(content fyne.CanvasObject, text string) {
	h.t.Helper()
	for _, o := range test.LaidOutObjects(content) {
		if b, ok := o.(*widget.Button); ok && b.Text == text {
			test.Tap(b)
			h.u.pickWork.Wait()
			h.u.seal.work.Wait()
			return
		}
	}
	h.t.Fatalf("no button %q", text)
}

// TestAddFilesTakesEverySelectedFile: "Lägg till filer…" asks the OS's
// dialog for several files, in Swedish, and every file chosen goes to
// the list.
func TestAddFilesTakesEverySelectedFile(t *testing.T) {
	h := newHarness(t, nil)
	p := &fakePicker{files: []string{
		h.file("Löner mars/lönespec Åsa.pdf", "a"),
		h.file("Löner mars/lönespec Örjan.pdf", "b"),
		h.file("Löner mars/tjänstgöring.xlsx", "c"),
	}}
	h.withPicker(p)
	h.tapButton(h.u.seal.content, lang.L("seal.addFiles"))
	c := p.last(t)
	if !c.multiple || c.title != lang.L("picker.files") || c.title == "" {
		t.Errorf("asked %+v, want several files titled %q", c, lang.L("picker.files"))
	}
	var got []string
	for _, f := range h.files() {
		got = append(got, f.path)
	}
	if !slices.Equal(got, p.files) {
		t.Errorf("the list holds %q, want %q", got, p.files)
	}
	// A folder through its own dialog.
	dir := filepath.Dir(p.files[0])
	q := &fakePicker{dir: dir}
	h2 := newHarness(t, nil)
	h2.withPicker(q)
	h2.tapButton(h2.u.seal.content, lang.L("seal.addFolder"))
	if c := q.last(t); !c.folder || c.title != lang.L("picker.folder") {
		t.Errorf("asked %+v", c)
	}
	// The folder for sealed files, in Settings.
	out := &fakePicker{dir: filepath.Join(h.workDir, "Krypterat")}
	h.withPicker(out)
	h.tapButton(h.u.settings.content, lang.L("settings.chooseDir"))
	if c := out.last(t); !c.folder || h.u.settings.outdir.Text != out.dir {
		t.Errorf("asked %+v; the field reads %q", c, h.u.settings.outdir.Text)
	}
	// The folder's files go to the list.
	if fs := h2.files(); len(fs) != len(p.files) || filepath.Dir(fs[0].path) != dir {
		t.Errorf("the list after a folder: %+v", fs)
	}
}

// TestManifestPickerFilters: the batch list is picked alone, with the
// workbook first in the type list, then Excel's CSV, then every file,
// named in Swedish; the chosen list is loaded.
func TestManifestPickerFilters(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Lönekontoret"})
	m := goodManifest(t, h.workDir, 2)
	p := &fakePicker{files: []string{m}}
	h.withPicker(p)
	h.u.SelectTab("batch")
	h.tapButton(h.u.batch.content, lang.L("batch.choose"))
	c := p.last(t)
	if c.multiple || c.title != lang.L("picker.manifest") {
		t.Errorf("asked %+v", c)
	}
	want := []FileFilter{
		{"Excel-arbetsböcker (*.xlsx, *.xlsm)", []string{"*.xlsx", "*.xlsm"}},
		{"CSV-filer (*.csv, *.txt)", []string{"*.csv", "*.txt"}},
		{"Alla filer (*.*)", []string{"*"}},
	}
	if !slices.EqualFunc(c.filters, want, func(a, b FileFilter) bool { return a.Name == b.Name && slices.Equal(a.Patterns, b.Patterns) }) {
		t.Errorf("filters %v, want %v", c.filters, want)
	}
	if h.u.batch.path.Text != m {
		t.Errorf("the chosen list was not loaded: %q", h.u.batch.path.Text)
	}
	// The archive to open: encrypted archives first.
	q := &fakePicker{files: []string{filepath.Join(h.workDir, "rapport.zip")}}
	h.withPicker(q)
	h.u.SelectTab("open")
	h.tapButton(h.u.open.content, lang.L("open.choose"))
	if c := q.last(t); c.multiple || len(c.filters) != 2 || !slices.Equal(c.filters[0].Patterns, []string{"*.zip", "*.age"}) {
		t.Errorf("archive dialog %+v", c)
	}
	if h.u.open.archive.Text != q.files[0] {
		t.Errorf("archive field %q", h.u.open.archive.Text)
	}
}

// TestPickerFallsBackToFyneDialog: where the OS has no dialog (Linux
// without the zenity program) or it fails, fyne's own opens instead;
// cancelling the OS's dialog opens nothing and changes nothing.
func TestPickerFallsBackToFyneDialog(t *testing.T) {
	h := newHarness(t, nil)
	p := &fakePicker{err: errors.New("zenity: executable file not found in $PATH")}
	h.withPicker(p)
	h.tapButton(h.u.seal.content, lang.L("seal.addFiles"))
	p.last(t)
	top := h.w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no fyne file dialog after the native one failed")
	}
	if len(h.files()) != 0 {
		t.Errorf("files added: %+v", h.files())
	}
	top.Hide()
	h.w.Canvas().Overlays().Remove(top)

	q := &fakePicker{} // the user cancelled
	h.withPicker(q)
	h.tapButton(h.u.seal.content, lang.L("seal.addFiles"))
	q.last(t)
	if top := h.w.Canvas().Overlays().Top(); top != nil {
		t.Errorf("a dialog opened after cancelling: %T", top)
	}
	if len(h.files()) != 0 {
		t.Errorf("files added after cancelling: %+v", h.files())
	}

	// No picker at all: fyne's dialog, with the first filter's types.
	h.u.deps.Picker = nil
	h.u.SelectTab("batch")
	h.tapButton(h.u.batch.content, lang.L("batch.choose"))
	if h.w.Canvas().Overlays().Top() == nil {
		t.Fatal("no fyne file dialog without a native one")
	}
}
