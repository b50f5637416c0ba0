package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// BatchOptions are the flags of `kuvert batch`.
type BatchOptions struct {
	Manifest    string
	OutDir      string
	Format      string
	Jobs        int
	DryRun      bool
	NoSMS       bool
	PasswordOut string
	SkipInvalid bool
	SMSRate     float64
	JSON        bool
	Quiet       bool
	From        string
	Lang        string
	Mail        string
	Run         string
	NewRun      bool
}

func newBatchCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &BatchOptions{}
	cmd := &cobra.Command{
		Use:   "batch [flags] MANIFEST.csv",
		Short: "Seal one archive per row, each password by SMS / Massutskick",
		Long: `Seal each row's files into its own archive with its own generated
password, text the password to that row's mobile, and log every row.

The manifest is a CSV with a header row, as Excel saves it (UTF-8 or
Windows-1252, "," or ";"). Columns: file (several separated by |), phone,
and optional name, email, case, output, format, recipient (an age key, no
SMS then). Swedish headers work too: fil, mobil, namn, epost,
diarienummer. Files are regular files in the manifest's folder or below
it, named relative to the manifest (no "..", absolute paths or links, and
nothing from kuvert's own folder); --dry-run lists them per row. Archive
names end in .zip or .age; addresses are ASCII or an internationalised
domain (mailed and reported in punycode).

The whole manifest is checked first; every problem is listed with its row
number and nothing is done (exit 2) unless --skip-invalid.

Running the same manifest again continues where it stopped: rows sealed and
delivered are skipped, failed rows are done again, and no row is ever
texted twice. report.csv in the output folder lists every row, never a
password. Exit 0 only when every row was sealed and delivered; exit 8 when
some rows were and others failed, were skipped as invalid or only shown by
the demo provider (a demo run delivers nothing); exit 5 when rows failed
and none was delivered; exit 2 for an invalid manifest.`,
		Example: `  kuvert batch lönekörning.csv
  kuvert batch --dry-run lönekörning.csv
  kuvert batch --no-sms --password-out lösenord.csv lista.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Manifest = args[0]
			if !cmd.Flags().Changed("sms-rate") {
				o.SMSRate = -1
			}
			return runBatch(cmd, f, g, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.OutDir, "out-dir", "", "write archives and report.csv to `DIR` (default: a dated folder beside the manifest)")
	fl.StringVarP(&o.Format, "format", "f", "zip", "zip or age (per row: the format column)")
	fl.IntVarP(&o.Jobs, "jobs", "j", 0, "rows sealed in parallel (default: 16 when rows are mailed or texted, which mostly waits; one per core otherwise and for age passphrases)")
	fl.BoolVar(&o.DryRun, "dry-run", false, "check the manifest and show what would happen; seal and send nothing")
	fl.BoolVar(&o.NoSMS, "no-sms", false, "send no SMS; requires --password-out")
	fl.StringVar(&o.PasswordOut, "password-out", "", "write the passwords to `FILE` (a 0600 CSV) instead of texting them")
	fl.BoolVar(&o.SkipInvalid, "skip-invalid", false, "process the valid rows and list the others")
	fl.Float64Var(&o.SMSRate, "sms-rate", 1, "SMS per second (default: 1 for Twilio, what a long code allows; no limit for console and outbox)")
	fl.BoolVar(&o.JSON, "json", false, "print one JSON line per row")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "print only errors")
	fl.StringVar(&o.From, "sender", "", "the organisation `NAME` each SMS shows, as recipients know it (default: organisation in config.json)")
	fl.StringVar(&o.Lang, "sms-lang", "", "sv or en")
	fl.StringVar(&o.Run, "run", "", "name the run `NAME` (e.g. lon-2026-11); the same name continues it")
	fl.BoolVar(&o.NewRun, "new-run", false, "start a fresh run of the manifest on purpose: every row is sealed and delivered again")
	fl.StringVar(&o.Mail, "mail", "", "the e-mail step for rows with an address: draft (one .eml per row in OUT/utkast; the default with an e-mail column), send (through KUVERT_SMTP_URL) or none")
	return cmd
}

func runBatch(cmd *cobra.Command, f *Factory, g *globalOptions, o *BatchOptions) error {
	s := f.IOStreams
	format, err := crypt.ParseFormat(o.Format)
	if err != nil {
		return usageError{err}
	}
	if o.NoSMS != (o.PasswordOut != "") {
		return usagef("--no-sms and --password-out go together: the passwords must reach the recipients some way")
	}
	// No input may come from kuvert's own folder (the log's signing key).
	a, err := f.App(g)
	if err != nil {
		return err
	}
	m, err := batch.Load(o.Manifest, batch.LoadOptions{NoSMS: o.NoSMS, Format: format, Home: a.Home()})
	if err != nil {
		return err
	}
	if len(m.Problems) > 0 {
		for _, p := range m.Problems {
			fmt.Fprintf(s.ErrOut, "kuvert: %s: %s\n", o.Manifest, problemText(p))
		}
		if !o.SkipInvalid || len(m.Rows) == 0 {
			return withHint(usagef("the manifest has %d %s; nothing was sealed or sent", len(m.Problems), plural(len(m.Problems), "problem", "problems")), "fix the rows above, or add --skip-invalid to process the valid rows")
		}
		fmt.Fprintf(s.ErrOut, "kuvert: skipping %d invalid %s, processing %d\n", len(m.Problems), plural(len(m.Problems), "row", "rows"), len(m.Rows))
	}
	l, cfg, err := a.OpenLog()
	if err != nil {
		return err
	}
	if err := batch.SelectRun(l, m, o.Run, o.NewRun); err != nil {
		return err
	}
	opts := batch.Options{OutDir: o.OutDir, Jobs: o.Jobs, DryRun: o.DryRun, NoSMS: o.NoSMS, PasswordOut: o.PasswordOut, Log: l, Operator: cfg.Operator.Value,
		OpenerURL: cfg.OpenerURL.Value, Lang: o.Lang, Words: describe}
	if err := batchMail(&opts, o.Mail, m, cfg); err != nil {
		return err
	}
	if o.NoSMS && !o.Quiet {
		fmt.Fprintf(s.ErrOut, "kuvert: WARNING: the passwords are written to %s in plain text. Keep it safe, deliver them another way, and delete the file.\nkuvert: VARNING: lösenorden skrivs i klartext till %s. Skydda filen och radera den efteråt.\n", o.PasswordOut, o.PasswordOut)
	}
	if !o.NoSMS {
		// The demo provider's box would show each password on stderr,
		// which a scheduled run mails to whoever reads cron mail: batch
		// shows none (the summary says DEMO; nothing was sent).
		pol, err := f.smsPolicyTo(io.Discard, cfg, o.From, o.Lang)
		if err != nil {
			return err
		}
		opts.UseSMS(pol, o.SMSRate) // below 0: the provider's own limit
	}
	var bar *progressbar.ProgressBar
	if s.ErrTTY && !o.JSON && !o.Quiet && !o.DryRun {
		bar = progressbar.NewOptions(len(m.Rows), progressbar.OptionSetWriter(s.ErrOut),
			progressbar.OptionSetDescription("Rader / rows"), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish())
	}
	failed := 0
	opts.OnRow = func(r batch.RowResult) {
		switch {
		case o.JSON:
			writeJSONLine(s, r)
		case o.DryRun:
			mail := ""
			if r.Mail != "" {
				mail = fmt.Sprintf(", e-post %s (%s)", r.Email, r.Mail)
			}
			fmt.Fprintf(s.Out, "rad %d: %s → %s%s, sms %s\n", r.Row, r.Name, r.Archive, mail, orDash(r.To))
			for _, in := range r.Inputs {
				fmt.Fprintf(s.Out, "  fil / file: %s\n", in)
			}
		}
		if r.Result == batch.ResultFailed {
			failed++
			if !o.JSON {
				fmt.Fprintf(s.ErrOut, "kuvert: row %d (%s): %s\n", r.Row, orDash(r.Name), r.Error)
			}
		}
		if bar != nil {
			bar.Describe(fmt.Sprintf("Rader / rows (%d misslyckade / failed)", failed))
			bar.Add(1)
		}
	}
	sum, err := app.RunBatch(cmd.Context(), m, opts)
	if bar != nil {
		bar.Finish()
	}
	if sum != nil && !o.Quiet && !o.JSON && !o.DryRun {
		demo := ""
		if sum.Demo > 0 {
			demo = fmt.Sprintf(" + %d DEMO: förseglade, inget sms skickat / sealed, no SMS sent", sum.Demo)
		}
		skipped := ""
		if sum.Skipped > 0 {
			skipped = fmt.Sprintf(", %d överhoppade (ogiltiga) / skipped (invalid)", sum.Skipped)
		}
		fmt.Fprintf(s.ErrOut, "Klart / done: %d förseglade / sealed%s, %d redan klara / already done, %d misslyckade / failed%s → %s\n", sum.Done, demo, sum.AlreadyDone, sum.Failed, skipped, sum.OutDir)
		if sum.Demo > 0 {
			fmt.Fprintf(s.ErrOut, "kuvert: DEMO: inget lösenord nådde någon mottagare; ställ in en sms-leverantör (se docs/sms.md) / no password reached any recipient; configure an SMS provider (see docs/sms.md)\n")
		}
		if sum.Interrupted {
			fmt.Fprintf(s.ErrOut, "kuvert: interrupted: rows not started are listed as such; run the same command again to continue\n")
		}
	}
	if err != nil {
		return err // exitTable gives its code and hint
	}
	if sum.Interrupted {
		return errors.New("interrupted")
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// batchMail sets up the e-mail step (batch.SetupMail, shared with the
// desktop app): --mail, or drafts by default when the manifest has an
// e-mail column. Sending needs the relay (KUVERT_SMTP_URL, its password
// in KUVERT_SMTP_PASSWORD or the OS keyring) and the sender's address
// (KUVERT_MAIL_FROM or mail_from in the config).
func batchMail(opts *batch.Options, mode string, m *batch.Manifest, cfg *settings.Settings) error {
	err := batch.SetupMail(opts, mode, m, cfg.File, batch.MailEnvFrom(cfg))
	var se *batch.SetupError
	if errors.As(err, &se) {
		if se.Hint != "" {
			return withHint(usageError{se.Err}, se.Hint)
		}
		return usageError{se.Err}
	}
	return err
}
