package cli

import (
	"context"
	"fmt"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/internal/bytesize"
	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/naming"
)

// EncryptOptions are the flags of `kuvert encrypt`.
type EncryptOptions struct {
	Inputs          []string
	Output          string
	Format          string
	Recipients      []string
	RecipientsFiles []string
	Armor           bool
	Force           bool
	PasswordFile    string
	PasswordEnv     bool // read the password from KUVERT_PASSWORD
	WeakOK          bool
	Words           int
	JSON            bool
	Quiet           bool
	Case            string
	Note            string
	SMS             string // recipient's mobile number
	SMSFrom         string // sender name shown in the SMS
	SMSLang         string
	HideNames       bool
	Fast            bool
	NoScan          bool
	EML             string // recipient's e-mail address for a draft
	Subject         string
	formatSet       bool // --format given explicitly
}

// encryptResult is the --json output.
type encryptResult struct {
	*crypt.SealResult
	Password     string      `json:"password,omitempty"`
	PasswordBits float64     `json:"password_bits,omitempty"`
	Skipped      []string    `json:"skipped,omitempty"`
	LogEntry     string      `json:"log_entry"`
	SMS          *smsResult  `json:"sms,omitempty"`
	Scan         *scanResult `json:"scan"`
	Draft        string      `json:"draft,omitempty"`
}

type scanResult struct {
	Personnummer int      `json:"personnummer"`
	Files        int      `json:"files"`
	NotScanned   []string `json:"not_scanned,omitempty"`
	NamesHidden  bool     `json:"names_hidden"`
	Skipped      bool     `json:"skipped,omitempty"`
}

type smsResult struct {
	Provider string `json:"provider"`
	To       string `json:"to"` // masked
	ID       string `json:"id"`
	Status   string `json:"status"`
	Ref      string `json:"ref"`
	// Demo is true when nothing was sent (the console demo).
	Demo bool `json:"demo,omitempty"`
}

