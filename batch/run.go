package batch

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	Jobs        int    // parallel rows; default: [DefaultJobs]
	DryRun      bool
	NoSMS       bool   // only with PasswordOut
	PasswordOut string // 0600 CSV of passwords for another route
	SMSRate     float64
	Sender      sms.Sender
	Template    string
	From        string
	Log         *auditlog.Log
	Operator    string
	// Mail is the e-mail step for rows with an address: MailNone (or
	// ""), MailDraft or MailSend (through Mailer, from MailFrom).
	Mail      string
	Mailer    Mailer
	MailFrom  string
	Lang      string // of the mail: sv (default) or en
	OpenerURL string // the recipient page, explained in the mail
	// OnRow is called (from one goroutine at a time) as each row ends.
	OnRow func(RowResult)
}

// Result values of a row.
const (
	ResultSent    = "sent"
	ResultResumed = "resumed"      // an interrupted row finished now (e.g. its SMS after its mail)
	ResultSealed  = "sealed"       // --no-sms, or an age recipient
	ResultDone    = "already-done" // sealed and delivered in an earlier run
	ResultSkipped = "skipped"      // an invalid row left out with --skip-invalid; Error says why
	ResultFailed  = "failed"
	ResultDryRun  = "dry-run"
	ResultPending = "not started"
	ResultDemo    = "demo-not-sent" // sealed; the demo provider only showed the SMS
)

// RowResult is one row's outcome; it never holds a password.
type RowResult struct {
	Row       int      `json:"row"`
	Name      string   `json:"name,omitempty"`
	To        string   `json:"to,omitempty"` // masked
	Archive   string   `json:"archive,omitempty"`
	Inputs    []string `json:"inputs,omitempty"` // --dry-run: the files it would seal, relative to the manifest
	SHA256    string   `json:"sha256,omitempty"`
	SMSID     string   `json:"sms_id,omitempty"`
	SMSStatus string   `json:"sms_status,omitempty"`
	Ref       string   `json:"ref,omitempty"`   // the reference in the SMS and the mail
	Email     string   `json:"email,omitempty"` // masked
	Mail      string   `json:"mail,omitempty"`  // draft, sent, or failed
	Note      string   `json:"note,omitempty"`  // why a row was sealed anew
	Result    string   `json:"result"`
	Error     string   `json:"error,omitempty"`
}

// Summary is a whole run.
type Summary struct {
	BatchID     string      `json:"batch"`
	OutDir      string      `json:"out_dir"`
	Rows        []RowResult `json:"rows"`
	Done        int         `json:"done"`         // sealed and delivered now
	AlreadyDone int         `json:"already_done"` // delivered in an earlier run
	Skipped     int         `json:"skipped"`      // invalid rows left out (--skip-invalid)
	Failed      int         `json:"failed"`
	Demo        int         `json:"demo,omitempty"` // sealed, SMS only shown (demo provider)
	Interrupted bool        `json:"interrupted,omitempty"`
}

// ErrRowsFailed: no row was delivered and at least one failed (exit
// code 5).
var ErrRowsFailed = errors.New("no row was delivered")

// ErrPartial: some rows were delivered, others failed, were skipped as
// invalid or only shown by the demo provider (exit code 8). A run is
// "delivered" only when every row of the manifest is.
var ErrPartial = errors.New("not every row was delivered")

// Delivered reports whether the run delivered every row of the manifest:
// nothing failed, skipped, left pending or only shown by the demo
// provider.
func (s *Summary) Delivered() bool {
	return s.Failed == 0 && s.Skipped == 0 && s.Demo == 0 && !s.Interrupted && s.Done+s.AlreadyDone == len(s.Rows)
}

// ErrUnsafeOutDir: the output folder is a link, or (on Unix) another
// account owns it or may write to it (exit code 2; nothing is done).
var ErrUnsafeOutDir = errors.New("the output folder is not safe to seal into")

// checkOutFolder refuses an output folder that another account could
// change under the run: a symbolic link (or junction), anything but a
// folder, and on Unix a folder owned by another account or writable by
// group or others. A folder that does not exist yet passes: the run
// makes it itself, mode 0700.
func checkOutFolder(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeOutDir, dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode()&fs.ModeIrregular != 0 {
		return fmt.Errorf("%w: utmappen %s är en länk / the output folder %s is a symbolic link; name the folder itself", ErrUnsafeOutDir, dir, dir)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: utmappen %s är ingen mapp / the output folder %s is not a folder", ErrUnsafeOutDir, dir, dir)
	}
	return checkFolderOwner(dir, fi)
}

// ErrNotOurs: the run would replace a file in the output folder that it
// did not write (exit code 2; nothing is done).
var ErrNotOurs = errors.New("the output folder holds files this batch did not write")

