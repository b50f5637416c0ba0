package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
)

// ResendOptions are the flags of `kuvert resend`.
type ResendOptions struct {
	Ref     string
	Batch   string // batch id, or a batch's output folder (state.json)
	Row     int
	SMS     string // the recipient's number, typed again
	Dir     string // where the source files are
	Output  string
	EML     string
	SMSFrom string
	SMSLang string
}

func newResendCmd(f *Factory, g *globalOptions) *cobra.Command {
	o := &ResendOptions{}
	cmd := &cobra.Command{
		Use:   "resend REF --sms NUMBER | resend --batch ID --row N --sms NUMBER",
		Short: "Seal again with a new password when an SMS was lost / Skicka igen med nytt lösenord",
		Long: `A recipient lost the SMS: seal the same source files again with a NEW
generated password, text it to the same number, and record in the
compliance log that the new sealing supersedes the old one.

The number is not in the log (it is masked), so give it again with --sms;
kuvert checks it against the masked number. The source files are looked up
by the names the log holds, in --dir (default: the current folder; for a
batch given by its output folder, the manifest's folder), and must be
byte-identical (SHA-256) to what was sealed. The old archive is left as it
is: it may already have been sent, and it opens only with the old password.

En mottagare har tappat bort sms:et: kuvert förseglar samma filer igen med
ett NYTT lösenord, skickar det till samma nummer och loggar att den nya
förseglingen ersätter den gamla. Numret måste anges igen (--sms) och måste
stämma med det maskerade numret i loggen. Filerna måste vara oförändrade.`,
		Example: `  kuvert resend k7m2qa --sms 070-123 45 67
  kuvert resend k7m2qa --sms 0701234567 --eml anna@example.se
  kuvert resend --batch lön-2026-11-23 --row 12 --sms 0701234520`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Ref = args[0]
			}
			return runResend(cmd.Context(), f, g, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.SMS, "sms", "", "the recipient's mobile `NUMBER`, typed again (checked against the log's masked number)")
	fl.StringVar(&o.Batch, "batch", "", "resend a batch row: the batch `ID` (or the batch's output folder)")
	fl.IntVar(&o.Row, "row", 0, "the batch row `N` to resend (with --batch)")
	fl.StringVar(&o.Dir, "dir", "", "folder holding the source files (default: the current folder)")
	fl.StringVarP(&o.Output, "output", "o", "", "write the new archive to `PATH` (default: the old name with the new reference, in --dir)")
	fl.StringVar(&o.EML, "eml", "", "also write an e-mail draft to `ADDRESS` beside the new archive (ARCHIVE.eml)")
	fl.StringVar(&o.SMSFrom, "sender", "", "your organisation's name as the SMS shows it (default: organisation in config.json)")
	fl.StringVar(&o.SMSLang, "sms-lang", "", "language of the SMS text and e-mail draft: sv (default) or en")
	return cmd
}

// refusal is a resend kuvert will not do: Swedish first, English beside.
func refusal(sv, en, hint string) error {
	return withHint(usageError{errors.New(sv + " / " + en)}, hint)
}

func runResend(ctx context.Context, f *Factory, g *globalOptions, o *ResendOptions) error {
	s := f.IOStreams
	switch {
	case o.Ref == "" && o.Batch == "":
		return usagef("give the SMS reference (kuvert resend REF) or a batch row (--batch ID --row N)")
	case o.Ref != "" && o.Batch != "":
		return usagef("give either a reference or --batch, not both")
	case o.Batch != "" && o.Row < 1:
		return usagef("--batch needs --row N (the row number in the report)")
	case o.Batch == "" && o.Row != 0:
		return usagef("--row is for --batch")
	case o.SMS == "":
		return withHint(usagef("the recipient's number is needed again: the log keeps it masked"), "add --sms NUMBER, the same number the first SMS went to")
	}
	a, err := f.App(g)
	if err != nil {
		return err
	}
	res, err := a.Resend(ctx, app.ResendRequest{
		Ref: o.Ref, Batch: o.Batch, Row: o.Row, To: o.SMS, Dir: o.Dir, Output: o.Output, Email: o.EML, Lang: o.SMSLang,
		Policy: func(cfg *settings.Settings) (*sms.Policy, error) { return f.smsPolicy(cfg, o.SMSFrom, o.SMSLang) },
	})
	var r *app.Refusal
	if errors.As(err, &r) {
		return resendRefusal(r)
	}
	if err != nil {
		return err
	}
	e, sealed := res.Old, res.Sealed
	fmt.Fprintf(s.ErrOut, "Krypterat igen / sealed again: %s (ersätter / supersedes %s)\n", sealed.Archive, e.ID)
	if sealed.Draft != "" {
		fmt.Fprintf(s.ErrOut, "E-postutkast / e-mail draft: %s\n", sealed.Draft)
	}
	d := sealed.Delivery
	switch {
	case d.Demo:
		fmt.Fprint(s.ErrOut, demoNote)
	case auditlog.Status(d.Status).Sent():
		fmt.Fprintf(s.ErrOut, "Det nya lösenordet skickades med sms till / the new password was texted to %s (%s, %s)\n", d.To, d.Provider, d.Status)
	default:
		fmt.Fprintf(s.ErrOut, "Sms:et skrevs till utkorgen, inte skickat / the SMS was written to the outbox, not sent: %s (%s)\n", d.To, d.Provider)
	}
	fmt.Fprintf(s.Out, "Referens / Reference: %s\n", d.Ref)
	oldName := "det gamla arkivet"
	if e.Archive != nil {
		oldName = e.Archive.Name
	}
	fmt.Fprintf(s.ErrOut, "  Skicka det nya arkivet; %s ligger kvar och öppnas bara med det gamla lösenordet.\n  Send the new archive; %s stays as it was and opens only with the old password.\n", oldName, oldName)
	return nil
}

