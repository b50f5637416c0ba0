// Package osdialog is the operating system's own file dialog for the
// desktop app (gui.Picker), through github.com/ncruces/zenity: on
// Windows the common item dialog (IFileOpenDialog, falling back to
// GetOpenFileName; pure Go, no cgo), which Windows draws in the user's
// language with multi-select and the type list; on macOS NSOpenPanel
// through osascript; on Linux the zenity (or qarma) program when it is
// installed. Where there is none, the error sends the app to fyne's own
// dialog. cmd/kuvert-gui hands it to the app; package gui never imports
// it, so no headless test opens a real dialog.
package osdialog

import (
	"errors"

	"github.com/ncruces/zenity"

	"github.com/kuvert-app/kuvert/gui"
)

// Picker is a gui.Picker.
type Picker struct{}

var _ gui.Picker = Picker{}

var errNoDialog = errors.New("no native file dialog: the zenity program is not installed")

func (Picker) OpenFiles(title string, multiple bool, filters []gui.FileFilter) ([]string, error) {
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

func (Picker) OpenFolder(title string) (string, error) {
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
