package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"

	"filippo.io/age"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/sms"
)

// rowRun is one row under way: what its steps share.
type rowRun struct {
	ctx     context.Context
	m       *Manifest
	r       Row
	o       Options
	h       rowHistory // a copy: the history is shared by the workers
	rt      routes
	pol     *sms.Policy
	pwOut   *passwordFile
	archive string
	res     RowResult
}

// runRow does one row: skip it if an earlier run finished it, settle an
// interrupted one, else seal → log → SMS → log. Where the row stands is
// [classify]'s; what is done there is [rowRun.step]'s. The second result
// is set when the compliance log could not be written: the row stopped
// there, and so must the run.
func runRow(ctx context.Context, m *Manifest, r Row, o Options, h *history, lim *limiter, pwOut *passwordFile) (RowResult, error) {
	x := &rowRun{ctx: ctx, m: m, r: r, o: o, h: h.of(r.Num), pwOut: pwOut, archive: filepath.Join(o.OutDir, r.Output)}
	x.res = RowResult{Row: r.Num, Name: r.Name, To: maskTo(r.Phone), Archive: x.archive}
	if r.Email != "" {
		x.res.Email = maskEmail(r.Email)
	}
	_, canAsk := o.Sender.(sms.Finder)
	x.rt = routes{sms: !o.NoSMS && r.Recipient == "", mail: o.mailRow(r), handedOver: r.Recipient != "" || pwOut.has(r.Num), canAsk: canAsk,
		demo: !o.NoSMS && sms.IsDemo(o.Sender)}
	x.pol = &sms.Policy{Sender: &limitedSender{o.Sender, lim}, Template: o.Template, Organisation: o.From, Lang: o.Lang, OpenerURL: o.OpenerURL}
	st := classify(x.h, x.rt)
	if prev := x.h.current(); prev != nil && !x.h.stale {
		// What the log says of the standing sealing, reported unless a
		// step learns better.
		x.res.Mail = x.h.mail
		if prev.Delivery != nil {
			x.res.Ref = prev.Delivery.Ref
		}
	}
	return x.step(st)
}

// step does what a row in state st needs: one step per state.
func (x *rowRun) step(st rowState) (RowResult, error) {
	switch st {
	case stateFresh:
		return x.seal("")
	case stateUnrecorded:
		return x.removeUnrecorded()
	case stateEarlier:
		return x.sealOverEarlier()
	case stateStale:
		return x.sealAnew()
	case stateDone:
		return x.done()
	case stateSMSUnknown:
		return x.askProvider()
	case stateMailUnknown:
		// Its password must not linger on disk for a row that will not
		// be finished: the kept copy goes.
		removePending(x.o, x.r.Num)
		return x.fail(errors.New("its e-mail was being handed to the mail relay when an earlier run stopped, and whether it went out is unknown; kuvert sends neither it nor the SMS again, and deleted the password it kept for the SMS (see the relay's log; --new-run seals it anew)"))
	case stateMailedNotTexted:
		return x.resumeSMS()
	case stateInterrupted:
		return x.restart("avbrutet innan lösenordet levererades; krypterat på nytt / interrupted before the password was delivered; sealed again")
	case stateShown:
		x.res.Note = "lösenordet visades bara av demoleverantören; förseglad på nytt / the password was only shown by the demo provider; sealed anew"
		return x.restart("lösenordet visades bara av demoleverantören och nådde ingen; arkivet togs bort och krypterades på nytt med ett nytt lösenord / the password was only shown by the demo provider and reached nobody; the archive was removed and sealed again with a new password")
	case stateStaleChanged, stateMailedChanged, stateInterruptedChanged, stateShownChanged:
		return x.fail(fault.New(changedRefusals[st], "archive", x.r.Output))
	}
	panic("batch: no step for row state " + st.String())
}

