package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
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

func newResendCmd(s *IOStreams, g *globalOptions) *cobra.Command {
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
			return runResend(cmd.Context(), s, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.SMS, "sms", "", "the recipient's mobile `NUMBER`, typed again (checked against the log's masked number)")
	f.StringVar(&o.Batch, "batch", "", "resend a batch row: the batch `ID` (or the batch's output folder)")
	f.IntVar(&o.Row, "row", 0, "the batch row `N` to resend (with --batch)")
	f.StringVar(&o.Dir, "dir", "", "folder holding the source files (default: the current folder)")
	f.StringVarP(&o.Output, "output", "o", "", "write the new archive to `PATH` (default: the old name with the new reference, in --dir)")
	f.StringVar(&o.EML, "eml", "", "also write an e-mail draft to `ADDRESS` beside the new archive (ARCHIVE.eml)")
	f.StringVar(&o.SMSFrom, "sender", "", "your organisation's name as the SMS shows it (default: organisation in config.json)")
	f.StringVar(&o.SMSLang, "sms-lang", "", "language of the SMS text and e-mail draft: sv (default) or en")
	return cmd
}

// refusal is a resend kuvert will not do: Swedish first, English beside.
func refusal(sv, en, hint string) error {
	return withHint(usageError{errors.New(sv + " / " + en)}, hint)
}

