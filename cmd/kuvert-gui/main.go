// Command kuvert-gui is kuvert's desktop app: drag files in, seal them,
// text the password, see the log. All of it is in package gui; this file
// only starts fyne's real driver, which is why it alone imports
// fyne.io/fyne/v2/app (and cgo with it).
package main

import (
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/kuvert-app/kuvert/gui"
)

func main() {
	a := app.NewWithID("se.kuvert.desktop")
	w := a.NewWindow("kuvert")
	u, err := gui.New(a, w, gui.SystemDeps())
	if err != nil {
		os.Stderr.WriteString("kuvert-gui: " + err.Error() + "\n")
		os.Exit(1)
	}
	w.SetOnDropped(u.OnDropped)
	w.Resize(fyne.NewSize(860, 720))
	if tab := os.Getenv("KUVERT_GUI_TAB"); tab != "" {
		u.SelectTab(tab) // for make screenshot
	}
	w.ShowAndRun()
}
