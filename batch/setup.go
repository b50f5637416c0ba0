package batch

import (
	"errors"
	"fmt"
	"net/mail"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/mailrelay"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
)

// SetupError is a set-up the run cannot start with (exit 2 in the CLI),
// with the next step for the user. It wraps crypt.ErrInput.
type SetupError struct {
	Err  error
	Hint string // what to do; may be empty
}

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() []error {
	return []error{crypt.ErrInput, e.Err}
}

// DefaultMail is the e-mail step when none was chosen: drafts when the
// manifest has an e-mail column, else none.
func DefaultMail(m *Manifest) string {
	if m.HasEmail {
		return MailDraft
	}
	return MailNone
}

// MailEnv is the mail relay's settings ([MailEnvFrom]).
type MailEnv struct {
	SMTPURL      string
	SMTPPassword string
	MailFrom     string // overrides config's mail_from
}

// SetupMail sets the e-mail step of o: mode ("" is [DefaultMail]) and,
// for MailSend, the relay and the sender's address. The CLI (--mail) and
// the desktop app share it.
func SetupMail(o *Options, mode string, m *Manifest, cfg *config.Config, env MailEnv) error {
	switch mode {
	case "":
		mode = DefaultMail(m)
	case MailNone, MailDraft, MailSend:
	default:
		return &SetupError{Err: fmt.Errorf("--mail is draft, send or none, not %q", mode)}
	}
	o.Mail = mode
	if mode != MailSend {
		return nil
	}
	if !m.HasEmail {
		return &SetupError{Err: errors.New("--mail send needs an e-mail column (email or epost) in the manifest")}
	}
	if env.SMTPURL == "" {
		return &SetupError{Err: errors.New("--mail send needs the organisation's mail relay"),
			Hint: "set KUVERT_SMTP_URL=smtp://USER@HOST:587 (STARTTLS) or smtps://USER@HOST:465, and the relay password in KUVERT_SMTP_PASSWORD"}
	}
	r, err := mailrelay.Parse(env.SMTPURL, env.SMTPPassword)
	if err != nil {
		return &SetupError{Err: err}
	}
	o.Mailer = r
	o.MailFrom = env.MailFrom
	if o.MailFrom == "" && cfg != nil {
		o.MailFrom = cfg.MailFrom
	}
	if a, err := mail.ParseAddress(o.MailFrom); err != nil || a.Address != o.MailFrom {
		return &SetupError{Err: fmt.Errorf("--mail send needs the sender's address, not %q", o.MailFrom),
			Hint: "set mail_from in config.json or KUVERT_MAIL_FROM=lon@kommun.se"}
	}
	return nil
}

// UseSMS makes pol (from providers.Build) the run's SMS policy: its
// provider, template, organisation and, unless o.Lang is set, language.
// rate is SMS per second; below 0 the provider's own limit
// ([sms.RateLimit]).
func (o *Options) UseSMS(pol *sms.Policy, rate float64) {
	o.Sender, o.Template, o.From = pol.Sender, pol.Template, pol.Organisation
	if o.Lang == "" {
		o.Lang = pol.Lang
	}
	o.SMSRate = rate
	if rate < 0 {
		o.SMSRate = sms.RateLimit(pol.Sender)
	}
}

// Attempted reports whether dir holds an earlier attempt of m's run
// (its state.json names the run): running m into dir again continues it.
func Attempted(m *Manifest, dir string) bool {
	st, err := readState(dir)
	return err == nil && st != nil && st.BatchID == m.ID
}

// Finished reports whether dir holds an earlier attempt of m's run in
// which every row of m came to an end: sent, sealed, already done, or
// only shown by the demo provider — the last only when this run's SMS
// provider is the demo too (demo): a run that can deliver seals such a
// row again and texts its new password, for nobody has the old one. A
// row that failed or never started leaves the run unfinished.
func Finished(m *Manifest, dir string, demo bool) bool {
	st, err := readState(dir)
	if err != nil || st == nil || st.BatchID != m.ID || len(m.Rows) == 0 {
		return false
	}
	ended := map[int]bool{}
	for _, r := range st.Rows {
		switch r.Result {
		case ResultSent, ResultResumed, ResultSealed, ResultDone:
			ended[r.Row] = true
		case ResultDemo:
			ended[r.Row] = demo
		}
	}
	for _, r := range m.Rows {
		if !ended[r.Num] {
			return false
		}
	}
	return true
}

// MailEnvFrom is the relay's part of the resolved settings; the password
// is read (from the keyring, maybe) only when a relay is set.
func MailEnvFrom(s *settings.Settings) MailEnv {
	env := MailEnv{SMTPURL: s.SMTPURL.Value, MailFrom: s.MailFrom.Value}
	if env.SMTPURL != "" {
		env.SMTPPassword = s.SMTPPassword.Reveal()
	}
	return env
}
