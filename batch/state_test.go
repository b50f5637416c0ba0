package batch

import (
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
)

// The states a row's history and this run's routes classify into, one
// case at least per state and every precedence that matters.
func TestClassify(t *testing.T) {
	seal := &auditlog.Entry{ID: "s1", Action: auditlog.ActionSeal, Archive: &auditlog.FileRef{Name: "a.zip", Size: 10}}
	texted := &auditlog.Entry{ID: "s2", Action: auditlog.ActionSeal, Archive: &auditlog.FileRef{Name: "a.zip", Size: 10},
		Delivery: &auditlog.Delivery{Provider: "twilio", Ref: "ref001", Status: "pending"}}
	sms := &auditlog.Entry{ID: "m1", Action: auditlog.ActionSMS, Delivery: &auditlog.Delivery{Status: "sent"}}
	demo := &auditlog.Entry{ID: "m2", Action: auditlog.ActionSMS, Delivery: &auditlog.Delivery{Provider: "console", Status: auditlog.StatusDemo}}
	byDemo := routes{sms: true, demo: true}
	bySMS := routes{sms: true, canAsk: true}
	bySMSNoAsk := routes{sms: true}
	mailSMS := routes{sms: true, mail: true}
	for _, tc := range []struct {
		name string
		h    rowHistory
		rt   routes
		want rowState
	}{
		{"nothing on record", rowHistory{}, bySMS, stateFresh},
		{"its sealing failed", rowHistory{sealed: texted, failed: true}, bySMS, stateFresh},
		{"failed sealing and an unrecorded archive", rowHistory{sealed: texted, failed: true, unrecorded: true}, bySMS, stateUnrecorded},
		{"unrecorded archive", rowHistory{unrecorded: true}, bySMS, stateUnrecorded},
		{"an earlier sealing's archive", rowHistory{sealed: texted, failed: true, earlier: true}, bySMS, stateEarlier},
		{"files changed", rowHistory{sealed: texted, sent: sms, stale: true}, bySMS, stateStale},
		{"files and archive changed", rowHistory{sealed: texted, sent: sms, stale: true, changed: true}, bySMS, stateStaleChanged},
		{"texted", rowHistory{sealed: texted, sent: sms}, bySMS, stateDone},
		{"texted, archive changed: done checks it", rowHistory{sealed: texted, sent: sms, changed: true}, bySMS, stateDone},
		{"texted, a later run without SMS", rowHistory{sealed: texted, sent: sms}, routes{}, stateDone},
		{"age recipient", rowHistory{sealed: seal}, routes{handedOver: true}, stateDone},
		{"in the password file", rowHistory{sealed: seal}, routes{handedOver: true}, stateDone},
		{"in the password file, draft written", rowHistory{sealed: seal, mail: mailDraft}, routes{mail: true, handedOver: true}, stateDone},
		{"in the password file, not yet mailed", rowHistory{sealed: seal}, routes{mail: true, handedOver: true}, stateInterrupted},
		{"not in the password file", rowHistory{sealed: seal}, routes{}, stateInterrupted},
		{"SMS not on record: ask", rowHistory{sealed: texted}, bySMS, stateSMSUnknown},
		{"SMS not on record, mail being sent: ask first", rowHistory{sealed: texted, mail: mailSending}, routes{sms: true, mail: true, canAsk: true}, stateSMSUnknown},
		{"SMS not on record, no reference to ask by", rowHistory{sealed: seal}, bySMS, stateInterrupted},
		{"SMS not on record, provider cannot say", rowHistory{sealed: texted}, bySMSNoAsk, stateInterrupted},
		{"SMS not on record, archive changed", rowHistory{sealed: texted, changed: true}, bySMSNoAsk, stateInterruptedChanged},
		{"mail being sent", rowHistory{sealed: texted, mail: mailSending}, mailSMS, stateMailUnknown},
		{"mail being sent, a later run without mail", rowHistory{sealed: texted, mail: mailSending}, bySMSNoAsk, stateInterrupted},
		{"mailed, not texted", rowHistory{sealed: texted, mail: mailSent}, mailSMS, stateMailedNotTexted},
		{"drafted, not texted", rowHistory{sealed: texted, mail: mailDraft}, mailSMS, stateMailedNotTexted},
		{"mailed, not texted, archive changed", rowHistory{sealed: texted, mail: mailSent, changed: true}, mailSMS, stateMailedChanged},
		{"mail failed", rowHistory{sealed: texted, mail: mailFailed}, mailSMS, stateInterrupted},
		{"mailed, no SMS reference", rowHistory{sealed: seal, mail: mailSent}, mailSMS, stateInterrupted},
		{"demo shown, a demo run again", rowHistory{sealed: texted, shown: demo}, byDemo, stateDone},
		{"demo shown and drafted, a demo run again", rowHistory{sealed: texted, shown: demo, mail: mailDraft}, routes{sms: true, mail: true, demo: true}, stateDone},
		{"demo shown, a real provider: seal again, never ask", rowHistory{sealed: texted, shown: demo}, bySMS, stateShown},
		{"demo shown, a real provider that cannot be asked", rowHistory{sealed: texted, shown: demo}, bySMSNoAsk, stateShown},
		{"demo shown and drafted, a real provider: not resumed", rowHistory{sealed: texted, shown: demo, mail: mailDraft}, mailSMS, stateShown},
		{"demo shown, then mailed and texted: done", rowHistory{sealed: texted, shown: demo, sent: sms}, bySMS, stateDone},
		{"demo shown, a run with the password file", rowHistory{sealed: texted, shown: demo}, routes{}, stateShown},
		{"demo shown, in the password file", rowHistory{sealed: texted, shown: demo}, routes{handedOver: true}, stateDone},
		{"demo shown, archive changed", rowHistory{sealed: texted, shown: demo, changed: true}, bySMS, stateShownChanged},
		{"demo shown, archive changed, a demo run again: done checks it", rowHistory{sealed: texted, shown: demo, changed: true}, byDemo, stateDone},
		{"demo shown, mail being sent", rowHistory{sealed: texted, shown: demo, mail: mailSending}, mailSMS, stateMailUnknown},
		{"demo shown, files changed", rowHistory{sealed: texted, shown: demo, stale: true}, bySMS, stateStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.h, tc.rt); got != tc.want {
				t.Errorf("classify = %v, want %v", got, tc.want)
			}
		})
	}
}

