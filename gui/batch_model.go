package gui

import (
	"errors"
	"sort"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// batchForm is the Massutskick view's state without widgets: the chosen
// manifest as batch.Load validated it, the e-mail step, and the run it
// continues. All rules are batch's: the problems are batch.Load's own
// messages (the CLI prints the same), the mail set-up is
// batch.SetupMail, the SMS set-up batch.Options.UseSMS.
type batchForm struct {
	Path     string          // the manifest
	Manifest *batch.Manifest // nil until loaded
	LoadErr  error           // the manifest could not be read at all
	Mail     string          // batch.MailDraft, MailSend, MailNone; "" the default (batch.DefaultMail)
	OutDir   string          // the run's folder (batch.OutDir: a dated folder beside the manifest, or the earlier run's)
	Resumes  bool            // OutDir holds an earlier attempt of this run: starting continues it
	Finished bool            // that attempt ended every row for this run's SMS provider (batch.Finished): nothing is left to do
	Demo     bool            // the SMS provider Finished was judged for only shows its texts
	Jobs     int             // rows in parallel; 0: batch.DefaultJobs
}

// Load reads and validates the manifest at path, picks its run (the
// latest in the log, as a plain `kuvert batch` does) and its folder. The
// mail step goes back to the manifest's default. home is kuvert's own
// folder, which no input may come from. demo: the SMS provider only
// shows its texts (a row an earlier demo run only showed is finished
// then, and sealed again by a run that can deliver).
func (f *batchForm) Load(path, home string, l *auditlog.Log, format crypt.Format, demo bool) {
	*f = batchForm{Path: path, Jobs: f.Jobs}
	if format == "" {
		format = crypt.FormatZip
	}
	m, err := batch.Load(path, batch.LoadOptions{Format: format, Home: home})
	if err != nil {
		f.LoadErr = err
		return
	}
	if l != nil {
		if err := batch.SelectRun(l, m, "", false); err != nil {
			f.LoadErr = err
			return
		}
	}
	f.Manifest = m
	if len(m.Rows) > 0 {
		f.OutDir = batch.OutDir(m)
		f.Resumes = batch.Attempted(m, f.OutDir)
		f.Finished = batch.Finished(m, f.OutDir, demo)
	}
	f.Demo = demo
}

// Rejudge decides Resumes and Finished again from the run's folder for a
// provider that delivers (demo false) or only shows (true): a row only
// the demo provider showed is finished for a demo run, not for one that
// can text the recipient.
func (f *batchForm) Rejudge(demo bool) {
	f.Demo = demo
	if f.Manifest == nil || len(f.Manifest.Rows) == 0 {
		return
	}
	f.Resumes = batch.Attempted(f.Manifest, f.OutDir)
	f.Finished = batch.Finished(f.Manifest, f.OutDir, demo)
}

// Problems are every problem batch.Load found, in row order.
func (f *batchForm) Problems() []batch.Problem {
	if f.Manifest == nil {
		return nil
	}
	return f.Manifest.Problems
}

// CanStart: a manifest without a problem (the desktop app has no
// --skip-invalid: the user fixes the rows and chooses the file again).
func (f *batchForm) CanStart() bool {
	return f.Manifest != nil && f.LoadErr == nil && len(f.Manifest.Problems) == 0 && len(f.Manifest.Rows) > 0
}

// MailMode is the e-mail step the run will take: the chosen one, or the
// CLI's default (drafts when the manifest has an e-mail column).
func (f *batchForm) MailMode() string {
	if f.Mail != "" {
		return f.Mail
	}
	if f.Manifest == nil {
		return batch.MailNone
	}
	return batch.DefaultMail(f.Manifest)
}

// batchLine is one line of the view's table: a valid row, or an invalid
// one with its problems.
type batchLine struct {
	Row     int
	Name    string
	File    string
	Number  string // masked
	Problem string
}

// Lines are the manifest's rows in order, each valid row with its name,
// first file and masked number, each invalid one with all its problems;
// problems with the header or the file as a whole come first (row 0/1).
func (f *batchForm) Lines() []batchLine {
	if f.Manifest == nil {
		return nil
	}
	at := map[int]int{}
	var out []batchLine
	for _, r := range f.Manifest.Rows {
		file := ""
		if len(r.Files) > 0 {
			file = filepathBase(r.Files[0])
			if len(r.Files) > 1 {
				file += " …"
			}
		}
		num := ""
		if r.Phone != "" {
			num = sms.MaskNumber(r.Phone)
		}
		at[r.Num] = len(out)
		out = append(out, batchLine{Row: r.Num, Name: r.Name, File: file, Number: num})
	}
	for _, p := range f.Manifest.Problems {
		if i, ok := at[p.Row]; ok && p.Row > 1 {
			out[i].Problem += "; " + rowProblem(p.Err)
			continue
		}
		at[p.Row] = len(out)
		num := p.Phone // as written when it is no number, to be corrected
		if ph, err := sms.ParseMobile(p.Phone); err == nil {
			num = sms.MaskNumber(ph)
		}
		out = append(out, batchLine{Row: p.Row, Name: p.Name, File: p.File, Number: num, Problem: rowProblem(p.Err)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Row < out[j].Row })
	return out
}

// batchEnv is what a run takes from outside the form.
type batchEnv struct {
	Log    *auditlog.Log
	Config *config.Config
	SMS    *sms.Policy   // providers.Build's policy (resolveSMS)
	Relay  batch.MailEnv // for batch.MailSend
}

// Options builds the run for batch.Run the way `kuvert batch` does:
// the provider's own SMS rate, passwords only by SMS (never shown), the
// e-mail step by batch.SetupMail.
func (f *batchForm) Options(env batchEnv) (batch.Options, error) {
	if f.LoadErr != nil {
		return batch.Options{}, f.LoadErr
	}
	if !f.CanStart() {
		return batch.Options{}, &batch.SetupError{Err: errNotStartable(f)}
	}
	// Jobs 0: batch's own default, as the CLI's (batch.DefaultJobs).
	o := batch.Options{OutDir: f.OutDir, Jobs: f.Jobs, Log: env.Log, Words: describe}
	if env.Config != nil {
		o.Operator, o.OpenerURL = env.Config.Operator, env.Config.OpenerURL
	}
	if err := batch.SetupMail(&o, f.Mail, f.Manifest, env.Config, env.Relay); err != nil {
		return batch.Options{}, err
	}
	if env.SMS == nil {
		return batch.Options{}, &batch.SetupError{Err: errNoProvider}
	}
	o.UseSMS(env.SMS, -1)
	return o, nil
}

func filepathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

var errNoProvider = errorString("no SMS provider")

type errorString string

func (e errorString) Error() string { return string(e) }

func errNotStartable(f *batchForm) error {
	if f.Manifest == nil {
		return errorString("no manifest chosen")
	}
	return errorString("the manifest has problems; nothing was sealed or sent")
}

// rowProblem is one of a list row's problems in the window's language: a
// mobile number as the seal form says it, the rest through the catalog.
func rowProblem(err error) string {
	var ne *sms.NumberError
	if errors.As(err, &ne) {
		return numberProblem(err)
	}
	return describe(err)
}
