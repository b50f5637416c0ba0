package batch

import (
	"github.com/kuvert-app/kuvert/auditlog"
)

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