// changedRefusals say why a row whose archive was changed since it was
// sealed and logged fails: kuvert replaces nothing it did not write, and
// texts no password for an archive that is not the one sealed.
var changedRefusals = map[rowState]fault.Code{
	stateStaleChanged:       CodeStaleChanged,
	stateMailedChanged:      CodeMailedChanged,
	stateInterruptedChanged: CodeInterruptedChanged,
	stateShownChanged:       CodeShownChanged,
}

// fail ends the row as failed; an error of the compliance log is also
// returned, for it stops the run.
func (x *rowRun) fail(err error) (RowResult, error) {
	x.res.Result, x.res.Err, x.res.Error = ResultFailed, err, x.o.words(err)
	if isLogError(err) {
		return x.res, err
	}
	return x.res, nil
}

// sealAnew seals a row whose files changed since it was sealed (the next
// night's payslip): the new sealing supersedes the old one, whose
// archive goes only once the new one exists.
func (x *rowRun) sealAnew() (RowResult, error) {
	os.Remove(filepath.Join(x.o.OutDir, DraftDir, x.r.Output+".eml"))
	removePending(x.o, x.r.Num)
	x.res.Note = "filerna har ändrats; förseglad på nytt / the files changed; sealed anew"
	restore, err := x.stepAside()
	if err != nil {
		return x.fail(err)
	}
	defer restore()
	return x.seal("its files changed since sealing " + x.h.sealed.ID + "; sealed anew")
}

// sealOverEarlier seals a row whose archive in the folder is an earlier
// sealing's (a later sealing failed), replacing it only once the new one
// exists.
func (x *rowRun) sealOverEarlier() (RowResult, error) {
	restore, err := x.stepAside()
	if err != nil {
		return x.fail(err)
	}
	defer restore()
	x.res.Note = "ersätter ett tidigare arkiv för raden / replaces an earlier archive of this row"
	return x.seal("replaces the archive of an earlier sealing of this row")
}

// stepAside moves the row's old archive (delivered earlier) aside until
// the new one exists: restore, called when the sealing is over, brings
// it back should the new sealing have failed, so that nothing is lost,
// and else removes it.
func (x *rowRun) stepAside() (restore func(), err error) {
	archive := x.archive
	aside := filepath.Join(x.o.OutDir, "."+x.r.Output+".superseded")
	_, asideErr := os.Lstat(aside) // left by a crash while aside
	if _, err := os.Lstat(archive); err != nil && asideErr != nil {
		return func() {}, nil
	} else if err == nil {
		if err := os.Rename(archive, aside); err != nil {
			return nil, fmt.Errorf("its old archive cannot be moved aside for the new one: %v", err)
		}
	}
	return func() {
		if _, err := os.Lstat(archive); os.IsNotExist(err) {
			os.Rename(aside, archive)
		} else {
			os.Remove(aside)
		}
	}, nil
}

// askProvider asks the provider whether the SMS of a row sealed before an
// interruption went out, and texts again only if it did not.
func (x *rowRun) askProvider() (RowResult, error) {
	prev := x.h.sealed
	rc, found, err := x.o.Sender.(sms.Finder).FindRef(x.ctx, x.r.Phone, prev.Delivery.Ref)
	if err != nil {
		return x.fail(fmt.Errorf("interrupted in an earlier run, and whether its SMS went out cannot be checked (%v); not resent", err))
	}
	if !found {
		rt := x.rt
		rt.canAsk = false
		return x.step(classify(x.h, rt))
	}
	e := rowEntry(x.m, x.r, auditlog.ActionSMS, prev.ID, "hittat hos leverantören efter ett avbrott / found at the provider after an interruption")
	e.Delivery = &auditlog.Delivery{Provider: rc.Provider, To: prev.Delivery.To, Ref: prev.Delivery.Ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}
	sent, err := x.o.Log.Append(e)
	if err != nil {
		return x.fail(fmt.Errorf("its SMS (id %s) went out before an interruption, but the compliance log could not record that: %w", rc.ID, err))
	}
	x.h.sent = sent
	return x.done()
}

