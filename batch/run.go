package batch

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/internal/excelcsv"
	"github.com/kuvert-app/kuvert/sms"
)

// Options for [Run].
type Options struct {
	OutDir      string // default: beside the manifest, in a dated folder
	Jobs        int    // parallel rows; default: number of cores
	DryRun      bool
	NoSMS       bool   // only with PasswordOut
	PasswordOut string // 0600 CSV of passwords for another route
	SMSRate     float64
	Sender      sms.Sender
	Template    string
	From        string
	Log         *auditlog.Log
	Operator    string
	// OnRow is called (from one goroutine at a time) as each row ends.
	OnRow func(RowResult)
}

// Result values of a row.
const (
	ResultSent    = "sent"
	ResultSealed  = "sealed"  // --no-sms, or an age recipient
	ResultDone    = "skipped" // done in an earlier run
	ResultFailed  = "failed"
	ResultDryRun  = "dry-run"
	ResultPending = "not started"
)

// RowResult is one row's outcome; it never holds a password.
type RowResult struct {
	Row       int    `json:"row"`
	Name      string `json:"name,omitempty"`
	To        string `json:"to,omitempty"` // masked
	Archive   string `json:"archive,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	SMSID     string `json:"sms_id,omitempty"`
	SMSStatus string `json:"sms_status,omitempty"`
	Result    string `json:"result"`
	Error     string `json:"error,omitempty"`
}

// Summary is a whole run.
type Summary struct {
	BatchID     string      `json:"batch"`
	OutDir      string      `json:"out_dir"`
	Rows        []RowResult `json:"rows"`
	Done        int         `json:"done"`
	Skipped     int         `json:"skipped"`
	Failed      int         `json:"failed"`
	Interrupted bool        `json:"interrupted,omitempty"`
}

// ErrRowsFailed: some rows' SMS could not be sent (exit code 5).
var ErrRowsFailed = errors.New("some rows failed")

// OutDir returns where a manifest's archives go by default: a dated folder
// beside it, or the folder of an earlier run of the same manifest.
func OutDir(m *Manifest) string {
	dir := filepath.Dir(m.Path)
	stem := strings.TrimSuffix(filepath.Base(m.Path), filepath.Ext(m.Path))
	if prev, _ := filepath.Glob(filepath.Join(dir, stem+"-*", "state.json")); prev != nil {
		for _, p := range prev {
			var st state
			if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &st) == nil && st.BatchID == m.ID {
				return filepath.Dir(p)
			}
		}
	}
	return filepath.Join(dir, stem+"-"+time.Now().Format("2006-01-02"))
}

type state struct {
	BatchID  string      `json:"batch"`
	Manifest string      `json:"manifest"`
	Updated  string      `json:"updated"`
	Rows     []RowResult `json:"rows"`
}

// history is what the log says about this batch's rows.
type history struct {
	sealed map[int]*auditlog.Entry // latest seal entry per row
	sent   map[int]*auditlog.Entry // sms entry after it
	failed map[int]bool            // seal-failed after it
}

func readHistory(l *auditlog.Log, batchID string) (*history, error) {
	es, err := l.Entries()
	if err != nil {
		return nil, err
	}
	h := &history{sealed: map[int]*auditlog.Entry{}, sent: map[int]*auditlog.Entry{}, failed: map[int]bool{}}
	for i := range es {
		e := &es[i]
		if e.Batch != batchID || e.Row == 0 {
			continue
		}
		switch e.Action {
		case auditlog.ActionSeal:
			h.sealed[e.Row] = e
			delete(h.sent, e.Row)
			delete(h.failed, e.Row)
		case auditlog.ActionSMS:
			if e.Delivery != nil && e.Delivery.Status != "failed" {
				h.sent[e.Row] = e
			}
		case auditlog.ActionSealFailed:
			h.failed[e.Row] = true
		}
	}
	return h, nil
}

// limiter spaces SMS sends at a steady rate, shared by all workers.
type limiter struct {
	mu   sync.Mutex
	next time.Time
	gap  time.Duration
}

func (l *limiter) wait(ctx context.Context) {
	if l.gap <= 0 {
		return
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.gap)
	l.mu.Unlock()
	select {
	case <-time.After(time.Until(at)):
	case <-ctx.Done():
	}
}

// Run seals every row. Rows already sealed and delivered in an earlier run
// of the same manifest (by the log, and the archive still there) are
// skipped; a row interrupted between sealing and its SMS is checked with
// the provider before anything is sent again. When ctx is cancelled
// (Ctrl-C) no new row starts; rows in flight finish.
func Run(ctx context.Context, m *Manifest, o Options) (*Summary, error) {
	if o.Log == nil {
		return nil, errors.New("no compliance log")
	}
	if o.NoSMS != (o.PasswordOut != "") {
		return nil, fmt.Errorf("%w: --no-sms needs --password-out FILE, and --password-out only goes with --no-sms", crypt.ErrInput)
	}
	if !o.NoSMS && o.Sender == nil {
		return nil, errors.New("no SMS provider")
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.OutDir == "" {
		o.OutDir = OutDir(m)
	}
	sum := &Summary{BatchID: m.ID, OutDir: o.OutDir, Rows: make([]RowResult, len(m.Rows))}
	if o.DryRun {
		for i, r := range m.Rows {
			sum.Rows[i] = RowResult{Row: r.Num, Name: r.Name, To: maskTo(r.Phone), Archive: filepath.Join(o.OutDir, r.Output), Result: ResultDryRun}
			if o.OnRow != nil {
				o.OnRow(sum.Rows[i])
			}
		}
		return sum, nil
	}
	if err := os.MkdirAll(o.OutDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %v", o.OutDir, err)
	}
	hist, err := readHistory(o.Log, m.ID)
	if err != nil {
		return nil, err
	}
	var pwOut *passwordFile
	if o.NoSMS {
		if pwOut, err = openPasswordFile(o.PasswordOut); err != nil {
			return nil, err
		}
		defer pwOut.close()
	}
	lim := &limiter{}
	if o.SMSRate > 0 {
		lim.gap = time.Duration(float64(time.Second) / o.SMSRate)
	}

	work := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	started := make([]bool, len(m.Rows))
	// Rows in flight finish even after Ctrl-C: their work runs on a
	// context that is not cancelled, with the providers' own timeouts.
	rowCtx := context.WithoutCancel(ctx)
	for w := 0; w < o.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				res := runRow(rowCtx, m, m.Rows[i], o, hist, lim, pwOut)
				mu.Lock()
				sum.Rows[i] = res
				if o.OnRow != nil {
					o.OnRow(res)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range m.Rows {
		select {
		case work <- i:
			started[i] = true
		case <-ctx.Done():
			sum.Interrupted = true
			break feed
		}
	}
	close(work)
	wg.Wait()
	for i, r := range m.Rows {
		if !started[i] {
			sum.Rows[i] = RowResult{Row: r.Num, Name: r.Name, To: maskTo(r.Phone), Result: ResultPending}
		}
		switch sum.Rows[i].Result {
		case ResultSent, ResultSealed:
			sum.Done++
		case ResultDone:
			sum.Skipped++
		case ResultFailed:
			sum.Failed++
		}
	}
	if err := writeState(o.OutDir, m, sum); err != nil {
		return sum, err
	}
	if err := writeReport(filepath.Join(o.OutDir, "report.csv"), sum); err != nil {
		return sum, err
	}
	if sum.Failed > 0 {
		return sum, fmt.Errorf("%w: %d of %d rows failed (see %s)", ErrRowsFailed, sum.Failed, len(m.Rows), filepath.Join(o.OutDir, "report.csv"))
	}
	return sum, nil
}

func maskTo(e164 string) string {
	if e164 == "" {
		return ""
	}
	return sms.MaskNumber(e164)
}

// runRow does one row: skip it if an earlier run finished it, settle an
// interrupted one, else seal → log → SMS → log.
func runRow(ctx context.Context, m *Manifest, r Row, o Options, h *history, lim *limiter, pwOut *passwordFile) RowResult {
	res := RowResult{Row: r.Num, Name: r.Name, To: maskTo(r.Phone)}
	archive := filepath.Join(o.OutDir, r.Output)
	res.Archive = archive
	fail := func(err error) RowResult {
		res.Result, res.Error = ResultFailed, err.Error()
		return res
	}
	smsRow := !o.NoSMS && r.Recipient == ""

	if prev := h.sealed[r.Num]; prev != nil && !h.failed[r.Num] {
		done := h.sent[r.Num] != nil || !smsRow && (r.Recipient != "" || pwOut.has(r.Num))
		if !done && smsRow && prev.Delivery != nil {
			// Sealed, but no SMS on record: did it go out before the
			// interruption? Ask the provider before sending another.
			if f, ok := o.Sender.(sms.Finder); ok {
				rc, found, err := f.FindRef(ctx, r.Phone, prev.Delivery.Ref)
				if err != nil {
					return fail(fmt.Errorf("interrupted in an earlier run, and whether its SMS went out cannot be checked (%v); not resent", err))
				}
				if found {
					o.Log.Append(auditlog.Entry{Action: auditlog.ActionSMS, Refers: prev.ID, Batch: m.ID, Row: r.Num, Case: r.Case, Details: "found at the provider after an interruption",
						Delivery: &auditlog.Delivery{Provider: rc.Provider, To: prev.Delivery.To, Ref: prev.Delivery.Ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}})
					done = true
				}
			}
		}
		if done {
			if st, err := os.Stat(archive); err != nil || prev.Archive == nil || st.Size() != prev.Archive.Size {
				return fail(errors.New("done in an earlier run, but the archive is missing or changed; not resent (the recipient has its password)"))
			}
			res.Result, res.SHA256 = ResultDone, prev.Archive.SHA256
			if s := h.sent[r.Num]; s != nil && s.Delivery != nil {
				res.SMSID, res.SMSStatus = s.Delivery.MessageID, string(s.Delivery.Status)
			}
			return res
		}
		// Interrupted before its password reached anyone: start over.
		os.Remove(archive)
		o.Log.Append(auditlog.Entry{Action: auditlog.ActionSealFailed, Refers: prev.ID, Batch: m.ID, Row: r.Num, Details: "interrupted before the password was delivered; sealed again"})
	}

	ins, _, err := crypt.CollectInputs(r.Files)
	if err != nil {
		return fail(err)
	}
	req := envelope.Request{
		Seal:     crypt.SealOptions{Inputs: ins, Output: archive, Format: r.Format, Force: true},
		Case:     r.Case,
		Operator: o.Operator,
		Batch:    m.ID,
		Row:      r.Num,
	}
	if r.Recipient != "" {
		rc, err := crypt.ParseRecipient(r.Recipient)
		if err != nil {
			return fail(err)
		}
		req.Seal.Recipients = []age.Recipient{rc}
	} else {
		pw, err := crypt.Generate(crypt.GenOptions{})
		if err != nil {
			return fail(err)
		}
		req.Seal.Password = pw
		if smsRow {
			req.SMS = &envelope.SMS{Policy: &sms.Policy{Sender: &limitedSender{o.Sender, lim}, Template: o.Template, Organisation: o.From}, To: r.Phone}
		}
	}
	out, err := envelope.Seal(ctx, o.Log, req)
	if r.Format == crypt.FormatAge && r.Recipient == "" {
		debug.FreeOSMemory() // scrypt's 256 MiB must not linger per row
	}
	if err != nil {
		return fail(err)
	}
	res.SHA256 = out.SHA256
	if out.Delivery != nil {
		res.Result, res.SMSID, res.SMSStatus = ResultSent, out.Delivery.ID, string(out.Delivery.Status)
		return res
	}
	if pwOut != nil {
		if err := pwOut.add(r, archive, req.Seal.Password.Value); err != nil {
			os.Remove(archive)
			return fail(err)
		}
	}
	res.Result = ResultSealed
	return res
}

// limitedSender waits for the shared rate before each send.
type limitedSender struct {
	sms.Sender
	lim *limiter
}

// Unwrap lets sms.IsDemo and sms.RateLimit see the provider.
func (l *limitedSender) Unwrap() sms.Sender { return l.Sender }

func (l *limitedSender) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	l.lim.wait(ctx)
	return l.Sender.Send(ctx, m)
}

func writeState(dir string, m *Manifest, sum *Summary) error {
	b, _ := json.MarshalIndent(state{BatchID: m.ID, Manifest: m.Path, Updated: time.Now().Format(time.RFC3339), Rows: sum.Rows}, "", "  ")
	return atomicfile.WriteFile(filepath.Join(dir, "state.json"), b, 0o600)
}

// writeReport writes report.csv the way Swedish Excel opens it: UTF-8
// with BOM, semicolons, CRLF. Never a password.
func writeReport(path string, sum *Summary) error {
	rows := append([]RowResult(nil), sum.Rows...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Row < rows[j].Row })
	return atomicfile.Write(path, 0o600, func(f *os.File) error {
		w := excelcsv.New(f)
		w.Write("rad", "namn", "mobil", "arkiv", "sha256", "sms_id", "sms_status", "resultat", "fel")
		for _, r := range rows {
			w.Write(strconv.Itoa(r.Row), r.Name, r.To, filepath.Base(r.Archive), r.SHA256, r.SMSID, r.SMSStatus, r.Result, r.Error)
		}
		return w.Flush()
	})
}

// passwordFile is the --password-out CSV (mode 0600), appended and synced
// row by row so that a password is never lost once its archive exists.
type passwordFile struct {
	mu   sync.Mutex
	f    *os.File
	rows map[int]bool
}

func openPasswordFile(path string) (*passwordFile, error) {
	p := &passwordFile{rows: map[int]bool{}}
	if b, err := os.ReadFile(path); err == nil {
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF")))
		r.Comma = ';'
		r.FieldsPerRecord = -1
		recs, _ := r.ReadAll()
		for _, rec := range recs {
			if n, err := strconv.Atoi(rec[0]); err == nil {
				p.rows[n] = true
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot write the password file %s: %v", path, err)
	}
	if st, _ := f.Stat(); st.Size() == 0 {
		f.WriteString("\uFEFFrad;namn;arkiv;lösenord\r\n")
	}
	p.f = f
	return p, nil
}

func (p *passwordFile) has(row int) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rows[row]
}

func (p *passwordFile) add(r Row, archive, pw string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = ';', true
	w.Write([]string{strconv.Itoa(r.Num), excelcsv.Safe(r.Name), filepath.Base(archive), pw})
	w.Flush()
	if _, err := p.f.WriteString(b.String()); err != nil {
		return err
	}
	p.rows[r.Num] = true
	return p.f.Sync()
}

func (p *passwordFile) close() { p.f.Close() }
