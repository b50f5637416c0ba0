// Command kuvert-gui is kuvert's desktop app: drag files in, seal them,
// text the password, see the log. All of it is in package gui; this file
// only starts fyne's real driver, which is why it alone imports
// fyne.io/fyne/v2/app (and cgo with it).
//
// Files named on the command line start in the list, so dropping files on
// the program's icon, a "Send to" shortcut or Explorer's "Skicka med
// kuvert" works too. There is one window per user (internal/single): a
// start while the app runs hands its files to the running window, prints
// the window's answer and exits 0. Explorer starts one process for the
// whole selection when its verb passes %* (MultiSelectModel=Player), or
// one per file with "%1"; either way the files end up in one window.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/kuvert-app/kuvert/gui"
	"github.com/kuvert-app/kuvert/gui/osdialog"
	"github.com/kuvert-app/kuvert/internal/desktop"
	"github.com/kuvert-app/kuvert/internal/single"
)

//go:embed Icon.png
var icon []byte

// handOffWait bounds how long a start waits for the running window to
// answer (it may itself be starting) before opening a window of its own:
// files are never dropped because the other window hangs.
const handOffWait = 20 * time.Second

func main() {
	files := os.Args[1:]
	srv := claimOrHandOff(files)
	if srv != nil {
		defer srv.Close()
	}

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
	if len(files) > 0 {
		u.AddFromShell(files)
	}
	if srv != nil {
		go srv.Serve(func(files []string) single.Reply {
			var rep single.Reply
			fyne.DoAndWait(func() {
				rep.InForm, rep.Missing = u.AddFromShell(files)
				u.Raise()
			})
			return rep
		})
	}
	// For scripts/screenshot.sh: start on a given view, with a number, an
	// archive name or a log search typed in, a batch manifest chosen, or
	// the Seal button pressed once the window shows.
	if tab := os.Getenv("KUVERT_GUI_TAB"); tab != "" {
		u.SelectTab(tab)
	}
	if ph := os.Getenv("KUVERT_GUI_PHONE"); ph != "" {
		u.SetPhone(ph)
	}
	if name := os.Getenv("KUVERT_GUI_ARCHIVE"); name != "" {
		u.SetArchiveName(name)
	}
	if q := os.Getenv("KUVERT_GUI_SEARCH"); q != "" {
		u.SearchLog(q)
	}
	if m := os.Getenv("KUVERT_GUI_MANIFEST"); m != "" {
		u.LoadManifest(m)
	}
	if os.Getenv("KUVERT_GUI_PRESS_SEAL") != "" {
		go func() {
			time.Sleep(time.Second)
			fyne.Do(u.PressSeal)
		}()
	}
	w.ShowAndRun()
}

// claimOrHandOff makes this process the user's window, or hands files to
// the one that runs and exits. When the claim cannot be made at all (no
// folder for it), the app runs on as a window of its own.
func claimOrHandOff(files []string) *single.Server {
	dir, err := single.Dir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kuvert-gui: %v\n", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), handOffWait)
	defer cancel()
	desktop.AllowForeground()
	srv, rep, err := single.Start(ctx, dir, files)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kuvert-gui: fönstret som redan är öppet svarar inte, ett nytt öppnas / the open window does not answer, opening another: %v\n", err)
		return nil
	}
	if rep == nil {
		return srv
	}
	fmt.Printf("%d filer i formuläret / %d files in the form\n", rep.InForm, rep.InForm)
	if len(rep.Missing) > 0 {
		fmt.Printf("finns inte, inte tillagda / not found, not added: %s\n", strings.Join(rep.Missing, ", "))
	}
	os.Exit(0)
	return nil
}