// isLogError reports whether err means the compliance log could not be
// written. Nothing may be sealed or texted without a record, so such an
// error stops the whole run, not only its row.
func isLogError(err error) bool {
	return errors.Is(err, auditlog.ErrUnavailable) || errors.Is(err, auditlog.ErrTampered)
}

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
	return freeOutDir(filepath.Join(dir, stem+"-"+time.Now().Format("2006-01-02")), m.ID)
}

// state is state.json in the output folder: which batch the folder
// belongs to and how its rows ended. While a run is under way it also
// claims the archive names the run may write (Claimed, since ClaimedAt);
// a run that ends normally closes the claim. An open claim is how the
// next attempt knows an archive left by a crash before its log entry as
// its own.
type state struct {
	BatchID   string      `json:"batch"`
	Manifest  string      `json:"manifest"`
	Updated   string      `json:"updated"`
	Rows      []RowResult `json:"rows"`
	Claimed   []string    `json:"claimed,omitempty"`
	ClaimedAt string      `json:"claimed_at,omitempty"` // RFC 3339 with nanoseconds
}

// history is what the log says about this batch's rows.
type history struct {
	sealed map[int]*auditlog.Entry // latest seal entry per row
	sent   map[int]*auditlog.Entry // sms entry after it
	failed map[int]bool            // seal-failed after it
	mail   map[int]string          // the latest mail state after it (mailSent, …)
	// unrecorded: rows whose archive an interrupted attempt left before
	// its log entry (see [checkOutDir]).
	unrecorded map[int]bool
	// changed: rows whose recorded archive is there but differs from
	// the record.
	changed map[int]bool
	// stale: rows whose files changed since they were sealed in this
	// run (see [markStale]): sealed anew.
	stale map[int]bool
	// all: every sealing of a row in this run, oldest first; earlier:
	// rows whose archive in the folder is an earlier sealing's (kept
	// when a new sealing of a changed row failed), replaced only by a
	// new sealing that succeeds.
	all     map[int][]*auditlog.Entry
	earlier map[int]bool
}

