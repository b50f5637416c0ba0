package gui

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/crypt/auditlog"
)

// logView shows the latest log entries, verifies the log and exports CSV.
type logView struct {
	u       *UI
	content fyne.CanvasObject
	entries []auditlog.Entry
	list    *widget.List
	status  *widget.Label
}

func newLogView(u *UI) *logView {
	v := &logView{u: u}
	v.list = widget.NewList(
		func() int { return len(v.entries) },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(entryLine(&v.entries[i])) },
	)
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	verify := widget.NewButtonWithIcon(lang.L("log.verify"), theme.ConfirmIcon(), v.verify)
	export := widget.NewButtonWithIcon(lang.L("log.export"), theme.DocumentSaveIcon(), v.export)
	refresh := widget.NewButtonWithIcon(lang.L("log.refresh"), theme.ViewRefreshIcon(), v.refresh)
	v.content = container.NewBorder(container.NewVBox(container.NewHBox(refresh, verify, export), v.status), nil, nil, nil, v.list)
	return v
}

// entryLine: time, action, recipient (masked), files, SMS status, case.
func entryLine(e *auditlog.Entry) string {
	parts := []string{e.When().Local().Format("2006-01-02 15:04"), e.Action}
	if e.Archive != nil {
		parts = append(parts, e.Archive.Name)
	}
	if len(e.Files) > 0 {
		parts = append(parts, lang.L("log.files", map[string]any{"Count": len(e.Files)}))
	}
	if d := e.Delivery; d != nil {
		parts = append(parts, fmt.Sprintf("→ %s (%s)", d.To, d.Status))
	}
	if e.Case != "" {
		parts = append(parts, lang.L("log.case", map[string]any{"Case": e.Case}))
	}
	return strings.Join(parts, "   ")
}

func (v *logView) refresh() {
	l, err := v.u.openLog()
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	es, err := l.Entries()
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	es = slices.DeleteFunc(es, func(e auditlog.Entry) bool { return e.Pruned })
	slices.Reverse(es)
	if len(es) > 500 {
		es = es[:500]
	}
	v.entries = es
	if len(es) == 0 {
		v.status.SetText(lang.L("log.empty"))
	}
	v.list.Refresh()
}

func (v *logView) verify() {
	l, err := v.u.openLog()
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	res, err := l.Verify("")
	switch {
	case errors.Is(err, auditlog.ErrTampered):
		v.status.SetText("✗ " + lang.L("log.bad", map[string]any{"Problem": res.Problem}))
	case err != nil:
		v.status.SetText(friendly(err))
	default:
		v.status.SetText("✓ " + lang.L("log.ok", map[string]any{"Entries": res.Entries}))
	}
}

func (v *logView) export() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		v.exportTo(w, w.URI().Path())
	}, v.u.win)
	d.SetFileName("kuvert-logg.csv")
	d.Show()
}

func (v *logView) exportTo(w interface{ Write([]byte) (int, error) }, path string) {
	l, err := v.u.openLog()
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	es, err := l.Entries()
	if err == nil {
		es = slices.DeleteFunc(es, func(e auditlog.Entry) bool { return e.Pruned })
		err = auditlog.ExportCSV(w, es)
	}
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	v.status.SetText(lang.L("log.exported", map[string]any{"Path": path}))
}
