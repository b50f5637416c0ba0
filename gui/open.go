package gui

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/crypt"
)

// openView opens a received archive with the same safety rules as
// `kuvert decrypt`: everything verified before it is kept, nothing outside
// the chosen folder, nothing left behind on failure.
type openView struct {
	u        *UI
	content  fyne.CanvasObject
	archive  *widget.Entry
	password *widget.Entry
	identity *widget.Entry
	dest     *widget.Label
	button   *widget.Button
	status   *widget.Label
	busy     bool
	work     sync.WaitGroup // the running extraction, for tests
}

func newOpenView(u *UI) *openView {
	v := &openView{u: u}
	v.archive = widget.NewEntry()
	v.archive.SetPlaceHolder(lang.L("open.drop"))
	v.archive.OnChanged = func(string) { v.update() }
	choose := widget.NewButtonWithIcon(lang.L("open.choose"), theme.FolderOpenIcon(), func() {
		u.pickFiles(lang.L("picker.archive"), false, filtersArchive(), func(p []string) { v.setArchive(p[0]) })
	})
	v.password = widget.NewPasswordEntry()
	v.password.OnSubmitted = func(string) { v.start() }
	v.identity = widget.NewEntry()
	chooseID := widget.NewButtonWithIcon(lang.L("open.chooseIdentity"), theme.AccountIcon(), func() {
		u.pickFiles(lang.L("picker.identity"), false, filtersAll(), func(p []string) { v.identity.SetText(p[0]) })
	})
	v.dest = widget.NewLabel("")
	v.button = widget.NewButtonWithIcon(lang.L("open.button"), theme.ConfirmIcon(), v.start)
	v.button.Importance = widget.HighImportance
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem(lang.L("open.archive"), container.NewBorder(nil, nil, nil, choose, v.archive)),
		widget.NewFormItem(lang.L("open.password"), v.password),
		widget.NewFormItem(lang.L("open.identity"), container.NewBorder(nil, nil, nil, chooseID, v.identity)),
	)
	v.content = container.NewVBox(form, v.dest, v.button, v.status)
	v.update()
	return v
}

func (v *openView) setArchive(p string) {
	v.archive.SetText(p)
	v.u.win.Canvas().Focus(v.password)
}

func (v *openView) update() {
	a := strings.TrimSpace(v.archive.Text)
	if a == "" || v.busy {
		v.dest.SetText("")
		v.button.Disable()
		return
	}
	v.dest.SetText(lang.L("open.dest", map[string]any{"Dir": crypt.DefaultExtractDir(a)}))
	v.button.Enable()
}

func (v *openView) start() {
	a := strings.TrimSpace(v.archive.Text)
	if a == "" || v.busy {
		return
	}
	cred := crypt.Credentials{Password: v.password.Text}
	if id := strings.TrimSpace(v.identity.Text); id != "" {
		ids, err := crypt.ReadIdentitiesFile(id)
		if err != nil {
			v.fail(err)
			return
		}
		cred.Identities = ids
	}
	v.busy = true
	v.update()
	v.status.SetText("…")
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		res, err := app.Open(context.Background(), a, crypt.ExtractOptions{OpenOptions: crypt.OpenOptions{Credentials: cred}})
		fyne.Do(func() {
			v.busy = false
			v.update()
			v.password.SetText("")
			if err != nil {
				v.fail(err)
				return
			}
			v.status.SetText(lang.L("open.done", map[string]any{"Count": len(res.Files), "Dir": res.Dest}))
			v.u.deps.OpenFolder(filepath.Clean(res.Dest))
		})
	}()
}

func (v *openView) fail(err error) {
	msg := friendly(err)
	switch {
	case errors.Is(err, crypt.ErrWrongPassword):
		msg = lang.L("open.wrong")
	case errors.Is(err, crypt.ErrDamaged):
		msg = lang.L("open.damaged")
	case errors.Is(err, crypt.ErrUnsafe), errors.Is(err, crypt.ErrUnsupported):
		msg = lang.L("open.unsafe") + "\n" + describe(err)
	}
	v.status.SetText(msg)
}
