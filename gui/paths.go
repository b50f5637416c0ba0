package gui

import (
	"path/filepath"

	"fyne.io/fyne/v2"
)

// localPath is a file URI's path as the OS writes it. fyne's URIs use
// forward slashes everywhere (file:///C:/Users/…), so on Windows a
// dropped or picked file would otherwise show as C:/Users/anna/lön.xlsx
// in the fields and in names derived from it, beside Explorer's
// C:\Users\anna\lön.xlsx.
func localPath(u fyne.URI) string {
	return filepath.FromSlash(u.Path())
}
