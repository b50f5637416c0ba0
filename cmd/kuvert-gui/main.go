// Command kuvert-gui is kuvert's desktop app: drag files in, seal them,
// text the password, see the log. All of it is in package gui; this file
// only starts fyne's real driver, which is why it alone imports
// fyne.io/fyne/v2/app (and cgo with it).
//
// Files named on the command line start in the list, so dropping files on
// the program's icon (or a "Send to" shortcut on Windows) works too.
package main

import (
	_ "embed"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/kuvert-app/kuvert/gui"
	"github.com/kuvert-app/kuvert/gui/osdialog"
)

//go:embed Icon.png
var icon []byte

func main() {
	a := app.NewWithID("se.kuvert.desktop")
	a.SetIcon(fyne.NewStaticResource("Icon.png", icon))
	w := a.NewWindow("kuvert")
	deps := gui.SystemDeps()
	deps.Picker = osdialog.Picker{}
	u, err := gui.New(a, w, deps)
	if err != nil {
		os.Stderr.WriteString("kuvert-gui: " + err.Error() + "\n")
		os.Exit(1)
	}
	w.SetOnDropped(u.OnDropped)
	w.Resize(fyne.NewSize(900, 760))
	if len(os.Args) > 1 {
		u.AddFiles(os.Args[1:])
	}
	// For scripts/screenshot.sh: start on a given view, number typed in.
	if tab := os.Getenv("KUVERT_GUI_TAB"); tab != "" {
		u.SelectTab(tab)
	}
	if ph := os.Getenv("KUVERT_GUI_PHONE"); ph != "" {
		u.SetPhone(ph)
	}
	w.ShowAndRun()
}