// resumeSMS sends just the SMS of a row mailed before the run stopped,
// with the password kept for it (never a second mail).
func (x *rowRun) resumeSMS() (RowResult, error) {
	prev := x.h.sealed
	pw, err := readPending(x.o, x.r.Num)
	if err != nil {
		return x.fail(errors.New("its e-mail went out in an earlier run, which stopped before the SMS, and the password kept for the SMS is gone; not mailed again"))
	}
	d, err := envelope.SendPassword(x.ctx, x.o.Log, x.pol, passwordSMS(x.m, x.r, prev.ID, pw, prev.Delivery.Ref,
		"skickat efter ett avbrott mellan e-post och sms / sent after an interruption between the e-mail and the SMS"))
	x.res.SHA256 = prev.Archive.SHA256
	if err != nil {
		return x.fail(err) // the password stays kept: the next run tries again
	}
	removePending(x.o, x.r.Num)
	x.res.Result, x.res.SMSID, x.res.SMSStatus = ResultResumed, d.ID, string(d.Status)
	if d.Demo {
		x.res.Result = ResultDemo
	}
	return x.res, nil
}

// done reports a row whose password reached its recipient in an earlier
// run, if its archive is still there.
func (x *rowRun) done() (RowResult, error) {
	prev, sent := x.h.sealed, x.h.sent
	if sent == nil {
		sent = x.h.shown // a demo run again: reported as a demo
	}
	// The SMS is on record: a password kept for it is not needed any
	// more (found at the provider after its answer was lost, or sent by
	// a resend).
	removePending(x.o, x.r.Num)
	if st, err := os.Stat(x.archive); err != nil || prev.Archive == nil || st.Size() != prev.Archive.Size {
		return x.fail(errors.New("done in an earlier run, but the archive is missing or changed; not resent (the recipient has its password)"))
	}
	x.res.Result, x.res.SHA256 = ResultDone, prev.Archive.SHA256
	if sent != nil && sent.Delivery != nil {
		x.res.SMSID, x.res.SMSStatus = sent.Delivery.MessageID, string(sent.Delivery.Status)
		if sent.Delivery.Status == auditlog.StatusDemo {
			x.res.Result = ResultDemo
		}
	}
	return x.res, nil
}

// restart seals again a row whose password reached nobody: interrupted
// before it was delivered, or only shown by the demo provider. The log
// says so first (why: the entry's details); the archive goes only once
// that is on record, and only if it is still the one the log knows.
func (x *rowRun) restart(why string) (RowResult, error) {
	e := rowEntry(x.m, x.r, auditlog.ActionSealFailed, x.h.sealed.ID, why)
	if _, err := x.o.Log.Append(e); err != nil {
		return x.fail(fmt.Errorf("interrupted in an earlier run; it cannot be sealed again, because the compliance log cannot be written: %w", err))
	}
	os.Remove(x.archive)
	if x.h.mail == mailDraft || x.o.Mail == MailDraft {
		// Its draft (written, or left by a crash before the log
		// recorded it) names the old archive and reference.
		os.Remove(filepath.Join(x.o.OutDir, DraftDir, x.r.Output+".eml"))
	}
	removePending(x.o, x.r.Num)
	x.res.Mail = ""
	return x.seal("")
}

// removeUnrecorded seals a row whose archive an attempt that crashed
// before logging it left: nobody has its password. That is recorded,
// then the archive removed.
func (x *rowRun) removeUnrecorded() (RowResult, error) {
	e := rowEntry(x.m, x.r, auditlog.ActionSealFailed, "", "ett arkiv som krypterades före ett avbrott men aldrig loggades togs bort; krypterat på nytt / an archive sealed before an interruption but never recorded was removed; sealed again")
	e.Archive = &auditlog.FileRef{Name: x.r.Output}
	if _, err := x.o.Log.Append(e); err != nil {
		return x.fail(fmt.Errorf("interrupted in an earlier run; it cannot be sealed again, because the compliance log cannot be written: %w", err))
	}
	os.Remove(x.archive)
	return x.seal("")
}

