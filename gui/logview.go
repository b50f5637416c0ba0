package gui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/auditlog"
)

// logView shows the latest log entries, verifies the log and exports CSV.
type logView struct {
	u       *UI
	content fyne.CanvasObject
	entries []auditlog.Row // the log's fold: one row per SMS
	table   *widget.Table
	status  *widget.Label
	server  *widget.Label // what waits for the kuvert server, when one is set
	// verifyServerBtn checks the central log; shown when a server is set.
	verifyServerBtn *widget.Button
	details         *details // the selected row, and its resend
	// work is what runs in the background (a resend, a server check),
	// for tests to wait on.
	work sync.WaitGroup
}

// logColumns: time, event, archive, files, recipient (masked), SMS
// status, case; with their widths at scale 1.
var logColumns = []struct {
	key   string
	width float32
}{
	{"log.col.time", 130}, {"log.col.action", 140}, {"log.col.archive", 170}, {"log.col.files", 50},
	{"log.col.to", 140}, {"log.col.sms", 130}, {"log.col.case", 110},
}

func newLogView(u *UI) *logView {
	v := &logView{u: u}
	v.table = widget.NewTable(
		func() (int, int) { return len(v.entries), len(logColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(v.entries) {
				o.(*widget.Label).SetText(entryCell(&v.entries[id.Row], id.Col))
			}
		},
	)
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(logColumns) {
			o.(*widget.Label).SetText(lang.L(logColumns[id.Col].key))
		}
	}
	for i, c := range logColumns {
		v.table.SetColumnWidth(i, c.width)
	}
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	verify := widget.NewButtonWithIcon(lang.L("log.verify"), theme.ConfirmIcon(), v.verify)
	export := widget.NewButtonWithIcon(lang.L("log.export"), theme.DocumentSaveIcon(), v.export)
	refresh := widget.NewButtonWithIcon(lang.L("log.refresh"), theme.ViewRefreshIcon(), v.refresh)
	v.server = widget.NewLabel("")
	v.server.Wrapping = fyne.TextWrapWord
	v.server.Hide()
	v.verifyServerBtn = widget.NewButtonWithIcon(lang.L("log.server.verify"), theme.ConfirmIcon(), v.verifyServer)
	v.verifyServerBtn.Hide()
	v.details = newDetails(v)
	v.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(v.entries) {
			v.details.show(&v.entries[id.Row])
		}
	}
	v.content = container.NewBorder(container.NewVBox(container.NewHBox(refresh, verify, v.verifyServerBtn, export), v.status, v.server), v.details.box, nil, nil, v.table)
	return v
}

// entryCell is one cell of the log table. Nothing in an entry is secret
// (no password, the number masked), so everything may be shown.
func entryCell(r *auditlog.Row, col int) string {
	e := &r.Entry
	switch col {
	case 0:
		return e.When().Local().Format("2006-01-02 15:04")
	case 1:
		return lang.X("log.action."+string(e.Action), string(e.Action))
	case 2:
		if e.Archive != nil {
			return e.Archive.Name
		}
	case 3:
		if n := e.FilesTotal(); n > 0 {
			return fmt.Sprint(n)
		}
	case 4:
		if e.Delivery != nil {
			return e.Delivery.To
		}
	case 5:
		if e.Delivery != nil {
			return deliveryWords(e.Delivery)
		}
	case 6:
		return e.Case
	}
	return ""
}

// entryLine is the whole row as one line (for tests and screen readers).
func entryLine(e *auditlog.Row) string {
	var parts []string
	for i := range logColumns {
		if c := entryCell(e, i); c != "" {
			parts = append(parts, c)
		}
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
	// A sealing is logged with its SMS "pending"; the log's one fold
	// shows the outcome later entries recorded (sent, failed, delivered …),
	// one row per SMS, as `kuvert log list` does.
	rows := slices.DeleteFunc(auditlog.View(es), func(r auditlog.Row) bool { return r.Pruned })
	slices.Reverse(rows)
	if len(rows) > 500 {
		rows = rows[:500]
	}
	v.entries = rows
	// Without a server the line takes no room.
	if line := v.u.serverLine(l); line != "" {
		v.server.SetText(line)
		v.server.Show()
		v.verifyServerBtn.Show()
	} else {
		v.server.Hide()
		v.verifyServerBtn.Hide()
	}
	v.table.UnselectAll()
	v.details.show(nil)
	if len(rows) == 0 {
		v.status.SetText(lang.L("log.empty"))
	} else if v.status.Text == lang.L("log.empty") {
		v.status.SetText("")
	}
	v.table.Refresh()
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
	// The same selection and delivery state as `kuvert log export`.
	es, err := l.Query(auditlog.Query{})
	if err == nil {
		err = auditlog.ExportCSV(w, es, entryDetails)
	}
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	v.status.SetText(lang.L("log.exported", map[string]any{"Path": path}))
}

// deliveryWords is a delivery's state in the window's language, in the
// log's one wording ([auditlog.Delivery.Words]): a demo is never "sent".
func deliveryWords(d *auditlog.Delivery) string {
	sv, en := d.Words()
	if uiLang == "en" {
		return en
	}
	return sv
}
