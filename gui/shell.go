package gui

import (
	"errors"
	"os"
	"runtime"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/internal/desktop"
)

// AddFromShell takes files the desktop handed over: the program's
// arguments (Explorer's "Skicka med kuvert", a "Send to" shortcut) or a
// later start's files passed on to the running window. The Seal view
// shows them in its list: folders as the form adds them,
// each file once, and paths that do not exist (a file moved since the
// right-click) left out with a note in the form. It returns how many files
// the form lists now and the paths it left out.
func (u *UI) AddFromShell(paths []string) (inForm int, missing []string) {
	var ok []string
	for _, p := range paths {
		if strings.TrimSpace(p) == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
			continue
		}
		ok = append(ok, p)
	}
	u.tabs.SelectIndex(0)
	if len(ok) > 0 {
		u.seal.addPaths(ok)
	}
	if len(missing) > 0 {
		u.seal.status.SetText(lang.L("shell.missing", map[string]any{"Paths": strings.Join(missing, ", ")}))
	}
	u.seal.mu.Lock()
	defer u.seal.mu.Unlock()
	return len(u.seal.form.Files), missing
}

// Raise brings the window to the front, as for a later start of the app.
func (u *UI) Raise() {
	u.win.Show()
	u.win.RequestFocus()
}

// showFileLabel names the file manager the way the system does.
func showFileLabel() string {
	if runtime.GOOS == "windows" {
		return lang.L("result.showInExplorer")
	}
	return lang.L("result.showFolder")
}

// showArchive shows the archive selected in Explorer (elsewhere its
// folder).
func (v *sealView) showArchive(archive string) {
	if err := v.u.deps.ShowFile(archive); err != nil {
		v.status.SetText(lang.L("result.showFailed", map[string]any{"Path": archive}))
	}
}

// openDraft hands the draft to the mail program the user chose for .eml
// (classic Outlook opens it as an editable draft with the archive
// attached). The shell may wait for the program, so this runs in the
// background. When no program takes .eml — the new Outlook and Outlook on
// the web do not — the user is told so and offered the archive's path to
// attach it by hand.
func (v *sealView) openDraft(path string) {
	archive := strings.TrimSuffix(path, ".eml")
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		err := v.u.deps.OpenFile(path)
		fyne.Do(func() {
			switch {
			case err == nil:
				v.status.SetText(lang.L("result.draft.opened", map[string]any{"Path": path}))
			case errors.Is(err, desktop.ErrNoAssociation):
				v.noMailer(lang.L("result.draft.noMailer", map[string]any{"Path": path, "Archive": archive}), archive)
			default:
				v.noMailer(lang.L("result.draft.openFailed", map[string]any{"Path": path, "Archive": archive}), archive)
			}
		})
	}()
}

// noMailer says why the draft did not open and offers to copy the
// archive's path, to paste into the attach dialog of a new e-mail.
func (v *sealView) noMailer(text, archive string) {
	v.status.SetText(text)
	msg := widget.NewLabel(text)
	msg.Wrapping = fyne.TextWrapWord
	copyBtn := widget.NewButtonWithIcon(lang.L("result.copyPath"), theme.ContentCopyIcon(), func() {
		v.u.deps.Clipboard.SetContent(archive)
		v.status.SetText(lang.L("result.pathCopied", map[string]any{"Path": archive}))
	})
	d := dialog.NewCustom(lang.L("result.draft.noMailer.title"), lang.L("result.close"), container.NewVBox(msg, container.NewHBox(copyBtn)), v.u.win)
	d.Resize(fyne.NewSize(560, 0))
	d.Show()
}
