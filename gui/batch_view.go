package gui

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
)

// batchView is the Massutskick tab: a [batchForm] shown as a table of
// rows with their problems or, once started, their progress. The run is
// batch.Run in the background; each row's end comes through OnRow and
// fyne.Do.
type batchView struct {
	u       *UI
	content fyne.CanvasObject

	// mu guards form, lines and status: OnRow writes status from the
	// run's goroutines while the table draws.
	mu     sync.Mutex
	form   batchForm
	lines  []batchLine
	status map[int]string // row → its result, in words

	choose   *widget.Button
	path     *widget.Label
	table    *widget.Table
	summary  *widget.Label // "3 rows, 1 problem" / resumes
	mail     *widget.RadioGroup
	demo     *widget.Label
	start    *widget.Button
	cancelBt *widget.Button
	progress *widget.ProgressBar
	state    *widget.Label
	report   *widget.Label
	openRep  *widget.Button

	cancel context.CancelFunc
	busy   bool
	done   int
	work   sync.WaitGroup // the running batch, for tests
	// afterRow, if set, is called after each row's result is shown (tests).
	afterRow func(batch.RowResult)
	last     *batch.Summary
	lastErr  error
	// showingMail: update is setting the radio from the form.
	showingMail bool
}

// The mail radio's options, in the order of their labels.
var batchMailChoices = []string{batch.MailDraft, batch.MailSend, batch.MailNone}

// batchColumns: row, name, file, number, problem or result.
const batchColumns = 5

func newBatchView(u *UI) *batchView {
	v := &batchView{u: u, status: map[int]string{}}
	v.choose = widget.NewButtonWithIcon(lang.L("batch.choose"), theme.FolderOpenIcon(), func() {
		u.pickFiles(lang.L("picker.manifest"), false, filtersManifest(), func(p []string) { v.LoadManifest(p[0]) })
	})
	v.path = widget.NewLabel(lang.L("batch.none"))
	v.path.Wrapping = fyne.TextWrapBreak
	v.summary = widget.NewLabel("")
	v.summary.Wrapping = fyne.TextWrapWord
	v.table = widget.NewTableWithHeaders(
		func() (int, int) {
			v.mu.Lock()
			defer v.mu.Unlock()
			return len(v.lines), batchColumns
		},
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.Wrapping = fyne.TextWrapOff
			if id.Col == batchColumns-1 {
				l.Wrapping = fyne.TextWrapWord // a problem is read whole
			}
			l.SetText(v.cell(id.Row, id.Col))
		})
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Row < 0 && id.Col >= 0 {
			o.(*widget.Label).SetText(lang.L([]string{"batch.col.row", "batch.col.name", "batch.col.file", "batch.col.number", "batch.col.problem"}[id.Col]))
		}
	}
	for c, w := range batchColumnWidths {
		v.table.SetColumnWidth(c, w)
	}
	v.mail = widget.NewRadioGroup([]string{lang.L("batch.mail.draft"), lang.L("batch.mail.send"), lang.L("batch.mail.none")}, func(s string) {
		if v.showingMail {
			return // update shows the form's mode; the user chose nothing
		}
		for i, l := range v.mail.Options {
			if l == s {
				v.mu.Lock()
				v.form.Mail = batchMailChoices[i]
				v.mu.Unlock()
			}
		}
		v.update()
	})
	v.mail.Horizontal = true
	v.mail.Required = true
	v.demo = widget.NewLabel("")
	v.demo.Wrapping = fyne.TextWrapWord
	v.demo.Importance = widget.WarningImportance
	v.start = widget.NewButtonWithIcon(lang.L("batch.start"), theme.MailSendIcon(), v.Start)
	v.start.Importance = widget.HighImportance
	v.cancelBt = widget.NewButtonWithIcon(lang.L("batch.cancel"), theme.CancelIcon(), v.Cancel)
	v.cancelBt.Hide()
	v.progress = widget.NewProgressBar()
	v.progress.Hide()
	v.state = widget.NewLabel("")
	v.state.Wrapping = fyne.TextWrapWord
	v.report = widget.NewLabel("")
	v.report.Wrapping = fyne.TextWrapBreak
	v.openRep = widget.NewButtonWithIcon(lang.L("batch.report.open"), theme.FolderOpenIcon(), func() {
		if v.last != nil {
			if err := u.deps.OpenFolder(v.last.OutDir); err != nil {
				dialog.ShowError(err, u.win)
			}
		}
	})
	v.openRep.Hide()
	top := container.NewVBox(
		widget.NewLabel(lang.L("batch.intro")),
		container.NewBorder(nil, nil, v.choose, nil, v.path),
		v.summary,
	)
	bottom := container.NewVBox(
		widget.NewLabel(lang.L("batch.mail")), v.mail, v.demo,
		container.NewHBox(v.start, v.cancelBt), v.progress, v.state,
		container.NewBorder(nil, nil, nil, v.openRep, v.report),
	)
	v.content = container.NewBorder(top, bottom, nil, nil, v.table)
	v.update()
	return v
}

