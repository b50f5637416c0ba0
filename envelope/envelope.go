// Package envelope is the one place where kuvert's steps meet: seal the
// files, record the sealing in the compliance log, write the e-mail draft
// and deliver the password by SMS. The CLI, batch and the desktop app call
// [Seal] and [SendPassword]; none holds any of this logic itself. The SMS
// policy they pass in comes from providers.Build.
//
// Its promises:
//   - an archive exists only if its log entry was written; if the log
//     cannot be written, the archive is removed again;
//   - with SMS delivery, a generated password is shown nowhere else, and if
//     the SMS fails the archive is removed (its password reached nobody)
//     and the failure is recorded;
//   - every input — the number, the text rendered with the real password,
//     the draft's address and path — is checked before anything is
//     sealed; if something still fails after sealing with a generated
//     password that reached nobody, the archive is removed and that is
//     recorded (seal-failed);
//   - it never puts a password in an error, the log or a message other
//     than the SMS itself.
package envelope

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/sms"
)

// Request is one sealing.
type Request struct {
	Seal     crypt.SealOptions
	Case     string // diarienummer, optional
	Note     string // free text for the log, optional
	Operator string // display name for the log, optional
	Batch    string // batch id, optional
	Row      int    // batch row, optional
	// SMS, if set, delivers the password by SMS.
	SMS *SMS
	// Draft, if set, writes an e-mail draft beside the archive
	// (ARCHIVE.eml). Its address and path are checked before sealing.
	Draft *Draft
	// NoScan skips scanning the inputs' contents for personnummer (names
	// are always checked).
	NoScan bool
	// Deliver, if set, runs after the sealing is on record (and the
	// draft written) and before the SMS: batch mails the archive here,
	// so that a password is never texted for an archive that did not go
	// out. ref is the SMS reference ("" without SMS). If it fails, the
	// SMS is not sent, and an archive with a generated password is
	// removed and that recorded (as when the SMS fails) — unless the
	// error is the compliance log's, which stops everything as it is.
	Deliver func(ctx context.Context, sealed *Result, ref string) error
	// Supersedes, if set, is the id of an earlier seal entry this sealing
	// replaces (`kuvert resend`): the new seal entry refers to it, and an
	// ActionSuperseded entry marks the old one, both on record before the
	// draft, Deliver and the SMS.
	Supersedes string
}

// Scan is what the guard found in the inputs.
type Scan struct {
	Personnummer int      // in contents and names
	Files        int      // inputs that hold any
	NotScanned   []string // inputs whose format could not be read
	NamesHidden  bool     // a name held a personnummer, so names were hidden
	Skipped      bool     // --no-scan
}

// SMS says where to text the password and how: the policy from
// providers.Build (provider, template, language, organisation).
type SMS struct {
	Policy *sms.Policy
	To     string // as typed; validated with sms.ParseMobile
	Ref    string // reference code; generated if empty
}

// Result is a sealed and recorded archive.
type Result struct {
	*crypt.SealResult
	Entry    *auditlog.Entry // the seal entry
	Delivery *Delivered      // nil without SMS
	Draft    string          // the e-mail draft's path, if one was asked for
	Scan     Scan
}

// Delivered describes a password that was texted.
type Delivered struct {
	sms.Receipt
	To    string // masked
	Ref   string
	Entry *auditlog.Entry // the sms entry
	// Demo is true when the provider sends nothing (the console demo):
	// the recipient got nothing, and every shell must say so.
	Demo bool
}

// ErrSMS wraps SMS delivery failures (exit code 5).
var ErrSMS = errors.New("the password could not be sent by SMS")

// SMSError is an SMS that failed after sealing; it matches ErrSMS and the
// provider's error. Kept is the archive's path when the archive stayed
// (the sender chose the password), empty when it was removed because its
// generated password reached nobody.
type SMSError struct {
	Err  error
	Kept string
}

func (e *SMSError) Error() string {
	msg := ErrSMS.Error() + ": " + e.Err.Error()
	if e.Kept == "" {
		return msg + "; the archive was removed, because its password reached nobody"
	}
	return msg + "; the archive " + e.Kept + " was kept: give the password another way"
}

func (e *SMSError) Unwrap() []error { return []error{ErrSMS, e.Err} }

// prepared is a text ready to go: the number checked, the body rendered
// with the real password. Everything that can be wrong with an SMS is
// found here, before anything is sealed.
type prepared struct {
	pol                   *sms.Policy
	to, masked, ref, body string
	password              string // for a provider that writes the text itself (the kuvert server)
	tag                   string // auditlog's keyed hash of to
}

