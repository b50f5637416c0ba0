package batch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kuvert-app/kuvert/sms"
)

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
	Error     string   `json:"error,omitempty"` // Err in the shell's words ([Options.Words])
	// Err is why the row failed or was skipped, typed ([fault.Error]
	// where batch has a code for it), for a shell to word in its
	// language.
	Err error `json:"-"`
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
func skippedRows(m *Manifest, o *Options) []RowResult {
	var out []RowResult
	at := map[int]int{}
	for _, p := range m.Problems {
		if p.Row <= 1 { // the header or the file as a whole
			continue
		}
		if i, ok := at[p.Row]; ok {
			out[i].Err = errors.Join(out[i].Err, p.Err)
			out[i].Error += "; " + o.words(p.Err)
			continue
		}
		at[p.Row] = len(out)
		out = append(out, RowResult{Row: p.Row, Result: ResultSkipped, Err: p.Err, Error: o.words(p.Err)})
	}
	return out
}

func maskTo(e164 string) string {
	if e164 == "" {
		return ""
	}
	return sms.MaskNumber(e164)
}