// cell is the text of one table cell.
func (v *batchView) cell(row, col int) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if row >= len(v.lines) {
		return ""
	}
	l := v.lines[row]
	switch col {
	case 0:
		if l.Row <= 1 && l.Name == "" && l.File == "" {
			if l.Row == 1 {
				return lang.L("batch.header")
			}
			return ""
		}
		return strconv.Itoa(l.Row)
	case 1:
		return l.Name
	case 2:
		return l.File
	case 3:
		return l.Number
	}
	if s, ok := v.status[l.Row]; ok {
		return s
	}
	return l.Problem
}

// LoadManifest reads and validates a manifest, as choosing it in the
// file dialog does, and shows every row with its problems.
func (v *batchView) LoadManifest(path string) {
	if v.busy {
		return
	}
	cfg := v.u.config()
	l, err := v.u.openLog()
	if err != nil {
		v.showError(err)
		return
	}
	format, _ := crypt.ParseFormat(cfg.Format)
	s, err := v.u.resolveSMS(cfg, nil)
	demo := err == nil && s.Demo
	v.mu.Lock()
	v.form.Load(path, v.u.deps.Home, l, format, demo)
	v.lines = v.form.Lines()
	v.status = map[int]string{}
	v.mu.Unlock()
	v.last, v.lastErr = nil, nil
	v.path.SetText(path)
	v.report.SetText("")
	v.openRep.Hide()
	v.state.SetText("")
	v.fitRows()
	v.table.Refresh()
	v.update()
}

// update redraws the summary, the mail choice and Start from the form.
func (v *batchView) update() {
	s, err := v.u.resolveSMS(v.u.config(), nil)
	demo := err == nil && s.Demo
	v.mu.Lock()
	if !v.busy && v.form.Manifest != nil && v.form.Demo != demo {
		// The provider changed in Settings since the list was judged:
		// rows the demo provider only showed are left for a real one.
		v.form.Rejudge(demo)
	}
	f := v.form
	v.mu.Unlock()
	switch {
	case f.LoadErr != nil:
		v.summary.SetText(friendly(f.LoadErr))
	case f.Manifest == nil:
		v.summary.SetText(lang.L("batch.hint"))
	case len(f.Problems()) > 0:
		v.summary.SetText(problemsSummary(len(f.Problems()), len(f.Manifest.Rows)))
	case f.Finished:
		v.summary.SetText(lang.L("batch.finished", map[string]any{"Rows": len(f.Manifest.Rows), "Dir": f.OutDir}))
	case f.Resumes:
		v.summary.SetText(lang.L("batch.resumes", map[string]any{"Rows": len(f.Manifest.Rows), "Dir": f.OutDir}))
	default:
		v.summary.SetText(plural("batch.ready", len(f.Manifest.Rows), map[string]any{"Rows": len(f.Manifest.Rows), "Dir": f.OutDir}))
	}
	mode := f.MailMode()
	for i, m := range batchMailChoices {
		if m == mode && v.mail.Selected != v.mail.Options[i] {
			v.showingMail = true
			v.mail.SetSelected(v.mail.Options[i])
			v.showingMail = false
		}
	}
	if demo {
		v.demo.SetText(lang.L("batch.demo"))
		v.demo.Show()
	} else {
		v.demo.Hide()
	}
	if f.Resumes && !f.Finished {
		v.start.SetText(lang.L("batch.resume"))
	} else {
		v.start.SetText(lang.L("batch.start"))
	}
	if f.CanStart() && !v.busy {
		v.start.Enable()
	} else {
		v.start.Disable()
	}
}

