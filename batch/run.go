package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
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

// isLogError reports whether err means the compliance log could not be
// written. Nothing may be sealed or texted without a record, so such an
// error stops the whole run, not only its row.
func isLogError(err error) bool {
	return errors.Is(err, auditlog.ErrUnavailable) || errors.Is(err, auditlog.ErrTampered)
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