func readHistory(l *auditlog.Log, batchID string) (*history, error) {
	es, err := l.Entries()
	if err != nil {
		return nil, err
	}
	h := &history{sealed: map[int]*auditlog.Entry{}, sent: map[int]*auditlog.Entry{}, failed: map[int]bool{}, mail: map[int]string{}, unrecorded: map[int]bool{}, changed: map[int]bool{}, stale: map[int]bool{}, all: map[int][]*auditlog.Entry{}, earlier: map[int]bool{}}
	// The log's own fold says what became of each sealing; the latest
	// sealing of a row is the one that counts.
	for _, s := range auditlog.Sealings(es) {
		e := s.Entry
		if e.Batch != batchID || e.Row == 0 {
			continue
		}
		if s.Removed && e.Refers != "" {
			// A resend (kuvert resend) whose new password reached nobody:
			// its archive is gone, and the row stays what it was — done,
			// if the earlier sealing was delivered.
			continue
		}
		h.sealed[e.Row] = &e
		h.all[e.Row] = append(h.all[e.Row], &e)
		delete(h.sent, e.Row)
		delete(h.failed, e.Row)
		delete(h.mail, e.Row)
		for i := range s.FollowUps {
			f := &s.FollowUps[i]
			if f.Action == auditlog.ActionMail {
				h.mail[e.Row] = mailState(f)
			}
			if f.Action == auditlog.ActionSMS && f.Delivery != nil && !f.Delivery.Status.Failed() {
				h.sent[e.Row] = f
			}
		}
		if s.Removed {
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

// DefaultJobs is how many rows run side by side when the caller does not
// say: a row that mails and texts mostly waits (the relay, the provider,
// the log's fsync, which concurrent rows share through group commit), so
// 16 whatever the cores — measured on 2 cores, 1,000 rows mailed and
// texted: 2 jobs 155 rows/s, 8 jobs 234, 16 jobs 277; peak RSS 56 MB.
// Rows that seal age with a passphrase need scrypt's 256 MiB each, so
// then one per core.
func DefaultJobs(m *Manifest, delivers bool) int {
	n := runtime.NumCPU()
	for _, r := range m.Rows {
		if r.Format == crypt.FormatAge && r.Recipient == "" {
			return n
		}
	}
	if delivers {
		return 16
	}
	return n
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
	switch o.Mail {
	case "", MailNone, MailDraft:
	case MailSend:
		if o.Mailer == nil || o.MailFrom == "" {
			return nil, fmt.Errorf("%w: --mail send needs the mail relay (KUVERT_SMTP_URL) and the sender's address (mail_from or KUVERT_MAIL_FROM)", crypt.ErrInput)
		}
		if !o.NoSMS && sms.IsDemo(o.Sender) {
			// A demo is a demo: real mail whose passwords reach nobody
			// would only confuse its recipients.
			return nil, fmt.Errorf("%w: --mail send with the demo SMS provider would mail archives whose passwords reach nobody; set up an SMS provider (docs/sms.md), or use --mail draft", crypt.ErrInput)
		}
	default:
		return nil, fmt.Errorf("%w: --mail is draft, send or none, not %q", crypt.ErrInput, o.Mail)
	}
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs(m, o.Mail == MailSend || !o.NoSMS)
	}
	if o.OutDir == "" {
		o.OutDir = OutDir(m)
	}
	sum := &Summary{BatchID: m.ID, OutDir: o.OutDir, Rows: make([]RowResult, len(m.Rows))}
	hist, err := readHistory(o.Log, m.ID)
	if err != nil {
		return nil, err
	}
	markStale(m, hist)
	if err := checkPasswordOut(m, o); err != nil {
		return nil, err
	}
	// Also in a dry run: it tells what the real run would refuse.
	if err := checkOutFolder(o.OutDir); err != nil {
		return nil, fmt.Errorf("%w: %w", crypt.ErrInput, err)
	}
	claimedAt, err := checkOutDir(m, o, hist)
	if err != nil {
		return nil, err
	}
	if o.DryRun {
		for i, r := range m.Rows {
			sum.Rows[i] = RowResult{Row: r.Num, Name: r.Name, To: maskTo(r.Phone), Archive: filepath.Join(o.OutDir, r.Output), Inputs: r.Inputs, Result: ResultDryRun}
			if o.mailRow(r) {
				sum.Rows[i].Email, sum.Rows[i].Mail = maskEmail(r.Email), o.Mail
			}
			if o.OnRow != nil {
				o.OnRow(sum.Rows[i])
			}
		}
		return sum, nil
	}
	var pwOut *passwordFile
	if o.NoSMS {
		if inOutDir(o.PasswordOut, o.OutDir) {
			if err := os.MkdirAll(o.OutDir, 0o700); err != nil {
				return nil, fmt.Errorf("cannot create %s: %v", o.OutDir, err)
			}
		}
		if pwOut, err = openPasswordFile(o.PasswordOut); err != nil {
			return nil, err
		}
		defer pwOut.close()
	}
	if err := os.MkdirAll(o.OutDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %v", o.OutDir, err)
	}
	// Again, now that it exists: it may have appeared since the check.
	if err := checkOutFolder(o.OutDir); err != nil {
		return nil, fmt.Errorf("%w: %w", crypt.ErrInput, err)
	}
	// Claim the archive names before anything is sealed (see [state]).
	claim := state{BatchID: m.ID, Manifest: m.Path, Updated: time.Now().Format(time.RFC3339), ClaimedAt: claimedAt.Format(time.RFC3339Nano)}
	for _, r := range m.Rows {
		claim.Claimed = append(claim.Claimed, r.Output)
	}
	if err := writeStateFile(o.OutDir, claim); err != nil {
		return nil, fmt.Errorf("cannot write %s: %v", filepath.Join(o.OutDir, "state.json"), err)
	}
	lim := &limiter{}
	if o.SMSRate > 0 {
		lim.gap = time.Duration(float64(time.Second) / o.SMSRate)
	}

	work := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	started := make([]bool, len(m.Rows))
	// A log that cannot be written stops the run: no further row starts
	// (rows in flight fail at their own log write, before any SMS).
	var logErr error
	logFailed := make(chan struct{})
	// Rows in flight finish even after Ctrl-C: their work runs on a
	// context that is not cancelled, with the providers' own timeouts.
	rowCtx := context.WithoutCancel(ctx)
	for w := 0; w < o.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				mu.Lock()
				stopped := logErr != nil
				if !stopped {
					started[i] = true
				}
				mu.Unlock()
				if stopped {
					continue
				}
				res, fatal := runRow(rowCtx, m, m.Rows[i], o, hist, lim, pwOut)
				mu.Lock()
				if fatal != nil && logErr == nil {
					logErr = fmt.Errorf("row %d: %w", m.Rows[i].Num, fatal)
					close(logFailed)
				}
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
		case <-logFailed:
			break feed
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
		case ResultSent, ResultSealed, ResultResumed:
			sum.Done++
		case ResultDone:
			sum.AlreadyDone++
		case ResultDemo:
			sum.Demo++
		case ResultFailed:
			sum.Failed++
		}
	}
	// Invalid rows left out with --skip-invalid are part of the run's
	// result: in the report and --json, with why.
	for _, r := range skippedRows(m) {
		sum.Rows = append(sum.Rows, r)
		sum.Skipped++
		if o.OnRow != nil {
			o.OnRow(r)
		}
	}
	if err := writeState(o.OutDir, m, sum); err != nil {
		return sum, errors.Join(logErr, err)
	}
	if err := writeReport(filepath.Join(o.OutDir, "report.csv"), sum); err != nil {
		return sum, errors.Join(logErr, err)
	}
	if logErr != nil {
		return sum, fmt.Errorf("the run stopped, because nothing may be sealed or texted without a record (see %s): %w", filepath.Join(o.OutDir, "report.csv"), logErr)
	}
	return sum, outcome(sum, filepath.Join(o.OutDir, "report.csv"))
}