// Start runs the batch in the background, as `kuvert batch` would with
// the same manifest, folder and --mail.
func (v *batchView) Start() {
	if v.busy {
		return
	}
	v.mu.Lock()
	f := v.form
	v.mu.Unlock()
	cfg, err := v.u.loadConfig()
	if err != nil {
		v.showError(err)
		return
	}
	l, err := v.u.openLog()
	if err != nil {
		v.showError(err)
		return
	}
	s, err := v.u.resolveSMSToSend(cfg)
	if err != nil {
		v.showError(err)
		return
	}
	opts, err := f.Options(batchEnv{Log: l, Config: cfg, SMS: s.policy(), Relay: v.relay(cfg)})
	if err != nil {
		v.showError(err)
		return
	}
	total := len(f.Manifest.Rows)
	opts.OnRow = func(r batch.RowResult) {
		word := rowResultText(r)
		v.mu.Lock()
		v.status[r.Row] = word
		v.mu.Unlock()
		fyne.Do(func() {
			v.done++
			if total > 0 {
				v.progress.SetValue(float64(v.done) / float64(total))
			}
			v.state.SetText(lang.L("batch.progress", map[string]any{"Done": v.done, "Rows": total}))
			v.table.Refresh()
		})
		if v.afterRow != nil {
			v.afterRow(r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel, v.busy, v.done = cancel, true, 0
	v.mu.Lock()
	v.status = map[int]string{}
	v.mu.Unlock()
	v.start.Disable()
	v.mail.Disable()
	v.choose.Disable()
	v.cancelBt.Show()
	v.cancelBt.Enable()
	v.progress.SetValue(0)
	v.progress.Show()
	v.report.SetText("")
	v.openRep.Hide()
	v.state.SetText(lang.L("batch.working"))
	v.table.Refresh()
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		sum, err := app.RunBatch(ctx, f.Manifest, opts)
		v.u.shipInBackground(opts.Log, cfg)
		fyne.Do(func() { v.finish(sum, err, s.Demo) })
	}()
}

// finish shows how the run ended and where its report is; demo: its SMS
// provider only showed the texts.
func (v *batchView) finish(sum *batch.Summary, err error, demo bool) {
	v.busy = false
	v.cancel = nil
	v.cancelBt.Hide()
	v.progress.Hide()
	v.mail.Enable()
	v.choose.Enable()
	v.last, v.lastErr = sum, err
	if sum != nil {
		// Rows never started have no OnRow: the summary lists them.
		v.mu.Lock()
		for _, r := range sum.Rows {
			if _, ok := v.status[r.Row]; !ok {
				v.status[r.Row] = rowResultText(r)
			}
		}
		v.mu.Unlock()
		v.report.SetText(lang.L("batch.report", map[string]any{"Path": filepath.Join(sum.OutDir, "report.csv")}))
		v.openRep.Show()
	}
	// The folder now holds this run's state: the form says "resumes"
	// when rows are left.
	v.mu.Lock()
	if sum != nil {
		v.form.Rejudge(demo)
	} else {
		v.form.Resumes, v.form.Finished, v.form.Demo = false, false, demo
	}
	v.mu.Unlock()
	v.update()
	switch {
	case sum == nil:
		v.state.SetText("")
		v.showError(err)
	case sum.Interrupted:
		v.state.SetText(lang.L("batch.cancelled", map[string]any{"Done": sum.Done + sum.AlreadyDone, "Rows": len(sum.Rows)}))
	default:
		msg := lang.L("batch.done", map[string]any{"Done": sum.Done, "Already": sum.AlreadyDone, "Failed": sum.Failed})
		if sum.Demo > 0 {
			msg += " " + lang.L("batch.done.demo", map[string]any{"Count": sum.Demo})
		}
		if err != nil && sum.Failed > 0 {
			msg += " " + lang.L("batch.done.failed")
		}
		v.state.SetText(msg)
	}
	v.fitRows()
	v.table.Refresh()
}

// Cancel stops the run as Ctrl-C stops `kuvert batch`: rows in flight
// finish, no new row starts; starting again continues.
func (v *batchView) Cancel() {
	if v.cancel != nil {
		v.cancel()
		v.cancelBt.Disable()
		v.state.SetText(lang.L("batch.cancelling"))
	}
}

// relay is where --mail send goes, resolved as the CLI does (package
// settings): KUVERT_SMTP_URL, its password from KUVERT_SMTP_PASSWORD or
// the OS keyring, the sender from KUVERT_MAIL_FROM or mail_from.
func (v *batchView) relay(cfg *config.Config) batch.MailEnv {
	s, err := v.u.settingsFor(cfg)
	if err != nil {
		return batch.MailEnv{}
	}
	return batch.MailEnvFrom(s)
}

func (v *batchView) showError(err error) {
	msg := friendly(err)
	var se *batch.SetupError
	if errors.As(err, &se) && se.Hint != "" {
		msg += "\n" + se.Hint
	}
	dialog.ShowError(errors.New(msg), v.u.win)
	v.state.SetText(msg)
}

// rowResultText is a row's result in the window's language, a failure's
// reason too where batch gave it a code.
func rowResultText(r batch.RowResult) string {
	key := map[string]string{
		batch.ResultSent: "batch.result.sent", batch.ResultResumed: "batch.result.resumed", batch.ResultSealed: "batch.result.sealed",
		batch.ResultDone: "batch.result.done", batch.ResultSkipped: "batch.result.skipped", batch.ResultFailed: "batch.result.failed",
		batch.ResultPending: "batch.result.pending", batch.ResultDemo: "batch.result.demo",
	}[r.Result]
	if key == "" {
		return r.Result
	}
	s := lang.L(key)
	if r.Mail != "" {
		state := r.Mail
		if k := "batch.mailstate." + r.Mail; lang.L(k) != k {
			state = lang.L(k)
		}
		s += " · " + lang.L("batch.result.mail", map[string]any{"State": state})
	}
	switch {
	case r.Err != nil:
		s += ": " + describe(r.Err)
	case r.Error != "":
		s += ": " + r.Error
	}
	return s
}

// problemsSummary says how many problems a list has and how many of its
// rows are valid, each in its singular or plural.
func problemsSummary(problems, valid int) string {
	return plural("batch.problems", problems, map[string]any{"Count": problems}) + " " +
		plural("batch.valid", valid, map[string]any{"Rows": valid}) + " " + lang.L("batch.problems.fix")
}

// batchColumnWidths are the table's columns: row, name, file, number,
// problem or result.
var batchColumnWidths = []float32{50, 150, 200, 130, 420}

// fitRows makes each row as tall as its problem or result needs when
// wrapped in its column, so no text is cut off.
func (v *batchView) fitRows() {
	v.mu.Lock()
	n := len(v.lines)
	v.mu.Unlock()
	one := widget.NewLabel("x").MinSize().Height
	for i := 0; i < n; i++ {
		h := wrappedHeight(v.cell(i, batchColumns-1), batchColumnWidths[batchColumns-1])
		v.table.SetRowHeight(i, max(one, h))
	}
}

// wrappedHeight is the height a word-wrapped label of the given width
// needs for text.
func wrappedHeight(text string, width float32) float32 {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Resize(fyne.NewSize(width, 1))
	return l.MinSize().Height
}
