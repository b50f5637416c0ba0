// Package envelope is the one place where kuvert's steps meet: seal the
// files, record the sealing in the compliance log, and deliver the
// password by SMS. The CLI and the desktop app both call [Seal]; neither
// holds any of this logic itself.
//
// Its promises:
//   - an archive exists only if its log entry was written; if the log
//     cannot be written, the archive is removed again;
//   - with SMS delivery, a generated password is shown nowhere else, and if
//     the SMS fails the archive is removed (its password reached nobody)
//     and the failure is recorded;
//   - the number and the template are checked before anything is sealed.
package envelope

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
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
	// NoScan skips scanning the inputs' contents for personnummer (names
	// are always checked).
	NoScan bool
}

// Scan is what the guard found in the inputs.
type Scan struct {
	Personnummer int      // in contents and names
	Files        int      // inputs that hold any
	NotScanned   []string // inputs whose format could not be read
	NamesHidden  bool     // a name held a personnummer, so names were hidden
	Skipped      bool     // --no-scan
}

// SMS says where and how to text the password.
type SMS struct {
	Sender   sms.Sender
	To       string // as typed; validated with sms.ParseMobile
	Template string // with {sender}, {ref}, {password}; default Swedish
	From     string // the sender's name shown in the text, e.g. "Ekonomienheten"
	Ref      string // reference code; generated if empty
}

// Result is a sealed and recorded archive.
type Result struct {
	*crypt.SealResult
	Entry    *auditlog.Entry // the seal entry
	Delivery *Delivered      // nil without SMS
	Scan     Scan
}

// Delivered describes a password that was texted.
type Delivered struct {
	sms.Receipt
	To    string // masked
	Ref   string
	Entry *auditlog.Entry // the sms entry
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

// Prepared is a validated SMS: the E.164 number and the template.
type prepared struct {
	to, masked, tmpl, ref string
}

func (s *SMS) prepare(pwLen int) (*prepared, error) {
	to, err := sms.ParseMobile(s.To)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", crypt.ErrInput, err)
	}
	tmpl := s.Template
	if tmpl == "" {
		tmpl = sms.Templates["sv"]
	}
	if _, err := sms.CheckTemplate(tmpl, s.From, pwLen); err != nil {
		return nil, fmt.Errorf("%w: %v", crypt.ErrInput, err)
	}
	ref := s.Ref
	if ref == "" {
		ref = sms.NewRef()
	}
	return &prepared{to: to, masked: sms.MaskNumber(to), tmpl: tmpl, ref: ref}, nil
}

// Seal seals the files, records the sealing and, if asked, texts the
// password; see the package comment for what it guarantees.
func Seal(ctx context.Context, log *auditlog.Log, r Request) (*Result, error) {
	if log == nil {
		return nil, errors.New("no compliance log")
	}
	var p *prepared
	if r.SMS != nil {
		if r.Seal.Password.Value == "" {
			return nil, fmt.Errorf("%w: SMS delivery needs a password, not age recipients", crypt.ErrInput)
		}
		var err error
		if p, err = r.SMS.prepare(len(r.Seal.Password.Value)); err != nil {
			return nil, err
		}
	}
	if m := personnummer.FindAll(filepath.Base(r.Seal.Output)); len(m) > 0 {
		return nil, fmt.Errorf("%w: the archive name %s holds a personnummer (%s), and it travels in the clear", scan.ErrSensitive, personnummer.MaskWith(filepath.Base(r.Seal.Output), "xxxx"), m[0].Masked)
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
		entry.Delivery = &auditlog.Delivery{Provider: r.SMS.Sender.Name(), To: p.masked, Ref: p.ref, Status: "pending"}
	}
	// The sealing is on record before the SMS goes out, so a crash in
	// between still leaves a trace.
	e, err := log.Append(entry)
	if err != nil {
		os.Remove(res.Archive)
		return nil, fmt.Errorf("%w; the archive was removed, because nothing may be sealed without a record", err)
	}
	out := &Result{SealResult: res, Entry: e, Scan: sc}
	if p == nil {
		return out, nil
	}

	body, _ := sms.Render(p.tmpl, map[string]string{"sender": r.SMS.From, "ref": p.ref, "password": r.Seal.Password.Value})
	rc, sendErr := r.SMS.Sender.Send(ctx, sms.Message{To: p.to, Body: body})
	del := &auditlog.Delivery{Provider: r.SMS.Sender.Name(), To: p.masked, Ref: p.ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}
	if sendErr != nil {
		del.Status, del.Error = "failed", sendErr.Error()
		generated := r.Seal.Password.Origin == "generated"
		action, details := auditlog.ActionSMS, "SMS failed; the archive was kept (the sender chose the password)"
		if generated {
			os.Remove(res.Archive)
			action, details = auditlog.ActionSealFailed, "SMS failed; the archive was removed because its generated password reached nobody"
		}
		_, lerr := log.Append(auditlog.Entry{Action: action, Refers: e.ID, Delivery: del, Details: details, Batch: r.Batch, Row: r.Row,
			Archive: entry.Archive, Case: r.Case})
		se := &SMSError{Err: sendErr}
		if !generated {
			se.Kept = res.Archive
		}
		var err error = se
		if lerr != nil {
			err = fmt.Errorf("%w (and the log could not record it: %v)", err, lerr)
		}
		return nil, err
	}
	se, err := log.Append(auditlog.Entry{Action: auditlog.ActionSMS, Refers: e.ID, Delivery: del, Batch: r.Batch, Row: r.Row, Case: r.Case})
	if err != nil {
		// The password went out but is not on record: the archive stays,
		// and the caller learns the log is broken.
		return nil, fmt.Errorf("the SMS was sent (id %s) but the compliance log could not record it: %w", rc.ID, err)
	}
	out.Delivery = &Delivered{Receipt: rc, To: p.masked, Ref: p.ref, Entry: se}
	return out, nil
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