// outcome is the run's honest result: nil only when every row was
// delivered; ErrRowsFailed when rows failed and none was delivered;
// ErrPartial for everything in between, and for a demo run.
func outcome(sum *Summary, report string) error {
	if sum.Interrupted || sum.Delivered() {
		return nil // an interrupted run has its own exit code (the signal's)
	}
	delivered := sum.Done + sum.AlreadyDone
	if sum.Failed > 0 && delivered == 0 && sum.Demo == 0 {
		return fmt.Errorf("%w: %d of %d rows failed (see %s)", ErrRowsFailed, sum.Failed, len(sum.Rows), report)
	}
	var parts []string
	if sum.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", sum.Failed))
	}
	if sum.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped as invalid", sum.Skipped))
	}
	if sum.Demo > 0 {
		parts = append(parts, fmt.Sprintf("%d only shown by the demo provider (DEMO: nothing sent)", sum.Demo))
	}
	return fmt.Errorf("%w: %d of %d rows delivered, %s (see %s)", ErrPartial, delivered, len(sum.Rows), strings.Join(parts, ", "), report)
}

// skippedRows lists the manifest's invalid rows (left out with
// --skip-invalid), one result per row with every problem it has.
func skippedRows(m *Manifest) []RowResult {
	var out []RowResult
	at := map[int]int{}
	for _, p := range m.Problems {
		if p.Row <= 1 { // the header or the file as a whole
			continue
		}
		if i, ok := at[p.Row]; ok {
			out[i].Error += "; " + p.Msg
			continue
		}
		at[p.Row] = len(out)
		out = append(out, RowResult{Row: p.Row, Result: ResultSkipped, Error: p.Msg})
	}
	return out
}

func maskTo(e164 string) string {
	if e164 == "" {
		return ""
	}
	return sms.MaskNumber(e164)
}

