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
	"github.com/kuvert-app/kuvert/sms"
)

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