// anew is the hint of a refusal after which only a new sealing helps.
const anew = "seal the files anew with 'kuvert encrypt --sms NUMBER'"

// refusalWords are the refused resends in words, Swedish first: the two
// formats take what args picks from the refusal.
var refusalWords = map[app.Reason]struct {
	sv, en string
	args   func(r *app.Refusal) []any
	hint   string
}{
	app.NoSMS: {"förseglingen %s skickade inget sms, så det finns inget att skicka igen", "the sealing %s sent no SMS, so there is nothing to resend",
		sealingArg, "give the password the way it was given the first time, or seal anew with 'kuvert encrypt --sms NUMBER'"},
	app.Removed: {"arkivet från %s togs bort igen, lösenordet nådde ingen", "the archive of %s was removed again, its password reached nobody",
		sealingArg, anew},
	app.NumberMismatch: {"numret %s stämmer inte med loggens %s", "the number %s does not match the log's %s",
		func(r *app.Refusal) []any { return []any{r.Given, r.Logged} }, firstNumber},
	app.NumberTag: {"numret %s är inte det som förra sms:et gick till", "the number %s is not the one the first SMS went to",
		func(r *app.Refusal) []any { return []any{r.Given} }, firstNumber},
	app.FilesUnlisted: {"loggen listar inte alla filer i %s (fler än %d, eller gallrade)", "the log does not list every file of %s (more than %d, or pruned)",
		func(r *app.Refusal) []any { return []any{r.Sealing, auditlog.MaxFiles} }, anew},
	app.NameNotLocal: {"loggen har ett filnamn som inte går att leta upp: %s", "the log holds a file name that cannot be looked up: %s",
		nameArg, anew},
	app.NameMasked: {"loggen har filnamnet %s maskerat (personnummer), så kuvert kan inte hitta filen", "the log holds the file name %s masked (personnummer), so kuvert cannot find the file",
		nameArg, anew},
	app.SourceGone: {"källfilen %s finns inte längre", "the source file %s is gone",
		pathArg, "kuvert seals only the very files it sealed before; give their folder with --dir, or seal anew with 'kuvert encrypt --sms NUMBER'"},
	app.SourceChanged: {"källfilen %s har ändrats sedan den förseglades (SHA-256 skiljer sig)", "the source file %s changed since it was sealed (SHA-256 differs)",
		pathArg, "a resend carries the same files; to send the changed ones, seal anew with 'kuvert encrypt --sms NUMBER'"},
	app.NoBatchRow: {"loggen har ingen försegling för utskick %s rad %d", "the log has no sealing for batch %s row %d",
		func(r *app.Refusal) []any { return []any{r.Batch, r.Row} }, "the batch id is in the report's folder (state.json) and in 'kuvert log list'; the row number is the report's"},
	app.RefPruned: {"loggen har inte längre förseglingen med referensen %s (gallrad), så filerna är okända", "the log no longer holds the sealing with the reference %s (pruned), so its files are unknown",
		refArg, anew},
	app.RefUnknown: {"referensen %s finns inte i loggen", "the reference %s is not in the log",
		refArg, "the reference is the code in the SMS and the e-mail (six characters); 'kuvert log list' shows them, or the log may have been pruned"},
}

const firstNumber = "give the number the first SMS went to; to text another number, seal anew with 'kuvert encrypt --sms NUMBER'"

func sealingArg(r *app.Refusal) []any { return []any{r.Sealing} }
func nameArg(r *app.Refusal) []any    { return []any{r.Name} }
func pathArg(r *app.Refusal) []any    { return []any{r.Path} }
func refArg(r *app.Refusal) []any     { return []any{r.Ref} }

// resendRefusal puts a refused resend into words.
func resendRefusal(r *app.Refusal) error {
	if r.Reason == app.Superseded {
		hint := "resend the newer sealing (its reference is in 'kuvert log show " + r.By + "')"
		if r.ByRef != "" {
			hint = "resend the newer sealing: kuvert resend " + r.ByRef + " --sms NUMBER"
		}
		return refusal(fmt.Sprintf("förseglingen %s är redan ersatt av %s", r.Sealing, r.By),
			fmt.Sprintf("the sealing %s was already superseded by %s", r.Sealing, r.By), hint)
	}
	w, ok := refusalWords[r.Reason]
	if !ok {
		return usageError{r}
	}
	args := w.args(r)
	return refusal(fmt.Sprintf(w.sv, args...), fmt.Sprintf(w.en, args...), w.hint)
}
