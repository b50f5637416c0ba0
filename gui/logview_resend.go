package gui

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/client"
)

// details is the log view's panel for the selected row: what it was
// and, for a sealing whose password went by SMS, a resend — the same
// [app.App.Resend] `kuvert resend` calls — with the number typed again
// and the folder of the source files.
type details struct {
	v     *logView
	box   *fyne.Container
	what  *widget.Label
	phone *widget.Entry
	dir   *widget.Entry
	send  *widget.Button
	row   *auditlog.Row
}

func newDetails(v *logView) *details {
	d := &details{v: v}
	d.what = widget.NewLabel("")
	d.what.Wrapping = fyne.TextWrapWord
	d.phone = widget.NewEntry()
	d.phone.SetPlaceHolder(lang.L("log.resend.phone"))
	d.dir = widget.NewEntry()
	d.dir.SetPlaceHolder(lang.L("log.resend.dir"))
	pick := widget.NewButton(lang.L("log.resend.pickDir"), func() {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				d.dir.SetText(u.Path())
			}
		}, v.u.win)
	})
	d.send = widget.NewButton(lang.L("log.resend"), d.resend)
	d.box = container.NewVBox(d.what, d.phone, container.NewBorder(nil, nil, nil, pick, d.dir), d.send)
	d.box.Hide()
	return d
}

// show shows the panel for row r: a resend only for a sealing that
// texted its password.
func (d *details) show(r *auditlog.Row) {
	d.row = r
	if r == nil || r.Entry.Action != auditlog.ActionSeal || r.Entry.Delivery == nil {
		d.box.Hide()
		return
	}
	name := ""
	if r.Entry.Archive != nil {
		name = r.Entry.Archive.Name
	}
	d.what.SetText(lang.L("log.resend.what", map[string]any{"Archive": name, "To": r.Entry.Delivery.To, "Ref": r.Entry.Delivery.Ref}))
	d.box.Show()
}

// resend seals the selected row's files again with a new password and
// texts it, in the background.
func (d *details) resend() {
	if d.row == nil {
		return
	}
	u := d.v.u
	cfg, err := u.loadConfig()
	if err != nil {
		d.v.status.SetText(friendly(err))
		return
	}
	a, err := u.appLayer(cfg)
	if err != nil {
		d.v.status.SetText(friendly(err))
		return
	}
	req := app.ResendRequest{Ref: d.row.Entry.ID, To: d.phone.Text, Dir: strings.TrimSpace(d.dir.Text), Policy: resendPolicy}
	d.send.Disable()
	d.v.status.SetText(lang.L("log.resend.working"))
	d.v.work.Add(1)
	go func() {
		defer d.v.work.Done()
		res, err := a.Resend(context.Background(), req)
		fyne.Do(func() {
			d.send.Enable()
			if err != nil {
				d.v.status.SetText(resendProblem(err))
				return
			}
			d.phone.SetText("")
			d.v.status.SetText(lang.L("log.resend.done", map[string]any{"Archive": res.Sealed.Archive, "Ref": res.Sealed.Delivery.Ref}))
			d.v.refresh()
		})
	}()
}

// resendProblem says why a resend was refused, or failed, in the
// window's language.
func resendProblem(err error) string {
	var r *app.Refusal
	if !errors.As(err, &r) {
		return friendly(err)
	}
	return lang.L("log.resend.refused."+string(r.Reason), map[string]any{
		"Sealing": r.Sealing, "By": r.By, "ByRef": r.ByRef, "Given": r.Given, "Logged": r.Logged,
		"Name": r.Name, "Path": r.Path, "Ref": r.Ref, "Batch": r.Batch, "Row": r.Row, "Max": auditlog.MaxFiles,
	})
}

// verifyServer checks the central log on the kuvert server — the same
// [app.App.VerifyServer] `kuvert log verify --server` calls, with its
// rule for a server that changed its key — in the background.
func (v *logView) verifyServer() {
	u := v.u
	cfg, err := u.loadConfig()
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	a, err := u.appLayer(cfg)
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	c, err := a.Server("")
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	v.status.SetText(lang.L("log.server.verifying"))
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		chk, err := a.VerifyServer(ctx, c, "")
		fyne.Do(func() { v.status.SetText(serverVerdict(chk, err)) })
	}()
}

// serverVerdict is a server check's outcome in the window's language.
func serverVerdict(chk *app.ServerCheck, err error) string {
	switch {
	case errors.Is(err, client.ErrTampered):
		return "✗ " + lang.L("log.server.bad", map[string]any{"Problem": describe(err)})
	case err != nil:
		return friendly(err)
	}
	lines := []string{"✓ " + lang.L("log.server.ok", map[string]any{"Entries": chk.Head.Head.Size})}
	for _, w := range chk.Warnings {
		lines = append(lines, lang.L("log.server.warning."+string(w), map[string]any{"Keys": strings.Join(chk.OtherKeys, ", ")}))
	}
	return strings.Join(lines, "\n")
}