func runResend(ctx context.Context, s *IOStreams, g *globalOptions, o *ResendOptions) error {
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
	num, err := sms.ParseMobile(o.SMS)
	if err != nil {
		return fmt.Errorf("%w: %w", crypt.ErrInput, err)
	}
	log, cfg, err := openLog(g)
	if err != nil {
		return err
	}
	dir := o.Dir
	batchID := o.Batch
	var row *batch.Row // the manifest's row, when the batch's folder names it
	outDir := ""       // where the new archive goes by default
	if o.Batch != "" {
		if st, err := readBatchState(o.Batch); err == nil && st != nil {
			batchID = st.BatchID
			outDir = o.Batch
			if dir == "" && st.Manifest != "" {
				dir = filepath.Dir(st.Manifest)
			}
			if m, err := batch.Load(st.Manifest, batch.LoadOptions{Home: cfg.Home.Value}); err == nil && m.ID == batchID {
				for i := range m.Rows {
					if m.Rows[i].Num == o.Row {
						row = &m.Rows[i]
					}
				}
			}
		}
	}
	if dir == "" {
		dir = "."
	}
	if outDir == "" {
		outDir = dir
	}
	all, err := log.Entries()
	if err != nil {
		return err
	}
	old, err := findSealing(all, o.Ref, batchID, o.Row)
	if err != nil {
		return err
	}
	e := old.Entry
	what := e.ID
	switch {
	case old.Delivery == nil || e.Delivery == nil:
		return refusal(fmt.Sprintf("förseglingen %s skickade inget sms, så det finns inget att skicka igen", what),
			fmt.Sprintf("the sealing %s sent no SMS, so there is nothing to resend", what),
			"give the password the way it was given the first time, or seal anew with 'kuvert encrypt --sms NUMBER'")
	case old.Removed:
		return refusal(fmt.Sprintf("arkivet från %s togs bort igen, lösenordet nådde ingen", what),
			fmt.Sprintf("the archive of %s was removed again, its password reached nobody", what),
			"seal the files anew with 'kuvert encrypt --sms NUMBER'")
	case old.SupersededBy != "":
		return supersededRefusal(all, what, old.SupersededBy)
	}
	if sms.MaskNumber(num) != e.Delivery.To {
		return refusal(fmt.Sprintf("numret %s stämmer inte med loggens %s", sms.MaskNumber(num), e.Delivery.To),
			fmt.Sprintf("the number %s does not match the log's %s", sms.MaskNumber(num), e.Delivery.To),
			"give the number the first SMS went to; to text another number, seal anew with 'kuvert encrypt --sms NUMBER'")
	}
	if e.Delivery.ToTag != "" && log.NumberTag(num) != e.Delivery.ToTag {
		// The log's keyed hash of the full number: a number that differs
		// only in its middle digits (the masked form hides them) is caught.
		return refusal(fmt.Sprintf("numret %s är inte det som förra sms:et gick till", sms.MaskNumber(num)),
			fmt.Sprintf("the number %s is not the one the first SMS went to", sms.MaskNumber(num)),
			"give the number the first SMS went to; to text another number, seal anew with 'kuvert encrypt --sms NUMBER'")
	}
	if e.FileCount > len(e.Files) || len(e.Files) == 0 {
		return refusal(fmt.Sprintf("loggen listar inte alla filer i %s (fler än %d, eller gallrade)", what, auditlog.MaxFiles),
			fmt.Sprintf("the log does not list every file of %s (more than %d, or pruned)", what, auditlog.MaxFiles),
			"seal the files anew with 'kuvert encrypt --sms NUMBER'")
	}
	where := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
	if row != nil && o.Dir == "" {
		// The manifest says where each of the row's files is.
		at := map[string]string{}
		for _, p := range row.Files {
			at[filepath.Base(p)] = p
		}
		where = func(name string) string {
			if p, ok := at[name]; ok {
				return p
			}
			return filepath.Join(dir, filepath.FromSlash(name))
		}
	}
	inputs, err := sameFiles(where, e.Files)
	if err != nil {
		return err
	}

	format := crypt.FormatZip
	if strings.HasPrefix(e.Format, "age") {
		format = crypt.FormatAge
	}
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		return err
	}
	ref := sms.NewRef()
	out := o.Output
	if out == "" {
		name := "kuvert.zip"
		if e.Archive != nil {
			name = e.Archive.Name
		}
		ext := filepath.Ext(name)
		if format == crypt.FormatAge && strings.HasSuffix(name, ".age") {
			ext = ".age"
		}
		out = filepath.Join(outDir, strings.TrimSuffix(name, ext)+"-"+ref+ext)
	}
	pol, err := smsPolicy(s, cfg, o.SMSFrom, o.SMSLang)
	if err != nil {
		return err
	}
	req := envelope.Request{
		Seal:       crypt.SealOptions{Inputs: inputs, Output: out, Format: format, Password: pw},
		Case:       e.Case,
		Note:       e.Note,
		Operator:   cfg.Operator.Value,
		Batch:      e.Batch,
		Row:        e.Row,
		SMS:        &envelope.SMS{Policy: pol, To: o.SMS, Ref: ref},
		Supersedes: e.ID,
	}
	if o.EML == "" && row != nil && row.Email != "" {
		// The batch row had an address: a draft beside the new archive,
		// as the batch's own e-mail step writes.
		o.EML = row.Email
	}
	if o.EML != "" {
		req.Draft = &envelope.Draft{To: o.EML, Lang: o.SMSLang, ByAge: format == crypt.FormatAge, OpenerURL: cfg.OpenerURL.Value}
	}
	sealed, err := envelope.Seal(ctx, log, req)
	var se *envelope.SupersededError
	if errors.As(err, &se) {
		// Another resend of this sealing was recorded while this one
		// sealed: the check above passed for both, the log's lock let one
		// through. This archive is gone again and nothing was texted.
		all, _ := log.Entries()
		return supersededRefusal(all, what, se.By)
	}
	if err != nil {
		return err
	}
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

// supersededRefusal refuses to resend the sealing what, which the sealing
// by already replaced, and points at by's reference.
func supersededRefusal(all []auditlog.Entry, what, by string) error {
	hint := "resend the newer sealing (its reference is in 'kuvert log show " + by + "')"
	for _, x := range auditlog.Sealings(all) {
		if x.Entry.ID == by && x.Entry.Delivery != nil {
			hint = "resend the newer sealing: kuvert resend " + x.Entry.Delivery.Ref + " --sms NUMBER"
		}
	}
	return refusal(fmt.Sprintf("förseglingen %s är redan ersatt av %s", what, by),
		fmt.Sprintf("the sealing %s was already superseded by %s", what, by), hint)
}

