package main

import (
	"errors"

	"github.com/ncruces/zenity"

	"github.com/kuvert-app/kuvert/gui"
)

// zenityPicker is the OS's own file dialog through github.com/ncruces/zenity:
// on Windows the common item dialog (IFileOpenDialog; pure Go, no cgo),
// which Windows draws in the user's language with multi-select and the
// type list; on macOS NSOpenPanel through osascript; on Linux the zenity
// (or qarma) program when it is installed. Where it is not, the error
// sends the app to fyne's own dialog (gui.Picker).
type zenityPicker struct{}

var errNoDialog = errors.New("no native file dialog: the zenity program is not installed")

func (zenityPicker) OpenFiles(title string, multiple bool, filters []gui.FileFilter) ([]string, error) {
	if !zenity.IsAvailable() {
		return nil, errNoDialog
	}
	opts := []zenity.Option{zenity.Title(title), zenityFilters(filters)}
	var paths []string
	var err error
	if multiple {
		paths, err = zenity.SelectFileMultiple(opts...)
	} else {
		var p string
		p, err = zenity.SelectFile(opts...)
		if p != "" {
			paths = []string{p}
		}
	}
	if errors.Is(err, zenity.ErrCanceled) {
		return nil, nil
	}
	return paths, err
}

func (zenityPicker) OpenFolder(title string) (string, error) {
	if !zenity.IsAvailable() {
		return "", errNoDialog
	}
	dir, err := zenity.SelectFile(zenity.Title(title), zenity.Directory())
	if errors.Is(err, zenity.ErrCanceled) {
		return "", nil
	}
	return dir, err
}

func zenityFilters(filters []gui.FileFilter) zenity.FileFilters {
	out := make(zenity.FileFilters, 0, len(filters))
	for _, f := range filters {
		// Windows matches case-insensitively anyway; LÖNER.XLSX is
		// a workbook on the other systems too.
		out = append(out, zenity.FileFilter{Name: f.Name, Patterns: f.Patterns, CaseFold: true})
	}
	return out
}
