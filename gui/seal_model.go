package gui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/naming"
	"github.com/kuvert-app/kuvert/sms"
)

// sealForm is the Seal view's state without widgets: what the user chose,
// nothing about how it is shown. The widgets write into it as the user
// types (seal_view.go) and read nothing back from their own labels; the
// form says what is wrong ([sealForm.Validate]) and builds the sealing
// ([sealForm.Request]). Its rules are the core's: numbers are read by
// sms.ParseMobile, passwords measured by crypt.
type sealForm struct {
	Files       []fileItem
	Format      crypt.Format // empty: zip, kuvert's default
	Password    passwordChoice
	Generated   crypt.Password // the password shown when Password is passwordGenerated
	OwnPassword string         // typed when Password is passwordOwn
	Phone       string         // the recipient's mobile number as typed; empty: no SMS
	Name        string         // the recipient's name, for the log (envelope.Request.Note)
	Case        string         // diarienummer, for the log
	// ArchiveName is the archive's file name as the user typed it; empty:
	// the name kuvert proposes (proposedName).
	ArchiveName string
	// SMSDemo: the configured provider only shows the message (the
	// console demo), so nothing will be sent.
	SMSDemo bool
}

// fileItem is one file in the list.
type fileItem struct {
	path string
	size int64
	pnr  int // personnummer found by the guard (name and content)
}

// passwordChoice is generated or the user's own.
type passwordChoice int

const (
	passwordGenerated passwordChoice = iota
	passwordOwn
)

// formField names the part of the form a problem belongs to.
type formField int

const (
	fieldFiles formField = iota + 1
	fieldPassword
	fieldPhone
	fieldArchive
)

// problemKind is what is wrong, for the view to word.
type problemKind int

const (
	problemNoFiles      problemKind = iota + 1
	problemWeakPassword             // below crypt.MinPasswordBits
	problemZipPassword              // a zip password 7-Zip cannot take (crypt.CheckZipPassword)
	problemNumber                   // sms.ParseMobile refused the number; Err is its *sms.NumberError
	problemArchiveName              // naming.Archive refused the typed name; Err wraps naming.ErrName
)

// formProblem is one reason the form cannot be sealed yet.
type formProblem struct {
	Field formField
	Kind  problemKind
	Err   error // the core's own error, when there is one
}

func (p formProblem) Error() string {
	switch p.Kind {
	case problemNoFiles:
		return "no files to seal"
	case problemWeakPassword:
		return "the password is too weak"
	}
	if p.Err != nil {
		return p.Err.Error()
	}
	return "the form is not complete"
}

// Unwrap lets errors.Is see crypt.ErrInput (and the number error).
func (p formProblem) Unwrap() []error {
	if p.Err == nil {
		return []error{crypt.ErrInput}
	}
	return []error{crypt.ErrInput, p.Err}
}

// Validate lists what keeps the form from being sealed, at most one
// problem per field; none means the primary button may be pressed.
func (f *sealForm) Validate() []formProblem {
	var out []formProblem
	if len(f.Files) == 0 {
		out = append(out, formProblem{Field: fieldFiles, Kind: problemNoFiles})
	}
	if f.Password == passwordOwn {
		if crypt.Estimate(f.OwnPassword) < crypt.MinPasswordBits {
			out = append(out, formProblem{Field: fieldPassword, Kind: problemWeakPassword, Err: crypt.ErrWeakPassword})
		} else if err := f.passwordFitsFormat(); err != nil {
			out = append(out, formProblem{Field: fieldPassword, Kind: problemZipPassword, Err: err})
		}
	}
	if name := strings.TrimSpace(f.ArchiveName); name != "" {
		if _, err := naming.Archive(name, f.format()); err != nil {
			out = append(out, formProblem{Field: fieldArchive, Kind: problemArchiveName, Err: err})
		}
	}
	if f.SendsSMS() {
		if _, err := sms.ParseMobile(f.Phone); err != nil {
			out = append(out, formProblem{Field: fieldPhone, Kind: problemNumber, Err: err})
		}
	}
	return out
}