func prepare(pol *sms.Policy, to, ref, password string) (*prepared, error) {
	if pol == nil || pol.Sender == nil {
		return nil, errors.New("no SMS provider")
	}
	num, err := sms.ParseMobile(to)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", crypt.ErrInput, err)
	}
	if ref == "" {
		ref = sms.NewRef()
	}
	body, err := pol.Text(ref, password)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", crypt.ErrInput, err)
	}
	return &prepared{pol: pol, to: num, masked: sms.MaskNumber(num), ref: ref, body: body, password: password}, nil
}

// send hands the text to the provider once and describes the outcome for
// the log.
//
// refers is the sealing entry's ID when known: the text's key is then
// refers + "/" + the reference, so a provider that sends at most once per
// key (the kuvert server) never texts one sealing's password twice, even
// when kuvert is run again after a lost answer. Without it the key is
// random: at most once per call.
func (p *prepared) send(ctx context.Context, refers, caseNo string) (sms.Receipt, *auditlog.Delivery, error) {
	key := ""
	if refers != "" {
		key = refers + "/" + p.ref
	} else {
		key = "once/" + sms.NewRef() + sms.NewRef() + sms.NewRef() + "/" + p.ref
	}
	rc, err := p.pol.Sender.Send(ctx, sms.Message{To: p.to, Body: p.body, Password: p.password, Key: key, Ref: p.ref, Refers: refers, Case: caseNo})
	del := &auditlog.Delivery{Provider: p.pol.Sender.Name(), To: p.masked, ToTag: p.tag, Ref: p.ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}
	if err != nil {
		del.Status, del.Error = auditlog.StatusFailed, err.Error()
	}
	return rc, del, err
}

func (p *prepared) delivered(rc sms.Receipt, e *auditlog.Entry) *Delivered {
	return &Delivered{Receipt: rc, To: p.masked, Ref: p.ref, Entry: e, Demo: sms.IsDemo(p.pol.Sender)}
}

// PasswordSMS is one password to text on its own (`kuvert sms send`: again,
// or to a new number), outside a sealing.
type PasswordSMS struct {
	To       string // as typed
	Password string
	Ref      string // generated if empty
	Case     string // for the log
	Refers   string // the seal entry's id, if known
	Batch    string
	Row      int
	Details  string          // a note for the log, never the password
	Event    *auditlog.Event // what the log says of it, in a code
}

// SendPassword texts a password with the policy and records the attempt
// in the log, delivered or failed. A number or text that cannot be sent is
// refused before the provider is called (crypt.ErrInput, wrapping
// *sms.NumberError for a bad number). A failed send returns an error
// matching [ErrSMS] and the provider's error, after it was logged.
func SendPassword(ctx context.Context, log *auditlog.Log, pol *sms.Policy, m PasswordSMS) (*Delivered, error) {
	if log == nil {
		return nil, errors.New("no compliance log")
	}
	p, err := prepare(pol, m.To, m.Ref, m.Password)
	if p != nil {
		p.tag = log.NumberTag(p.to)
	}
	if err != nil {
		return nil, err
	}
	rc, del, sendErr := p.send(ctx, m.Refers, m.Case)
	e, lerr := log.Append(auditlog.Entry{Action: auditlog.ActionSMS, Refers: m.Refers, Delivery: del, Case: m.Case, Batch: m.Batch, Row: m.Row, Details: m.Details, Event: m.Event})
	switch {
	case sendErr != nil && lerr != nil:
		return nil, fmt.Errorf("%w: %w (and the log could not record it: %w)", ErrSMS, sendErr, lerr)
	case sendErr != nil:
		return nil, fmt.Errorf("%w: %w", ErrSMS, sendErr)
	case lerr != nil:
		return nil, fault.New(CodeSentNotLogged, "id", rc.ID).Wrap(lerr)
	}
	return p.delivered(rc, e), nil
}

