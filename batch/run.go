package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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
	// Words turns a row's error into the text of RowResult.Error and
	// report.csv: the shell's catalog (batch has no words of its own);
	// nil keeps the error's machine text.
	Words func(error) string
}

// isLogError reports whether err means the compliance log could not be
// written. Nothing may be sealed or texted without a record, so such an
// error stops the whole run, not only its row.
func isLogError(err error) bool {
	return errors.Is(err, auditlog.ErrUnavailable) || errors.Is(err, auditlog.ErrTampered)
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
	// No row runs any more: the kept passwords' folder goes if empty.
	removePendingDir(o)
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
	for _, r := range skippedRows(m, &o) {
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