// runRow does one row: skip it if an earlier run finished it, settle an
// interrupted one, else seal → log → SMS → log. The second result is set
// when the compliance log could not be written: the row stopped there,
// and so must the run.
func runRow(ctx context.Context, m *Manifest, r Row, o Options, h *history, lim *limiter, pwOut *passwordFile) (RowResult, error) {
	res := RowResult{Row: r.Num, Name: r.Name, To: maskTo(r.Phone)}
	archive := filepath.Join(o.OutDir, r.Output)
	res.Archive = archive
	fail := func(err error) (RowResult, error) {
		res.Result, res.Error = ResultFailed, err.Error()
		if isLogError(err) {
			return res, err
		}
		return res, nil
	}
	smsRow := !o.NoSMS && r.Recipient == ""
	mailRow := o.mailRow(r)
	if r.Email != "" {
		res.Email = maskEmail(r.Email)
	}
	pol := &sms.Policy{Sender: &limitedSender{o.Sender, lim}, Template: o.Template, Organisation: o.From, Lang: o.Lang, OpenerURL: o.OpenerURL}

	var note string
	if prev := h.sealed[r.Num]; prev != nil && !h.failed[r.Num] && h.stale[r.Num] {
		// Its files changed since it was sealed (the next night's
		// payslip): sealed anew, and the new sealing supersedes the old
		// one. The old archive goes only if it is still the one on record.
		if h.changed[r.Num] {
			return fail(fmt.Errorf("its files changed since it was sealed, and its archive %s was changed too; kuvert does not replace it (move it away and run again)", r.Output))
		}
		os.Remove(filepath.Join(o.OutDir, DraftDir, r.Output+".eml"))
		removePending(o, r.Num)
		note = "its files changed since sealing " + prev.ID + "; sealed anew"
		res.Note = "filerna har ändrats; förseglad på nytt / the files changed; sealed anew"
	} else if prev != nil && !h.failed[r.Num] {
		sent := h.sent[r.Num] // h is shared by the workers: read only
		mst := h.mail[r.Num]
		res.Mail = mst
		if prev.Delivery != nil {
			res.Ref = prev.Delivery.Ref
		}
		mailed := mst == mailSent || mst == mailDraft
		done := sent != nil || (!mailRow || mailed) && !smsRow && (r.Recipient != "" || pwOut.has(r.Num))
		if !done && smsRow && prev.Delivery != nil {
			// Sealed, but no SMS on record: did it go out before the
			// interruption? Ask the provider before sending another.
			if f, ok := o.Sender.(sms.Finder); ok {
				rc, found, err := f.FindRef(ctx, r.Phone, prev.Delivery.Ref)
				if err != nil {
					return fail(fmt.Errorf("interrupted in an earlier run, and whether its SMS went out cannot be checked (%v); not resent", err))
				}
				if found {
					e, err := o.Log.Append(auditlog.Entry{Action: auditlog.ActionSMS, Refers: prev.ID, Batch: m.ID, Row: r.Num, Case: r.Case, Details: "hittat hos leverantören efter ett avbrott / found at the provider after an interruption",
						Delivery: &auditlog.Delivery{Provider: rc.Provider, To: prev.Delivery.To, Ref: prev.Delivery.Ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}})
					if err != nil {
						return fail(fmt.Errorf("its SMS (id %s) went out before an interruption, but the compliance log could not record that: %w", rc.ID, err))
					}
					sent, done = e, true
				}
			}
		}
		if !done && mailRow && mst == mailSending {
			// Its password must not linger on disk for a row that will
			// not be finished: the kept copy goes.
			removePending(o, r.Num)
			return fail(errors.New("its e-mail was being handed to the mail relay when an earlier run stopped, and whether it went out is unknown; kuvert sends neither it nor the SMS again, and deleted the password it kept for the SMS (see the relay's log; --new-run seals it anew)"))
		}
		if !done && mailRow && mailed && smsRow && prev.Delivery != nil {
			// Mailed, and the run stopped before the SMS: send just the
			// SMS, with the password kept for it (never a second mail).
			if h.changed[r.Num] {
				return fail(fmt.Errorf("its e-mail went out in an earlier run, but its archive %s was changed since; the SMS is not sent", r.Output))
			}
			pw, err := readPending(o, r.Num)
			if err != nil {
				return fail(errors.New("its e-mail went out in an earlier run, which stopped before the SMS, and the password kept for the SMS is gone; not mailed again"))
			}
			d, err := envelope.SendPassword(ctx, o.Log, pol, envelope.PasswordSMS{To: r.Phone, Password: pw, Ref: prev.Delivery.Ref, Case: r.Case,
				Refers: prev.ID, Batch: m.ID, Row: r.Num, Details: "skickat efter ett avbrott mellan e-post och sms / sent after an interruption between the e-mail and the SMS"})
			res.SHA256 = prev.Archive.SHA256
			if err != nil {
				return fail(err) // the password stays kept: the next run tries again
			}
			removePending(o, r.Num)
			res.Result, res.SMSID, res.SMSStatus = ResultResumed, d.ID, string(d.Status)
			if d.Demo {
				res.Result = ResultDemo
			}
			return res, nil
		}
		if done {
			// The SMS is on record: a password kept for it is not needed
			// any more (found at the provider after its answer was lost,
			// or sent by a resend).
			removePending(o, r.Num)
			if st, err := os.Stat(archive); err != nil || prev.Archive == nil || st.Size() != prev.Archive.Size {
				return fail(errors.New("done in an earlier run, but the archive is missing or changed; not resent (the recipient has its password)"))
			}
			res.Result, res.SHA256 = ResultDone, prev.Archive.SHA256
			if sent != nil && sent.Delivery != nil {
				res.SMSID, res.SMSStatus = sent.Delivery.MessageID, string(sent.Delivery.Status)
				if sent.Delivery.Status == auditlog.StatusDemo {
					res.Result = ResultDemo
				}
			}
			return res, nil
		}
		// Interrupted before its password reached anyone: start over. The
		// log says so first; the archive goes only once that is on record,
		// and only if it is still the one the log knows.
		if h.changed[r.Num] {
			return fail(fmt.Errorf("interrupted in an earlier run, and its archive %s was changed since; kuvert does not replace it (move it away and run again)", r.Output))
		}
		if _, err := o.Log.Append(auditlog.Entry{Action: auditlog.ActionSealFailed, Refers: prev.ID, Batch: m.ID, Row: r.Num, Details: "avbrutet innan lösenordet levererades; krypterat på nytt / interrupted before the password was delivered; sealed again"}); err != nil {
			return fail(fmt.Errorf("interrupted in an earlier run; it cannot be sealed again, because the compliance log cannot be written: %w", err))
		}
		os.Remove(archive)
		if mst == mailDraft || o.Mail == MailDraft {
			// Its draft (written, or left by a crash before the log
			// recorded it) names the old archive and reference.
			os.Remove(filepath.Join(o.OutDir, DraftDir, r.Output+".eml"))
		}
		removePending(o, r.Num)
		res.Mail = ""
	}

	if h.unrecorded[r.Num] {
		// Sealed by an attempt that crashed before logging it: nobody
		// has its password. Record that, then remove it.
		if _, err := o.Log.Append(auditlog.Entry{Action: auditlog.ActionSealFailed, Batch: m.ID, Row: r.Num, Case: r.Case, Archive: &auditlog.FileRef{Name: r.Output},
			Details: "ett arkiv som krypterades före ett avbrott men aldrig loggades togs bort; krypterat på nytt / an archive sealed before an interruption but never recorded was removed; sealed again"}); err != nil {
			return fail(fmt.Errorf("interrupted in an earlier run; it cannot be sealed again, because the compliance log cannot be written: %w", err))
		}
		os.Remove(archive)
	}

	if h.stale[r.Num] || h.earlier[r.Num] {
		// The old archive (delivered earlier) steps aside until the new
		// one exists: should the new sealing fail, it comes back and
		// nothing is lost.
		aside := filepath.Join(o.OutDir, "."+r.Output+".superseded")
		_, asideErr := os.Lstat(aside) // left by a crash while aside
		if _, err := os.Lstat(archive); err == nil || asideErr == nil {
			if err == nil {
				if err := os.Rename(archive, aside); err != nil {
					return fail(fmt.Errorf("its old archive cannot be moved aside for the new one: %v", err))
				}
			}
			defer func() {
				if _, err := os.Lstat(archive); os.IsNotExist(err) {
					os.Rename(aside, archive)
				} else {
					os.Remove(aside)
				}
			}()
		}
		if note == "" {
			note = "replaces the archive of an earlier sealing of this row"
			res.Note = "ersätter ett tidigare arkiv för raden / replaces an earlier archive of this row"
		}
	}
	// The folder may be shared: its files are checked again as the
	// manifest's were, just before they are read.
	if err := m.Recheck(r); err != nil {
		return fail(err)
	}
	ins, _, err := crypt.CollectInputs(r.Files)
	if err != nil {
		return fail(err)
	}
	// Never Force: a file that appeared under this name since the run
	// started is not the run's to replace.
	req := envelope.Request{
		Seal:     crypt.SealOptions{Inputs: ins, Output: archive, Format: r.Format},
		Case:     r.Case,
		Note:     note,
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
			req.SMS = &envelope.SMS{Policy: pol, To: r.Phone}
		}
	}
	if mailRow {
		// seal → log → mail → SMS: the hook runs before the SMS.
		req.Deliver = func(ctx context.Context, sealed *envelope.Result, ref string) error {
			res.Ref = ref
			if smsRow {
				if err := writePending(o, r.Num, req.Seal.Password.Value); err != nil {
					return fmt.Errorf("the password could not be kept for the SMS step (%v); nothing was mailed", err)
				}
			}
			if err := mailStep(ctx, m, r, o, sealed, ref, &res); err != nil {
				if smsRow {
					removePending(o, r.Num)
				}
				return err
			}
			if testHookAfterMail != nil {
				testHookAfterMail(r.Num)
			}
			return nil
		}
	}
	out, err := envelope.Seal(ctx, o.Log, req)
	if r.Format == crypt.FormatAge && r.Recipient == "" {
		debug.FreeOSMemory() // scrypt's 256 MiB must not linger per row
	}
	if se := (*envelope.SMSError)(nil); err != nil && mailRow && errors.As(err, &se) {
		return fail(fmt.Errorf("its e-mail went out, but the SMS failed (%v); run again to send the SMS (the e-mail is not sent again)", se.Err))
	}
	if err != nil {
		return fail(err)
	}
	res.SHA256 = out.SHA256
	if mailRow && smsRow {
		removePending(o, r.Num)
	}
	if out.Delivery != nil {
		res.Ref = out.Delivery.Ref
		res.Result, res.SMSID, res.SMSStatus = ResultSent, out.Delivery.ID, string(out.Delivery.Status)
		if out.Delivery.Status == sms.StatusDemo {
			res.Result = ResultDemo // shown, not sent: never reported as sent
		}
		return res, nil
	}
	if pwOut != nil {
		if err := pwOut.add(r, archive, req.Seal.Password.Value); err != nil {
			// Its password reached nobody: record that, then remove it.
			if _, lerr := o.Log.Append(auditlog.Entry{Action: auditlog.ActionSealFailed, Refers: out.Entry.ID, Batch: m.ID, Row: r.Num, Case: r.Case,
				Details: "lösenordet kunde inte skrivas till lösenordsfilen; arkivet togs bort / the password could not be written to the password file; the archive was removed"}); lerr != nil {
				return fail(fmt.Errorf("the password could not be written to the password file (%v), and the compliance log cannot record that: %w", err, lerr))
			}
			os.Remove(archive)
			return fail(fmt.Errorf("the password could not be written to the password file, so the archive was removed: %v", err))
		}
	}
	res.Result = ResultSealed
	return res, nil
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