// findSealing is the sealing a reference (or seal entry id) or a batch row
// names: the latest one, when several do.
func findSealing(all []auditlog.Entry, ref, batch string, row int) (*auditlog.Sealing, error) {
	var found *auditlog.Sealing
	ss := auditlog.Sealings(all)
	for i := range ss {
		e := &ss[i].Entry
		switch {
		case batch != "" && e.Batch == batch && e.Row == row:
		case ref != "" && e.ID == ref:
		case ref != "" && auditlog.Query{Ref: ref}.Match(e):
		case ref != "" && ss[i].Delivery != nil && strings.EqualFold(ss[i].Delivery.Ref, ref):
		default:
			continue
		}
		if batch != "" && ss[i].Removed && e.Refers != "" && found != nil {
			// An earlier resend of this row that reached nobody: the row's
			// sealing to resend is still the one before it.
			continue
		}
		found = &ss[i]
	}
	if found != nil {
		return found, nil
	}
	if batch != "" {
		return nil, refusal(fmt.Sprintf("loggen har ingen försegling för utskick %s rad %d", batch, row),
			fmt.Sprintf("the log has no sealing for batch %s row %d", batch, row),
			"the batch id is in the report's folder (state.json) and in 'kuvert log list'; the row number is the report's")
	}
	for _, e := range all {
		// A follow-up that names the reference, while its sealing is gone
		// from the log: pruned (gallrad).
		if !e.Pruned && e.Delivery != nil && strings.EqualFold(e.Delivery.Ref, ref) {
			return nil, refusal(fmt.Sprintf("loggen har inte längre förseglingen med referensen %s (gallrad), så filerna är okända", ref),
				fmt.Sprintf("the log no longer holds the sealing with the reference %s (pruned), so its files are unknown", ref),
				"seal the files anew with 'kuvert encrypt --sms NUMBER'")
		}
	}
	return nil, refusal(fmt.Sprintf("referensen %s finns inte i loggen", ref),
		fmt.Sprintf("the reference %s is not in the log", ref),
		"the reference is the code in the SMS and the e-mail (six characters); 'kuvert log list' shows them, or the log may have been pruned")
}

// sameFiles finds the logged files (where says where each is) and checks each is exactly
// what was sealed (size and SHA-256).
func sameFiles(where func(name string) string, files []auditlog.FileRef) ([]crypt.Input, error) {
	var ins []crypt.Input
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return nil, refusal(fmt.Sprintf("loggen har ett filnamn som inte går att leta upp: %s", f.Name),
				fmt.Sprintf("the log holds a file name that cannot be looked up: %s", f.Name),
				"seal the files anew with 'kuvert encrypt --sms NUMBER'")
		}
		p := where(f.Name)
		fi, err := os.Stat(p)
		if (err != nil || !fi.Mode().IsRegular()) && strings.Contains(f.Name, "****") {
			return nil, refusal(fmt.Sprintf("loggen har filnamnet %s maskerat (personnummer), så kuvert kan inte hitta filen", f.Name),
				fmt.Sprintf("the log holds the file name %s masked (personnummer), so kuvert cannot find the file", f.Name),
				"seal the files anew with 'kuvert encrypt --sms NUMBER'")
		}
		if err != nil || !fi.Mode().IsRegular() {
			return nil, refusal(fmt.Sprintf("källfilen %s finns inte längre", p),
				fmt.Sprintf("the source file %s is gone", p),
				"kuvert seals only the very files it sealed before; give their folder with --dir, or seal anew with 'kuvert encrypt --sms NUMBER'")
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		if fi.Size() != f.Size || !strings.EqualFold(sum, f.SHA256) {
			return nil, refusal(fmt.Sprintf("källfilen %s har ändrats sedan den förseglades (SHA-256 skiljer sig)", p),
				fmt.Sprintf("the source file %s changed since it was sealed (SHA-256 differs)", p),
				"a resend carries the same files; to send the changed ones, seal anew with 'kuvert encrypt --sms NUMBER'")
		}
		ins = append(ins, crypt.Input{Path: p, Name: f.Name, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return ins, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readBatchState reads a batch output folder's state.json ("" fields
// when arg is not such a folder).
func readBatchState(arg string) (*struct {
	BatchID  string `json:"batch"`
	Manifest string `json:"manifest"`
}, error) {
	b, err := os.ReadFile(filepath.Join(arg, "state.json"))
	if err != nil {
		return nil, err
	}
	var st struct {
		BatchID  string `json:"batch"`
		Manifest string `json:"manifest"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.BatchID == "" {
		return nil, errors.New("not a kuvert batch state file")
	}
	return &st, nil
}