// Seal seals the files, records the sealing and, if asked, writes the
// e-mail draft and texts the password; see the package comment for what
// it guarantees. Every input (number, text, draft address and path) is
// checked before anything is sealed.
func Seal(ctx context.Context, log *auditlog.Log, r Request) (*Result, error) {
	if log == nil {
		return nil, errors.New("no compliance log")
	}
	var p *prepared
	if r.SMS != nil {
		if r.Seal.Password.Value == "" {
			return nil, fmt.Errorf("%w: %w", crypt.ErrInput, fault.New(CodeSMSNeedsPassword))
		}
		var err error
		if p, err = prepare(r.SMS.Policy, r.SMS.To, r.SMS.Ref, r.Seal.Password.Value); p != nil {
			p.tag = log.NumberTag(p.to)
		}
		if err != nil {
			return nil, err
		}
	}
	var draft Draft
	if r.Draft != nil {
		draft = *r.Draft
		if p != nil {
			draft.Ref = p.ref
			if draft.Lang == "" {
				draft.Lang = r.SMS.Policy.Lang
			}
		}
		if err := CheckDraft(r.Seal.Output, draft); err != nil {
			if errors.Is(err, scan.ErrSensitive) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", crypt.ErrInput, err)
		}
	}
	if m := personnummer.FindAll(filepath.Base(r.Seal.Output)); len(m) > 0 {
		return nil, fmt.Errorf("%w: %w", scan.ErrSensitive, fault.New(CodeNameHasPersonnummer, "name", personnummer.MaskWith(filepath.Base(r.Seal.Output), "xxxx"), "masked", m[0].Masked))
	}
	sc, err := scanInputs(ctx, r.Seal.Inputs, r.NoScan)
	if err != nil {
		return nil, err
	}
	if sc.NamesHidden && r.Seal.Format == crypt.FormatZip {
		r.Seal.HideNames = true
	}
	sc.NamesHidden = r.Seal.HideNames
	res, err := crypt.Seal(ctx, r.Seal)
	if err != nil {
		return nil, err
	}
	entry := auditlog.Entry{
		Action:       auditlog.ActionSeal,
		Format:       res.Format,
		Archive:      &auditlog.FileRef{Name: filepath.Base(res.Archive), Size: res.Size, SHA256: res.SHA256},
		Case:         r.Case,
		Note:         r.Note,
		OperatorName: r.Operator,
		Batch:        r.Batch,
		Row:          r.Row,
	}
	if r.Supersedes != "" {
		entry.Refers = r.Supersedes
		entry.Event = auditlog.NewEvent(auditlog.CodeSupersedes, "entry", r.Supersedes)
	}
	for _, f := range res.Files {
		entry.Files = append(entry.Files, auditlog.FileRef{Name: f.Name, Size: f.Size, SHA256: f.SHA256})
	}
	if r.Seal.Password.Value != "" {
		entry.Password = &auditlog.PasswordRef{Origin: auditlog.Origin(r.Seal.Password.Origin), Bits: float64(int(r.Seal.Password.Bits*10)) / 10}
	}
	if !sc.Skipped {
		n := sc.Personnummer
		entry.Personnummer = &n
	}
	if p != nil {
		entry.Delivery = &auditlog.Delivery{Provider: p.pol.Sender.Name(), To: p.masked, ToTag: p.tag, Ref: p.ref, Status: auditlog.StatusPending}
	}
	// The sealing is on record before the SMS goes out, so a crash in
	// between still leaves a trace.
	var e *auditlog.Entry
	if r.Supersedes == "" {
		e, err = log.Append(entry)
	} else {
		e, err = recordSupersede(log, entry, r)
	}
	if err != nil {
		os.Remove(res.Archive)
		var se *SupersededError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fault.New(CodeNotRecordedRemoved).Wrap(err)
	}
	out := &Result{SealResult: res, Entry: e, Scan: sc}
	generated := auditlog.Origin(r.Seal.Password.Origin) == auditlog.OriginGenerated

	if r.Draft != nil {
		path, err := WriteDraft(res.Archive, draft)
		if err != nil {
			// Checked above, so this is the disk or a race. A generated
			// password has reached nobody yet: the archive goes.
			if !generated {
				return nil, fault.New(CodeDraftFailedKept, "archive", res.Archive).Wrap(err)
			}
			return nil, unseal(log, e, entry, r, res.Archive, auditlog.NewEvent(auditlog.CodeDraftFailedRemoved),
				fault.New(CodeDraftFailedRemoved).Wrap(err))
		}
		out.Draft = path
	}
	if r.Deliver != nil {
		ref := ""
		if p != nil {
			ref = p.ref
		}
		if err := r.Deliver(ctx, out, ref); err != nil {
			switch {
			case errors.Is(err, auditlog.ErrUnavailable), errors.Is(err, auditlog.ErrTampered):
				return nil, err
			case !generated:
				return nil, fault.New(CodeDeliveryFailedKept, "archive", res.Archive).Wrap(err)
			}
			return nil, unseal(log, e, entry, r, res.Archive, auditlog.NewEvent(auditlog.CodeDeliveryFailedRemoved),
				fault.New(CodeDeliveryFailedRemoved).Wrap(err))
		}
	}
	if p == nil {
		return out, nil
	}

	rc, del, sendErr := p.send(ctx, e.ID, r.Case)
	if sendErr != nil {
		action, event := auditlog.ActionSMS, auditlog.CodeSMSFailedKeptOwn
		if r.Deliver != nil {
			// The archive already went out (Deliver): removing it here
			// would not take it back. It stays; the caller retries the SMS.
			event = auditlog.CodeSMSFailedKeptDelivered
		} else if generated {
			os.Remove(res.Archive)
			if out.Draft != "" {
				os.Remove(out.Draft)
			}
			action, event = auditlog.ActionSealFailed, auditlog.CodeSMSFailedRemoved
		}
		_, lerr := log.Append(auditlog.Entry{Action: action, Refers: e.ID, Delivery: del, Event: auditlog.NewEvent(event), Batch: r.Batch, Row: r.Row,
			Archive: entry.Archive, Case: r.Case})
		se := &SMSError{Err: sendErr}
		if !generated || r.Deliver != nil {
			se.Kept = res.Archive
		}
		var err error = se
		if lerr != nil {
			err = fmt.Errorf("%w (and the log could not record it: %w)", err, lerr)
		}
		return nil, err
	}
	se, err := log.Append(auditlog.Entry{Action: auditlog.ActionSMS, Refers: e.ID, Delivery: del, Batch: r.Batch, Row: r.Row, Case: r.Case})
	if err != nil {
		// The password went out but is not on record: the archive stays,
		// and the caller learns the log is broken.
		return nil, fault.New(CodeSentNotLogged, "id", rc.ID).Wrap(err)
	}
	out.Delivery = p.delivered(rc, se)
	return out, nil
}