func newEncryptCmd(f *Factory, g *globalOptions, runF func(context.Context, *EncryptOptions) error) *cobra.Command {
	o := &EncryptOptions{}
	cmd := &cobra.Command{
		Use:   "encrypt [flags] FILE...",
		Short: "Seal files into a password-protected archive / Kryptera filer",
		Long: `Seal one or more files or folders into one archive.

By default kuvert writes an AES-256 zip beside the first file and generates
a strong password, shown once. Send the archive by e-mail and the password
another way, for example by SMS.

Som standard skriver kuvert en AES-256-zip bredvid den första filen och
skapar ett starkt lösenord som visas en gång. Skicka arkivet med e-post och
lösenordet på annat sätt, till exempel med sms.`,
		Example: `  kuvert encrypt lönelista.xlsx
  kuvert encrypt --format age -r age1... rapport.pdf
  kuvert encrypt --password-file pw.txt -o bilagor.zip mapp/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Inputs = args
			o.formatSet = cmd.Flags().Changed("format")
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runEncrypt(cmd.Context(), f, g, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Output, "output", "o", "", "write the archive to `PATH`")
	fl.StringVarP(&o.Format, "format", "f", "zip", "archive format: zip (AES-256) or age")
	fl.StringArrayVarP(&o.Recipients, "recipient", "r", nil, "age public key (age1…, age1pq1…, ssh-…); implies --format age")
	fl.StringArrayVarP(&o.RecipientsFiles, "recipients-file", "R", nil, "file of age recipients, one a line")
	fl.BoolVarP(&o.Armor, "armor", "a", false, "age: write ASCII text instead of binary")
	fl.BoolVar(&o.Force, "force", false, "replace an existing output file")
	fl.StringVar(&o.PasswordFile, "password-file", "", "read the password from `FILE` (- for standard input) instead of generating one")
	fl.BoolVar(&o.PasswordEnv, "password-env", false, "read the password from the environment variable KUVERT_PASSWORD instead of generating one")
	fl.BoolVar(&o.WeakOK, "weak-password-ok", false, "accept a user password below 64 bits of estimated strength")
	fl.IntVar(&o.Words, "words", 0, "generate a passphrase of `N` words instead of characters")
	fl.BoolVar(&o.JSON, "json", false, "print the result as one JSON object")
	fl.BoolVarP(&o.Quiet, "quiet", "q", false, "print nothing but errors and the password")
	fl.StringVar(&o.Case, "case", "", "case number (diarienummer) for the compliance log")
	fl.StringVar(&o.Note, "note", "", "a note for the compliance log (never the password)")
	fl.StringVar(&o.SMS, "sms", "", "text the password to this mobile `NUMBER` (then it is shown nowhere else)")
	fl.StringVar(&o.SMSFrom, "sender", "", "your organisation's name as the SMS shows it (default: organisation in config.json)")
	fl.StringVar(&o.SMSLang, "sms-lang", "", "language of the SMS text and e-mail draft: sv (default) or en")
	fl.BoolVar(&o.HideNames, "hide-names", false, "keep file names out of the zip's clear directory (automatic when a name holds a personnummer)")
	fl.BoolVar(&o.Fast, "fast", false, "zip: compress about five times faster for a somewhat larger archive (about 1.2× 7-Zip's size)")
	fl.BoolVar(&o.NoScan, "no-scan", false, "do not scan the contents for personnummer (for huge inputs)")
	fl.StringVar(&o.EML, "eml", "", "also write a ready e-mail draft to `ADDRESS` beside the archive (ARCHIVE.eml)")
	fl.StringVar(&o.Subject, "subject", "", "subject of the e-mail draft (default: neutral; a personnummer is refused)")
	return cmd
}

func runEncrypt(ctx context.Context, f *Factory, g *globalOptions, o *EncryptOptions) error {
	s := f.IOStreams
	format, err := crypt.ParseFormat(o.Format)
	if err != nil {
		return usageError{err}
	}
	var recips []age.Recipient
	for _, r := range o.Recipients {
		rc, err := crypt.ParseRecipient(r)
		if err != nil {
			return err
		}
		recips = append(recips, rc)
	}
	for _, path := range o.RecipientsFiles {
		rs, err := crypt.ReadRecipientsFile(path)
		if err != nil {
			return err
		}
		recips = append(recips, rs...)
	}
	if len(recips) > 0 {
		if format == crypt.FormatZip && o.formatSet {
			return usagef("age recipients (-r, -R) cannot be used with --format zip")
		}
		format = crypt.FormatAge
	}
	if o.Armor && format != crypt.FormatAge {
		return usagef("--armor is for --format age")
	}

	if o.Subject != "" {
		if o.EML == "" {
			return usagef("--subject is for the e-mail draft: add --eml ADDRESS")
		}
		if err := envelope.CheckSubject(o.Subject); err != nil {
			return withHint(err, "write the subject without the personnummer, e.g. \"Lönelista november\" or just leave --subject out")
		}
	}
	inputs, skipped, err := crypt.CollectInputs(o.Inputs)
	if err != nil {
		return err
	}
	for _, sk := range skipped {
		if !o.Quiet && !o.JSON {
			fmt.Fprintf(s.ErrOut, "kuvert: skipping %s (not a regular file)\n", termsafe.Escape(sk))
		}
	}

	var pw crypt.Password
	if len(recips) > 0 && (o.PasswordFile != "" || o.PasswordEnv) {
		return usagef("give either age recipients or a password (--password-file, --password-env), not both")
	}
	if o.PasswordFile != "" && o.PasswordEnv {
		return usagef("give either --password-file or --password-env, not both")
	}
	// KUVERT_PASSWORD is read only when asked for: a variable left from an
	// earlier session must not silently replace the generated password.
	secret := ""
	switch {
	case o.PasswordEnv:
		if secret = f.Getenv("KUVERT_PASSWORD"); secret == "" {
			return usagef("--password-env reads KUVERT_PASSWORD, which is not set or empty")
		}
		if secret, err = checkSecret(secret); err != nil {
			return err
		}
	case o.PasswordFile != "":
		if secret, err = readSecret(f, o.PasswordFile); err != nil {
			return err
		}
	case f.Getenv("KUVERT_PASSWORD") != "" && len(recips) == 0 && o.Words == 0:
		fmt.Fprintf(s.ErrOut, "kuvert: obs: KUVERT_PASSWORD används inte, ett nytt lösenord skapas (--password-env läser den)\nkuvert: note: KUVERT_PASSWORD is not used, a new password is generated (--password-env reads it)\n")
	}
	switch {
	case len(recips) > 0:
		if o.Words > 0 {
			return usagef("--words generates a password; it does not apply to age recipients")
		}
	case secret != "":
		if o.Words > 0 {
			return usagef("--words generates a password; it cannot be combined with --password-file or --password-env")
		}
		pw, err = crypt.UserPassword(secret, o.WeakOK)
		if err != nil {
			return err
		}
		if format == crypt.FormatZip {
			// Before anything is read, sealed or logged: 7-Zip could
			// not open the archive.
			if err := crypt.CheckZipPassword(pw.Value); err != nil {
				return zipPasswordRefusal(err)
			}
		}
	default:
		if err := checkGenSize(0, o.Words); err != nil {
			return err
		}
		pw, err = crypt.Generate(crypt.GenOptions{Words: o.Words})
		if err != nil {
			return usageError{err}
		}
	}

	out := o.Output
	if out == "" {
		out = naming.Beside(inputs, format, o.Inputs)
	}
	a, err := f.App(g)
	if err != nil {
		return err
	}
	log, cfg, err := a.OpenLog()
	if err != nil {
		return err // before sealing: nothing is sealed without a record
	}
	req := envelope.Request{
		Seal: crypt.SealOptions{
			Inputs: inputs, Output: out, Format: format, Password: pw,
			Recipients: recips, Armor: o.Armor, Force: o.Force, HideNames: o.HideNames, Fast: o.Fast,
		},
		Case: o.Case, Note: o.Note, Operator: cfg.Operator.Value, NoScan: o.NoScan,
	}
	if o.SMS != "" {
		pol, err := f.smsPolicy(cfg, o.SMSFrom, o.SMSLang)
		if err != nil {
			return err
		}
		req.SMS = &envelope.SMS{Policy: pol, To: o.SMS}
	}
	if o.EML != "" {
		// Checked with everything else before sealing (envelope.Seal).
		req.Draft = &envelope.Draft{To: o.EML, Subject: o.Subject, Lang: o.SMSLang, ByAge: format == crypt.FormatAge, Force: o.Force, OpenerURL: cfg.OpenerURL.Value}
	}
	prog := newProgress(s, o.Quiet || o.JSON, totalSize(inputs), "Krypterar / Sealing")
	req.Seal.Progress = prog.add
	sealed, err := app.Seal(ctx, log, req)
	prog.done()
	if err != nil {
		return err
	}
	res := sealed.SealResult

	draft := sealed.Draft
	showPassword := pw.Origin == "generated" && sealed.Delivery == nil
	if o.JSON {
		r := encryptResult{SealResult: res, Skipped: skipped, LogEntry: sealed.Entry.ID}
		if showPassword {
			r.Password, r.PasswordBits = pw.Value, pw.Bits
		}
		if d := sealed.Delivery; d != nil {
			r.SMS = &smsResult{Provider: d.Provider, To: d.To, ID: d.ID, Status: string(d.Status), Ref: d.Ref, Demo: d.Demo}
		}
		r.Draft = draft
		sc := sealed.Scan
		r.Scan = &scanResult{Personnummer: sc.Personnummer, Files: sc.Files, NotScanned: sc.NotScanned, NamesHidden: sc.NamesHidden, Skipped: sc.Skipped}
		return writeJSON(s, r)
	}
	if !o.Quiet {
		fmt.Fprintf(s.ErrOut, "Krypterat / Sealed: %s (%s, %d %s, %s)\n", res.Archive, formatName(res.Format), len(res.Files), plural(len(res.Files), "fil/file", "filer/files"), bytesize.Human(res.Size))
	}
	if !o.Quiet {
		fmt.Fprint(s.ErrOut, archivePathNote(res.Archive))
	}
	if !o.Quiet {
		sc := sealed.Scan
		if sc.Personnummer > 0 {
			fmt.Fprintf(s.ErrOut, "Förseglade %d personnummer i %d %s / sealed %d personnummer in %d %s\n", sc.Personnummer, sc.Files, plural(sc.Files, "fil", "filer"), sc.Personnummer, sc.Files, plural(sc.Files, "file", "files"))
		}
		if sc.NamesHidden {
			fmt.Fprintf(s.ErrOut, "Filnamnen döljs i arkivet (%s) / file names are hidden in the archive\n", crypt.HiddenNamesEntry)
		}
		for _, n := range sc.NotScanned {
			fmt.Fprintf(s.ErrOut, "kuvert: note: %s could not be scanned for personnummer\n", termsafe.Escape(n))
		}
		if draft != "" {
			fmt.Fprintf(s.ErrOut, "E-postutkast / e-mail draft: %s\n", draft)
		}
	}
	if d := sealed.Delivery; d != nil && d.Demo {
		// Even with --quiet: the password reached nobody.
		fmt.Fprint(s.ErrOut, demoNote)
		if !o.Quiet {
			fmt.Fprintf(s.Out, "Referens / Reference: %s\n", d.Ref)
		}
	} else if d != nil && !o.Quiet {
		if auditlog.Status(d.Status).Sent() {
			fmt.Fprintf(s.ErrOut, "Lösenordet skickades med sms till / the password was texted to %s (%s, %s)\n", d.To, d.Provider, d.Status)
		} else {
			// The outbox writes a file for another route; nothing was sent.
			fmt.Fprintf(s.ErrOut, "Sms:et skrevs till utkorgen, inte skickat / the SMS was written to the outbox, not sent: %s (%s)\n", d.To, d.Provider)
		}
		fmt.Fprintf(s.Out, "Referens / Reference: %s\n", d.Ref)
		fmt.Fprintf(s.ErrOut, "  Skriv referensen i e-posten så att mottagaren kan para ihop sms och bilaga.\n  Put the reference in the e-mail so the recipient can match SMS and attachment.\n")
	}
	if showPassword {
		fmt.Fprintf(s.Out, "Lösenord / Password: %s\n", pw.Value)
		if !o.Quiet {
			fmt.Fprintf(s.ErrOut, "  Lösenordet visas bara nu. Skicka det på annat sätt än e-post, t.ex. sms.\n  The password is shown only now. Send it another way than e-mail, e.g. SMS.\n")
		}
	}
	return nil
}

func formatName(f string) string {
	if f == "zip-aes256" {
		return "AES-256 zip"
	}
	return f
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func totalSize(ins []crypt.Input) int64 {
	var n int64
	for _, in := range ins {
		n += in.Size
	}
	return n
}