// Problem is the problem Validate reports for field, if any.
func (f *sealForm) Problem(field formField) (formProblem, bool) {
	for _, p := range f.Validate() {
		if p.Field == field {
			return p, true
		}
	}
	return formProblem{}, false
}

// format is the chosen format; the zero form seals zip.
func (f *sealForm) format() crypt.Format {
	if f.Format == "" {
		return crypt.FormatZip
	}
	return f.Format
}

// passwordFitsFormat: 7-Zip cannot open a zip whose password has å, ä,
// ö, so a zip takes ASCII passwords only (age takes any).
func (f *sealForm) passwordFitsFormat() error {
	if f.format() == crypt.FormatAge {
		return nil
	}
	return crypt.CheckZipPassword(f.OwnPassword)
}

// OwnPasswordBits is the typed password's estimated strength.
func (f *sealForm) OwnPasswordBits() float64 { return crypt.Estimate(f.OwnPassword) }

// SendsSMS reports whether a number was typed, so the password goes (or,
// with the demo provider, would go) by SMS.
func (f *sealForm) SendsSMS() bool { return strings.TrimSpace(f.Phone) != "" }

// Recipient is the typed number in E.164, or the number's problem.
func (f *sealForm) Recipient() (string, error) { return sms.ParseMobile(f.Phone) }

// Paths are the listed files, in order.
func (f *sealForm) Paths() []string {
	out := make([]string, len(f.Files))
	for i, it := range f.Files {
		out[i] = it.path
	}
	return out
}

// Secret is the password to seal with: the generated one, or the typed
// one checked by crypt.
func (f *sealForm) Secret() (crypt.Password, error) {
	if f.Password == passwordOwn {
		return crypt.UserPassword(f.OwnPassword, false)
	}
	if f.Generated.Value == "" {
		return crypt.Password{}, errors.New("no password was generated")
	}
	return f.Generated, nil
}

// requestEnv is what a sealing takes from outside the form.
type requestEnv struct {
	OutputDir string // config.json's output folder; empty: beside the first file
	Operator  string // config.json's operator name, for the log
	// SMS gives the provider and the text; it is called only when a
	// number was typed.
	SMS func() (smsSetup, error)
}

// Request builds the sealing for envelope.Seal. It refuses a form that
// Validate finds fault with, so a request is never half right.
func (f *sealForm) Request(env requestEnv) (envelope.Request, error) {
	if ps := f.Validate(); len(ps) > 0 {
		return envelope.Request{}, ps[0]
	}
	paths := f.Paths()
	ins, _, err := crypt.CollectInputs(paths)
	if err != nil {
		return envelope.Request{}, err
	}
	pw, err := f.Secret()
	if err != nil {
		return envelope.Request{}, err
	}
	name := ""
	if typed := strings.TrimSpace(f.ArchiveName); typed != "" {
		if name, err = naming.Archive(typed, f.format()); err != nil {
			return envelope.Request{}, err
		}
	}
	req := envelope.Request{
		Seal:     crypt.SealOptions{Inputs: ins, Output: archivePath(ins, f.format(), paths, env.OutputDir, name), Format: f.format(), Password: pw},
		Case:     strings.TrimSpace(f.Case),
		Note:     strings.TrimSpace(f.Name),
		Operator: env.Operator,
	}
	if !f.SendsSMS() {
		return req, nil
	}
	if env.SMS == nil {
		return envelope.Request{}, fmt.Errorf("%w: no SMS provider", crypt.ErrInput)
	}
	s, err := env.SMS()
	if err != nil {
		return envelope.Request{}, err
	}
	req.SMS = &envelope.SMS{Policy: s.policy(), To: strings.TrimSpace(f.Phone)}
	return req, nil
}