// SupersededError: the sealing a resend would replace was already
// replaced by another (a second `kuvert resend` of the same reference, at
// the same moment or later). Nothing of this sealing is on record and its
// archive was removed; no SMS went out.
type SupersededError struct {
	ID string // the old sealing
	By string // the sealing that already replaced it
}

func (e *SupersededError) Error() string {
	return "the sealing " + e.ID + " was already superseded by " + e.By + "; the new archive was removed and no SMS was sent"
}

// recordSupersede writes the new seal entry and the ActionSuperseded
// marker on the old sealing in one append, and only if no other sealing
// has superseded the old one meanwhile. The check runs under the log's
// writers' lock, so of two resends of one sealing exactly one is
// recorded (and so texts its password); the other gets a
// [*SupersededError].
func recordSupersede(log *auditlog.Log, entry auditlog.Entry, r Request) (*auditlog.Entry, error) {
	entry.ID = log.NewID()
	marker := auditlog.Entry{Action: auditlog.ActionSuperseded, Refers: r.Supersedes, Batch: r.Batch, Row: r.Row, Case: r.Case,
		Event: auditlog.NewEvent(auditlog.CodeSupersededBy, "entry", entry.ID)}
	written, err := log.AppendIf(func(all []auditlog.Entry) error {
		for _, s := range auditlog.Sealings(all) {
			if s.Entry.ID == r.Supersedes && s.SupersededBy != "" {
				return &SupersededError{ID: r.Supersedes, By: s.SupersededBy}
			}
		}
		return nil
	}, entry, marker)
	if err != nil {
		return nil, err
	}
	return &written[0], nil
}

// unseal removes an archive whose generated password reached nobody and
// records that (ActionSealFailed), returning err with any log failure.
func unseal(log *auditlog.Log, e *auditlog.Entry, entry auditlog.Entry, r Request, archive string, why *auditlog.Event, err error) error {
	os.Remove(archive)
	if _, lerr := log.Append(auditlog.Entry{Action: auditlog.ActionSealFailed, Refers: e.ID, Event: why, Batch: r.Batch, Row: r.Row,
		Archive: entry.Archive, Case: r.Case}); lerr != nil {
		return fmt.Errorf("%w (and the log could not record it: %w)", err, lerr)
	}
	return err
}

// scanInputs checks every input's name (always) and content (unless
// noScan) for personnummer.
func scanInputs(ctx context.Context, ins []crypt.Input, noScan bool) (Scan, error) {
	sc := Scan{Skipped: noScan}
	for _, in := range ins {
		if err := ctx.Err(); err != nil {
			return sc, err
		}
		names := len(personnummer.FindAll(in.Name))
		if names > 0 {
			sc.NamesHidden = true
		}
		n := names
		if !noScan {
			rep, err := scan.File(in.Path)
			if err != nil {
				return sc, fmt.Errorf("%w: %v", crypt.ErrInput, err)
			}
			if !rep.Scanned {
				sc.NotScanned = append(sc.NotScanned, in.Name)
			}
			// scan.File counts the file's own name too; in.Name (the
			// path inside the archive) was counted above.
			n += rep.Count() - len(scan.Name(in.Path))
		}
		sc.Personnummer += n
		if n > 0 {
			sc.Files++
		}
	}
	return sc, nil
}
