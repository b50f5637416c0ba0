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
	entries []auditlog.Row // the rows shown: the fold's, narrowed by search
	all     []auditlog.Row // the log's fold: one row per SMS, newest first
	search  *widget.Entry  // a reference, a case number or a name
	table   *widget.Table
	status  *widget.Label
	server  *widget.Label // what waits for the kuvert server, when one is set
	// verifyServerBtn checks the central log; shown when a server is set.
	verifyServerBtn *widget.Button
	details         *details // the selected row, and its resend
	searchSaid      bool     // the status says the search found nothing
	// work is what runs in the background (a resend, a server check),
	// for tests to wait on.
	work sync.WaitGroup
}

// logColumns: time, event, the SMS's reference, the recipient's name,
// case, archive, files, number (masked), SMS status; with their widths
// at scale 1. What a caller can quote (reference, name, case) comes
// first.
var logColumns = []struct {
	key   string
	width float32
	cell  func(*auditlog.Row) string
}{
	{"log.col.time", 130, func(r *auditlog.Row) string { return r.When().Local().Format("2006-01-02 15:04") }},
	{"log.col.action", 120, func(r *auditlog.Row) string { return lang.X("log.action."+string(r.Action), string(r.Action)) }},
	{"log.col.ref", 80, func(r *auditlog.Row) string {
		if r.Delivery != nil {
			return r.Delivery.Ref
		}
		return ""
	}},
	{"log.col.name", 140, func(r *auditlog.Row) string { return r.Note }},
	{"log.col.case", 110, func(r *auditlog.Row) string { return r.Case }},
	{"log.col.archive", 150, func(r *auditlog.Row) string {
		if r.Archive != nil {
			return r.Archive.Name
		}
		return ""
	}},
	{"log.col.files", 50, func(r *auditlog.Row) string {
		if n := r.FilesTotal(); n > 0 {
			return fmt.Sprint(n)
		}
		return ""
	}},
	{"log.col.to", 140, func(r *auditlog.Row) string {
		if r.Delivery != nil {
			return r.Delivery.To
		}
		return ""
	}},
	{"log.col.sms", 130, func(r *auditlog.Row) string {
		if r.Delivery != nil {
			return deliveryWords(r.Delivery)
		}
		return ""
	}},
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
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder(lang.L("log.search.placeholder"))
	v.search.OnChanged = func(string) { v.filter() }
	searchRow := container.NewBorder(nil, nil, widget.NewIcon(theme.SearchIcon()), nil, v.search)
	v.content = container.NewBorder(container.NewVBox(container.NewHBox(refresh, verify, v.verifyServerBtn, export), searchRow, v.status, v.server), v.details.box, nil, nil, v.table)
	return v
}

// entryCell is one cell of the log table. Nothing in an entry is secret
// (no password, the number masked), so everything may be shown.
func entryCell(r *auditlog.Row, col int) string {
	if col < 0 || col >= len(logColumns) {
		return ""
	}
	return logColumns[col].cell(r)
}

// logMatches says whether a row answers what was typed in the search
// box: its SMS reference ("6h7mse", "ref 6h7mse", any case), its case
// number (auditlog.CaseMatches: "2026/118" finds "SN 2026/118") or a
// part of the recipient's name.
func logMatches(r *auditlog.Row, query string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return true
	}
	if r.Delivery != nil && r.Delivery.Ref != "" {
		ref := strings.TrimSpace(strings.TrimLeft(strings.TrimPrefix(q, "ref"), " :."))
		if ref != "" && strings.EqualFold(r.Delivery.Ref, ref) {
			return true
		}
	}
	if auditlog.CaseMatches(r.Case, query) {
		return true
	}
	return r.Note != "" && strings.Contains(strings.ToLower(r.Note), q)
}

// filter shows the rows that match the search box.
func (v *logView) filter() {
	q := v.search.Text
	v.entries = v.entries[:0:0]
	for _, r := range v.all {
		if logMatches(&r, q) {
			v.entries = append(v.entries, r)
		}
	}
	v.table.UnselectAll()
	v.details.show(nil)
	switch {
	case len(v.all) == 0:
		v.status.SetText(lang.L("log.empty"))
	case len(v.entries) == 0:
		v.status.SetText(lang.L("log.search.none", map[string]any{"Query": strings.TrimSpace(q)}))
	case v.status.Text == lang.L("log.empty") || v.searchSaid:
		v.status.SetText("")
	}
	v.searchSaid = len(v.all) > 0 && len(v.entries) == 0
	v.table.Refresh()
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
	// A follow-up (the SMS after its sealing) names the recipient through
	// the entry it follows: show the name on both rows, so a search by
	// name finds the reference too.
	names := map[string]string{}
	for _, e := range es {
		if e.Note != "" {
			names[e.ID] = e.Note
		}
	}
	for i := range rows {
		if rows[i].Note == "" && rows[i].Refers != "" {
			rows[i].Note = names[rows[i].Refers]
		}
	}
	v.all = rows
	// Without a server the line takes no room.
	if line := v.u.serverLine(l); line != "" {
		v.server.SetText(line)
		v.server.Show()
		v.verifyServerBtn.Show()
	} else {
		v.server.Hide()
		v.verifyServerBtn.Hide()
	}
	v.filter()
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
		v.exportTo(w, localPath(w.URI()))
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
