package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
)

// FileFilter is one entry of a file dialog's type list, e.g.
// {"Excel-arbetsböcker (*.xlsx, *.xlsm)", ["*.xlsx", "*.xlsm"]}.
type FileFilter struct {
	Name     string
	Patterns []string // "*.xlsx"; "*" is every file
}

// Picker shows the operating system's own file dialogs: several files at
// once, in the OS's language, with a type list. fyne's own dialog picks
// one file, has no type list and labels some of its parts in English.
// cmd/kuvert-gui gives the real one (github.com/ncruces/zenity); the
// tests give a fake.
//
// A call that returns an error (no native dialog on this machine, e.g.
// Linux without the zenity program) leaves the choice to fyne's dialog.
// Cancelling is no error: no paths (or "") and nil.
type Picker interface {
	// OpenFiles asks for existing files; several when multiple is set.
	OpenFiles(title string, multiple bool, filters []FileFilter) ([]string, error)
	// OpenFolder asks for an existing folder.
	OpenFolder(title string) (string, error)
}

// The type lists of the dialogs.
func filtersAll() []FileFilter {
	return []FileFilter{{Name: lang.L("filter.all") + " (*.*)", Patterns: []string{"*"}}}
}

// filtersManifest: the batch list is an Excel workbook or the CSV that
// Excel saves (batch reads both).
func filtersManifest() []FileFilter {
	return append([]FileFilter{
		{Name: lang.L("filter.xlsx") + " (*.xlsx, *.xlsm)", Patterns: []string{"*.xlsx", "*.xlsm"}},
		{Name: lang.L("filter.csv") + " (*.csv, *.txt)", Patterns: []string{"*.csv", "*.txt"}},
	}, filtersAll()...)
}

func filtersArchive() []FileFilter {
	return append([]FileFilter{
		{Name: lang.L("filter.archive") + " (*.zip, *.age)", Patterns: []string{"*.zip", "*.age"}},
	}, filtersAll()...)
}

// pickFiles asks for files with the native dialog, or fyne's where there
// is none, and hands the chosen paths to done on the UI thread. The
// native dialog blocks its caller until it closes: it runs on a goroutine
// of its own so that the window keeps drawing meanwhile.
func (u *UI) pickFiles(title string, multiple bool, filters []FileFilter, done func([]string)) {
	p := u.deps.Picker
	if p == nil {
		u.fynePickFile(filters, done)
		return
	}
	u.pickWork.Add(1)
	go func() {
		defer u.pickWork.Done()
		paths, err := p.OpenFiles(title, multiple, filters)
		fyne.Do(func() {
			if err != nil {
				fyne.LogError("native file dialog, using fyne's", err)
				u.fynePickFile(filters, done)
				return
			}
			if len(paths) > 0 {
				done(paths)
			}
		})
	}()
}

// pickFolder is pickFiles for one folder.
func (u *UI) pickFolder(title string, done func(string)) {
	p := u.deps.Picker
	if p == nil {
		u.fynePickFolder(done)
		return
	}
	u.pickWork.Add(1)
	go func() {
		defer u.pickWork.Done()
		dir, err := p.OpenFolder(title)
		fyne.Do(func() {
			if err != nil {
				fyne.LogError("native folder dialog, using fyne's", err)
				u.fynePickFolder(done)
				return
			}
			if dir != "" {
				done(dir)
			}
		})
	}()
}

// fynePickFile is fyne's dialog: one file; the first filter's
// extensions, unless it is every file.
func (u *UI) fynePickFile(filters []FileFilter, done func([]string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		done([]string{localPath(r.URI())})
	}, u.win)
	if len(filters) > 0 {
		var exts []string
		for _, p := range filters[0].Patterns {
			if strings.HasPrefix(p, "*.") {
				exts = append(exts, p[1:])
			}
		}
		if len(exts) > 0 {
			d.SetFilter(storage.NewExtensionFileFilter(exts))
		}
	}
	d.Show()
}

func (u *UI) fynePickFolder(done func(string)) {
	dialog.ShowFolderOpen(func(l fyne.ListableURI, err error) {
		if err == nil && l != nil {
			done(localPath(l))
		}
	}, u.win)
}

// String is for test failures.
func (f FileFilter) String() string { return fmt.Sprintf("%s %v", f.Name, f.Patterns) }