// writeState records how the rows ended and closes the run's claim.
func writeState(dir string, m *Manifest, sum *Summary) error {
	return writeStateFile(dir, state{BatchID: m.ID, Manifest: m.Path, Updated: time.Now().Format(time.RFC3339), Rows: sum.Rows})
}

func writeStateFile(dir string, st state) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	return atomicfile.WriteFile(filepath.Join(dir, "state.json"), b, 0o600)
}

// readState reads the output folder's state.json; nil if there is none.
func readState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil || st.BatchID == "" {
		return nil, errors.New("not a kuvert batch state file")
	}
	return &st, nil
}

// checkOutDir makes sure the run replaces no file it did not write (issue
// 13, item 7): the folder is new or belongs to this batch, and every
// archive name is free or holds this batch's own archive, known from the
// log (the recorded size and SHA-256 match) or, for one a crash left
// before its log entry, from an open claim in state.json older than the
// file. Every problem is listed at once and nothing is done. It returns
// the time the run's claim starts (an open claim keeps its start) and
// marks the unrecorded archives in h.
func checkOutDir(m *Manifest, o Options, h *history) (time.Time, error) {
	// File times come from a coarser clock (and FAT keeps 2 s), so the
	// claim starts a little before now: a file written by this run is
	// never older than its claim.
	now := time.Now().Add(-claimMargin)
	st, err := readState(o.OutDir)
	if err != nil {
		return now, fmt.Errorf("%w: %w: %s: %v; choose another --out-dir", crypt.ErrInput, ErrNotOurs, filepath.Join(o.OutDir, "state.json"), err)
	}
	if st != nil && st.BatchID != m.ID {
		return now, fmt.Errorf("%w: %w: %s belongs to another batch (%s); choose another --out-dir", crypt.ErrInput, ErrNotOurs, o.OutDir, st.BatchID)
	}
	if st == nil {
		for _, own := range []string{"report.csv"} {
			if _, err := os.Lstat(filepath.Join(o.OutDir, own)); err == nil {
				return now, fmt.Errorf("%w: %w: %s exists and was not written by this batch; choose another --out-dir", crypt.ErrInput, ErrNotOurs, filepath.Join(o.OutDir, own))
			}
		}
	}
	var openSince time.Time
	claimed := map[string]bool{}
	if st != nil && len(st.Claimed) > 0 {
		if t, err := time.Parse(time.RFC3339Nano, st.ClaimedAt); err == nil {
			openSince = t
			for _, n := range st.Claimed {
				claimed[strings.ToLower(n)] = true
			}
		}
	}
	var probs []string
	for _, r := range m.Rows {
		p := filepath.Join(o.OutDir, r.Output)
		fi, err := os.Lstat(p)
		if os.IsNotExist(err) {
			continue
		}
		switch prev := h.sealed[r.Num]; {
		case err != nil || !fi.Mode().IsRegular():
		case prev != nil && !h.failed[r.Num]:
			// Sealed by this batch, on record. If the file changed since,
			// its row fails rather than replace it (see runRow).
			h.changed[r.Num] = prev.Archive == nil || !sameFile(p, fi, prev.Archive)
			continue
		case earlierSealing(h, r.Num, p, fi):
			h.earlier[r.Num] = true
			continue // an earlier sealing of this row, on record
		case claimed[strings.ToLower(r.Output)] && !fi.ModTime().Before(openSince):
			h.unrecorded[r.Num] = true
			continue // sealed by an interrupted attempt, not yet on record
		}
		probs = append(probs, fmt.Sprintf("row %d: %s", r.Num, r.Output))
	}
	if len(probs) > 0 {
		return now, fmt.Errorf("%w: %w: %s already holds %d %s this batch did not write, and kuvert replaces nothing it did not write (%s); nothing was sealed or sent",
			crypt.ErrInput, ErrNotOurs, o.OutDir, len(probs), plural(len(probs), "file", "files"), strings.Join(probs, ", "))
	}
	if !openSince.IsZero() {
		return openSince, nil
	}
	return now, nil
}