// Every combination of history and routes, against the rules the states
// exist for: a row whose SMS is on record is never sealed or texted
// again; one whose SMS may have gone out is sealed again only once the
// provider cannot be asked (or was, and had none); a mail whose fate is
// unknown is followed by nothing; an archive that changed is never
// replaced or texted for; a row whose password the demo provider only
// showed is shown again by no demo run, and sealed anew (never texted
// with the old password, never asked at the provider) by a run that can
// deliver.
func TestClassifyRules(t *testing.T) {
	texted := &auditlog.Entry{ID: "s", Archive: &auditlog.FileRef{Size: 1}, Delivery: &auditlog.Delivery{Ref: "r"}}
	plain := &auditlog.Entry{ID: "s", Archive: &auditlog.FileRef{Size: 1}}
	sent := &auditlog.Entry{ID: "m"}
	shown := &auditlog.Entry{ID: "d", Delivery: &auditlog.Delivery{Status: auditlog.StatusDemo}}
	seen := map[rowState]bool{}
	for bits := 0; bits < 1<<15; bits++ {
		bit := func(i int) bool { return bits&(1<<i) != 0 }
		h := rowHistory{failed: bit(1), unrecorded: bit(2), changed: bit(3), stale: bit(4), earlier: bit(5)}
		switch {
		case bit(0) && bit(6):
			h.sealed = texted
		case bit(0):
			h.sealed = plain
		}
		if h.sealed != nil && bit(7) {
			h.sent = sent
		}
		if h.sealed != nil && bit(13) {
			h.shown = shown
		}
		h.mail = []string{"", mailDraft, mailSending, mailSent}[bits>>11&3]
		rt := routes{sms: bit(8), mail: bit(9), handedOver: bit(10), demo: bit(8) && bit(14)}
		for _, canAsk := range []bool{false, true} {
			rt.canAsk = canAsk
			st := classify(h, rt)
			seen[st] = true
			standing := h.current() != nil && !h.stale
			seals := st == stateFresh || st == stateUnrecorded || st == stateEarlier || st == stateStale || st == stateInterrupted || st == stateShown
			if standing && h.sent != nil && st != stateDone {
				t.Errorf("%+v %+v: SMS on record, but %v", h, rt, st)
			}
			if standing && seals && rt.sms && h.sealed.Delivery != nil && canAsk && h.shown == nil {
				t.Errorf("%+v %+v: sealed again (%v) without asking the provider", h, rt, st)
			}
			if standing && rt.mail && h.mail == mailSending && h.sent == nil && st != stateSMSUnknown && st != stateMailUnknown {
				t.Errorf("%+v %+v: mail of unknown fate, but %v", h, rt, st)
			}
			if h.current() != nil && h.changed && (seals || st == stateMailedNotTexted) {
				t.Errorf("%+v %+v: changed archive, but %v", h, rt, st)
			}
			if standing && h.sent == nil && h.shown != nil {
				switch {
				case rt.demo && st != stateDone && st != stateMailUnknown:
					t.Errorf("%+v %+v: shown by the demo provider, and a demo run again does %v", h, rt, st)
				case st == stateSMSUnknown || st == stateMailedNotTexted:
					t.Errorf("%+v %+v: shown by the demo provider, but %v", h, rt, st)
				case !rt.demo && st == stateDone && (rt.sms || !rt.handedOver):
					t.Errorf("%+v %+v: shown by the demo provider, a run that can deliver, but done", h, rt)
				}
			}
			if h.current() != nil && h.changed && st == stateShown {
				t.Errorf("%+v %+v: changed archive, but %v", h, rt, st)
			}
			if h.current() == nil && st != stateFresh && st != stateUnrecorded && st != stateEarlier {
				t.Errorf("%+v %+v: no standing sealing, but %v", h, rt, st)
			}
		}
	}
	if len(seen) != len(stateNames) {
		t.Errorf("%d of %d states reached: %v", len(seen), len(stateNames), seen)
	}
}
