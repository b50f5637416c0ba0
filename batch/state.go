package batch

import (
	"github.com/kuvert-app/kuvert/auditlog"
)

// history is what the log and the output folder say about this batch's
// rows, one record per row. It is filled before the workers start
// ([readHistory], [markStale], [checkOutDir]) and only read by them.
type history struct {
	rows map[int]*rowHistory
}

// rowHistory is what is known about one row before it runs.
type rowHistory struct {
	sealed *auditlog.Entry // the latest sealing of the row in this run
	failed bool            // … was removed (seal-failed) after it
	sent   *auditlog.Entry // a delivered SMS after it
	shown  *auditlog.Entry // none delivered, one the demo provider showed: the password reached nobody
	mail   string          // the latest mail state after it (mailSent, …)
	// all: every sealing of the row in this run, oldest first.
	all []*auditlog.Entry
	// unrecorded: an interrupted attempt left the row's archive before
	// its log entry (see [checkOutDir]).
	unrecorded bool
	// changed: the recorded archive is there but differs from the record.
	changed bool
	// stale: the row's files changed since it was sealed in this run
	// (see [markStale]): sealed anew.
	stale bool
	// earlier: the archive in the folder is an earlier sealing's (kept
	// when a new sealing of a changed row failed), replaced only by a
	// new sealing that succeeds.
	earlier bool
}

// current is the row's sealing that still stands: the latest, unless it
// was removed since.
func (h rowHistory) current() *auditlog.Entry {
	if h.failed {
		return nil
	}
	return h.sealed
}

// row is the record of row n, made when there is none yet; only before
// the workers start.
func (h *history) row(n int) *rowHistory {
	rh := h.rows[n]
	if rh == nil {
		rh = &rowHistory{}
		h.rows[n] = rh
	}
	return rh
}

// of is a copy of the record of row n (empty when the log and the folder
// know nothing of it); safe for the workers to call side by side.
func (h *history) of(n int) rowHistory {
	if rh := h.rows[n]; rh != nil {
		return *rh
	}
	return rowHistory{}
}

func readHistory(l *auditlog.Log, batchID string) (*history, error) {
	es, err := l.Entries()
	if err != nil {
		return nil, err
	}
	h := &history{rows: map[int]*rowHistory{}}
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
		rh := h.row(e.Row)
		rh.sealed, rh.sent, rh.shown, rh.failed, rh.mail = &e, nil, nil, false, ""
		rh.all = append(rh.all, &e)
		for i := range s.FollowUps {
			f := &s.FollowUps[i]
			if f.Action == auditlog.ActionMail {
				rh.mail = mailState(f)
			}
			if f.Action == auditlog.ActionSMS && f.Delivery != nil && !f.Delivery.Status.Failed() {
				if f.Delivery.Demo() {
					rh.shown = f // shown on a screen, sent to nobody
				} else {
					rh.sent = f
				}
			}
		}
		if s.Removed {
			rh.failed = true
		}
	}
	return h, nil
}

// rowState is where a row stands when a run reaches it, from what the
// log and the output folder say ([rowHistory]) and how this run delivers
// ([routes]). Each state has one step ([rowRun.step]).
type rowState int

const (
	// No sealing of the row stands: seal it.
	stateFresh rowState = iota
	// An interrupted attempt left the row's archive before its log
	// entry; nobody has its password: record that, remove it, seal.
	stateUnrecorded
	// The folder holds an earlier sealing's archive (a later sealing of
	// the row failed): seal, replacing it only once the new one exists.
	stateEarlier
	// Sealed in this run, but its files changed since (the next night's
	// payslip): seal anew, superseding the old sealing.
	stateStale
	// … and its archive was changed too: fail, replace nothing.
	stateStaleChanged
	// Sealed, and its password reached its recipient: report it done.
	stateDone
	// Sealed, no SMS on record, and the provider can say whether one went
	// out before the interruption: ask it before sending another.
	stateSMSUnknown
	// Its mail was handed to the relay when an earlier run stopped, and
	// whether it went out is unknown: fail, send neither mail nor SMS.
	stateMailUnknown
	// Mailed, and the run stopped before the SMS: send only the SMS,
	// with the password kept for it.
	stateMailedNotTexted
	// … and its archive was changed since: fail, no SMS.
	stateMailedChanged
	// Sealed, but interrupted before its password reached anyone:
	// record that, remove the archive, seal again.
	stateInterrupted
	// … and its archive was changed since: fail, replace nothing.
	stateInterruptedChanged
	// Sealed, and its SMS only shown by the demo provider, while this
	// run can deliver: nobody has its password, so record that, remove
	// the archive, seal again. (A demo run again reports it done, as a
	// demo: nothing is shown twice.)
	stateShown
	// … and its archive was changed since: fail, replace nothing.
	stateShownChanged
)

var stateNames = [...]string{"fresh", "unrecorded", "earlier", "stale", "stale-changed", "done", "sms-unknown",
	"mail-unknown", "mailed-not-texted", "mailed-changed", "interrupted", "interrupted-changed", "demo-shown", "demo-shown-changed"}

func (s rowState) String() string { return stateNames[s] }

// routes is how this run hands a row's password over.
type routes struct {
	sms  bool // by SMS
	mail bool // the archive is mailed or drafted first
	// handedOver: the password reached its recipient without an SMS (an
	// age recipient, or its line in the --password-out file).
	handedOver bool
	// canAsk: the SMS provider can say whether a message went out
	// ([sms.Finder]); false once it was asked and had none.
	canAsk bool
	// demo: the SMS provider only shows its texts ([sms.IsDemo]).
	demo bool
}

// classify says where a row stands. It does no I/O: the steps do, and
// never text twice because of it — a row whose SMS may have gone out is
// texted again only after the provider was asked and had none.
func classify(h rowHistory, rt routes) rowState {
	prev := h.current()
	switch {
	case prev == nil && h.unrecorded:
		return stateUnrecorded
	case prev == nil && h.earlier:
		return stateEarlier
	case prev == nil:
		return stateFresh
	case h.stale && h.changed:
		return stateStaleChanged
	case h.stale:
		return stateStale
	}
	mailed := h.mail == mailSent || h.mail == mailDraft
	smsRef := prev.Delivery != nil // the sealing chose the SMS reference
	switch {
	case h.sent != nil || (!rt.mail || mailed) && !rt.sms && rt.handedOver:
		return stateDone
	case h.shown != nil && rt.mail && h.mail == mailSending:
		return stateMailUnknown
	case h.shown != nil && rt.sms && rt.demo:
		return stateDone // as a demo: shown once is enough
	case h.shown != nil && h.changed:
		return stateShownChanged
	case h.shown != nil:
		// Never asked at the provider, never resumed: the SMS on
		// record is a demo's, and the password kept for it is gone.
		return stateShown
	case rt.sms && smsRef && rt.canAsk:
		return stateSMSUnknown
	case rt.mail && h.mail == mailSending:
		return stateMailUnknown
	case rt.mail && mailed && rt.sms && smsRef && h.changed:
		return stateMailedChanged
	case rt.mail && mailed && rt.sms && smsRef:
		return stateMailedNotTexted
	case h.changed:
		return stateInterruptedChanged
	}
	return stateInterrupted
}