const claimMargin = 2 * time.Second

// earlierSealing reports whether the file at p is the archive of one of
// the row's sealings in this run.
func earlierSealing(h *history, row int, p string, fi os.FileInfo) bool {
	for _, e := range h.all[row] {
		if e.Archive != nil && e.Archive.SHA256 != "" && sameFile(p, fi, e.Archive) {
			return true
		}
	}
	return false
}

// sameFile reports whether the file at p is the archive the log recorded.
func sameFile(p string, fi os.FileInfo, ref *auditlog.FileRef) bool {
	if fi.Size() != ref.Size {
		return false
	}
	if ref.SHA256 == "" {
		return true
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	hw := sha256.New()
	if _, err := io.Copy(hw, f); err != nil {
		return false
	}
	return hex.EncodeToString(hw.Sum(nil)) == ref.SHA256
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// inOutDir reports whether the file path lies directly in the folder dir.
func inOutDir(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	return err1 == nil && err2 == nil && filepath.Dir(p) == d
}

// checkPasswordOut refuses a password file that would take the place of
// a file the run reads or writes.
func checkPasswordOut(m *Manifest, o Options) error {
	if o.PasswordOut == "" {
		return nil
	}
	pw, err1 := filepath.Abs(o.PasswordOut)
	out, err2 := filepath.Abs(o.OutDir)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if man, err := filepath.Abs(m.Path); err == nil && man == pw {
		return fmt.Errorf("%w: the password file %s is the manifest; choose another name", crypt.ErrInput, o.PasswordOut)
	}
	for _, r := range m.Rows {
		for _, f := range r.Files {
			if f, err := filepath.Abs(f); err == nil && f == pw {
				return fmt.Errorf("%w: the password file %s is row %d's input; choose another name", crypt.ErrInput, o.PasswordOut, r.Num)
			}
		}
	}
	if filepath.Dir(pw) != out {
		return nil
	}
	name := filepath.Base(pw)
	if OwnFile(name) {
		return fmt.Errorf("%w: the password file %s would take the name of the run's own file in %s; choose another name or folder", crypt.ErrInput, o.PasswordOut, o.OutDir)
	}
	for _, r := range m.Rows {
		if strings.EqualFold(r.Output, name) {
			return fmt.Errorf("%w: the password file %s would take row %d's archive name; choose another name or folder", crypt.ErrInput, o.PasswordOut, r.Num)
		}
	}
	return nil
}

// writeReport writes report.csv the way Swedish Excel opens it: UTF-8
// with BOM, semicolons, CRLF. Never a password.
func writeReport(path string, sum *Summary) error {
	rows := append([]RowResult(nil), sum.Rows...)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Row < rows[j].Row })
	return atomicfile.Write(path, 0o600, func(f *os.File) error {
		w := excelcsv.New(f)
		w.Write("rad", "namn", "mobil", "arkiv", "sha256", "sms_id", "sms_status", "resultat", "fel", "epost", "ref", "epost_status", "notering")
		for _, r := range rows {
			archive := ""
			if r.Archive != "" {
				archive = filepath.Base(r.Archive)
			}
			w.Write(strconv.Itoa(r.Row), r.Name, r.To, archive, r.SHA256, r.SMSID, r.SMSStatus, r.Result, r.Error, r.Email, r.Ref, r.Mail, r.Note)
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

// passwordHeader is the password file's first line, as the one Excel CSV
// writer writes it (with the BOM).
var passwordHeader = func() string {
	var b strings.Builder
	w := excelcsv.New(&b)
	w.Write("rad", "namn", "arkiv", "lösenord")
	w.Flush()
	return b.String()
}()

// openPasswordFile opens the --password-out file for appending. A new file
// is created with mode 0600. An existing one (an earlier attempt of the
// run) must be a kuvert password file that only its owner can read: a
// file with wider permissions, or anything else, is refused untouched
// rather than filled with passwords (issue 13, item 12).
func openPasswordFile(path string) (*passwordFile, error) {
	p := &passwordFile{rows: map[int]bool{}}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if _, err = f.WriteString(passwordHeader); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err)
		}
		p.f = f
		return p, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: lösenordsfilen %s är ingen vanlig fil / the password file %s is not a regular file (a link, a folder or a device); name a new file", crypt.ErrInput, path, path)
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err)
	}
	refuse := func(err error) (*passwordFile, error) {
		f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return refuse(fmt.Errorf("%w: lösenordsfilen %s är ingen vanlig fil / the password file %s is not a regular file; name a new file", crypt.ErrInput, path, path))
	}
	// Windows has no such mode bits; there the folder's ACL decides.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return refuse(fmt.Errorf("%w: lösenordsfilen %s kan läsas av andra (%v) / the password file %s is readable by others (%v); kuvert writes passwords only into a file only you can read: run chmod 600 on it, or name a new file", crypt.ErrInput, path, fi.Mode().Perm(), path, fi.Mode().Perm()))
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return refuse(fmt.Errorf("kan inte läsa lösenordsfilen / cannot read the password file %s: %v", path, err))
	}
	switch {
	case len(b) == 0:
		if _, err := f.WriteString(passwordHeader); err != nil {
			return refuse(fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err))
		}
	case !strings.HasPrefix(string(b), passwordHeader):
		return refuse(fmt.Errorf("%w: %s är ingen lösenordsfil från kuvert / %s is not a kuvert password file, and kuvert adds passwords to nothing else; name a new file", crypt.ErrInput, path, path))
	default:
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
	if excelcsv.Safe(pw) != pw {
		// Generated passwords never start like a formula; an apostrophe
		// in front would make this one wrong.
		return errors.New("the password cannot be written as a CSV cell")
	}
	var b strings.Builder
	w := excelcsv.NewContinued(&b)
	w.Write(strconv.Itoa(r.Num), r.Name, filepath.Base(archive), pw)
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := p.f.WriteString(b.String()); err != nil {
		return err
	}
	p.rows[r.Num] = true
	return p.f.Sync()
}

func (p *passwordFile) close() { p.f.Close() }