// seal seals the row with a new password (or its age recipient), then
// logs, mails and texts it. note is the reason for the log's seal entry,
// "" for a first sealing.
func (x *rowRun) seal(note string) (RowResult, error) {
	m, r, o, archive := x.m, x.r, x.o, x.archive
	// The folder may be shared: its files are checked again as the
	// manifest's were, just before they are read.
	if err := m.Recheck(r); err != nil {
		return x.fail(err)
	}
	ins, _, err := crypt.CollectInputs(r.Files)
	if err != nil {
		return x.fail(err)
	}
	// Never Force: a file that appeared under this name since the run
	// started is not the run's to replace.
	req := sealRequest(m, r, o, crypt.SealOptions{Inputs: ins, Output: archive, Format: r.Format}, note)
	if r.Recipient != "" {
		rc, err := crypt.ParseRecipient(r.Recipient)
		if err != nil {
			return x.fail(err)
		}
		req.Seal.Recipients = []age.Recipient{rc}
	} else {
		pw, err := crypt.Generate(crypt.GenOptions{})
		if err != nil {
			return x.fail(err)
		}
		req.Seal.Password = pw
		if x.rt.sms {
			req.SMS = &envelope.SMS{Policy: x.pol, To: r.Phone}
		}
	}
	if x.rt.mail {
		// seal → log → mail → SMS: the hook runs before the SMS.
		req.Deliver = func(ctx context.Context, sealed *envelope.Result, ref string) error {
			x.res.Ref = ref
			if x.rt.sms {
				if err := writePending(o, r.Num, req.Seal.Password.Value); err != nil {
					return fmt.Errorf("the password could not be kept for the SMS step (%v); nothing was mailed", err)
				}
			}
			if err := mailStep(ctx, m, r, o, sealed, ref, &x.res); err != nil {
				if x.rt.sms {
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
	out, err := envelope.Seal(x.ctx, o.Log, req)
	if r.Format == crypt.FormatAge && r.Recipient == "" {
		debug.FreeOSMemory() // scrypt's 256 MiB must not linger per row
	}
	if se := (*envelope.SMSError)(nil); err != nil && x.rt.mail && errors.As(err, &se) {
		return x.fail(fmt.Errorf("its e-mail went out, but the SMS failed (%v); run again to send the SMS (the e-mail is not sent again)", se.Err))
	}
	if err != nil {
		return x.fail(err)
	}
	x.res.SHA256 = out.SHA256
	if x.rt.mail && x.rt.sms {
		removePending(o, r.Num)
	}
	if out.Delivery != nil {
		x.res.Ref = out.Delivery.Ref
		x.res.Result, x.res.SMSID, x.res.SMSStatus = ResultSent, out.Delivery.ID, string(out.Delivery.Status)
		if out.Delivery.Status == sms.StatusDemo {
			x.res.Result = ResultDemo // shown, not sent: never reported as sent
		}
		return x.res, nil
	}
	if x.pwOut != nil {
		if err := x.pwOut.add(r, archive, req.Seal.Password.Value); err != nil {
			// Its password reached nobody: record that, then remove it.
			if _, lerr := o.Log.Append(rowEntry(m, r, auditlog.ActionSealFailed, out.Entry.ID,
				"lösenordet kunde inte skrivas till lösenordsfilen; arkivet togs bort / the password could not be written to the password file; the archive was removed")); lerr != nil {
				return x.fail(fmt.Errorf("the password could not be written to the password file (%v), and the compliance log cannot record that: %w", err, lerr))
			}
			os.Remove(archive)
			return x.fail(fmt.Errorf("the password could not be written to the password file, so the archive was removed: %v", err))
		}
	}
	x.res.Result = ResultSealed
	return x.res, nil
}
