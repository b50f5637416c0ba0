package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/bytesize"
	"github.com/kuvert-app/kuvert/internal/termsafe"
)

func newLogShowCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one entry in full (by id or number)",
		Long: `Show one entry as the registrar reads it, Swedish first. A sealing also
shows what became of its SMS since (the current state). --json prints the
entry exactly as the log holds it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := f.openLog(g)
			if err != nil {
				return err
			}
			e, err := l.Find(args[0])
			if err != nil {
				return withHint(usageError{err}, "'kuvert log list' shows the entries' ids")
			}
			if asJSON {
				return writeJSON(s, e)
			}
			all, err := l.Entries()
			if err != nil {
				return err
			}
			var now *auditlog.Sealing
			for _, x := range auditlog.Sealings(all) {
				if x.Entry.ID == e.ID {
					now = &x
					break
				}
			}
			return showEntry(s, e, now)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the entry as the log holds it (JSON)")
	return cmd
}

// showEntry writes an entry for people: one labelled line a field.
func showEntry(s *IOStreams, e *auditlog.Entry, now *auditlog.Sealing) error {
	w := tabwriter.NewWriter(s.Out, 0, 0, 2, ' ', 0)
	line := func(label, format string, a ...any) { fmt.Fprintf(w, "%s:\t%s\n", label, fmt.Sprintf(format, a...)) }
	if e.Pruned {
		line("Post / entry", "%d", e.Seq)
		line("Gallrad / pruned", "innehållet är borttaget, dess hash finns kvar / the body was removed, its hash remains")
		return w.Flush()
	}
	line("Post / entry", "%d  (%s)", e.Seq, e.ID)
	line("Tid / time", "%s", e.When().Local().Format("2006-01-02 15:04:05 MST"))
	line("Åtgärd / action", "%s (%s)", e.Action.Swedish(), e.Action)
	who := termsafe.Escape(e.Operator)
	if e.OperatorName != "" {
		who += " (" + termsafe.Escape(e.OperatorName) + ")"
	}
	line("Handläggare / operator", "%s, dator / host %s, %s", who, termsafe.Escape(e.Host), termsafe.Escape(e.Tool))
	if e.Format != "" {
		line("Format", "%s", e.Format)
	}
	if a := e.Archive; a != nil {
		line("Arkiv / archive", "%s, %s", termsafe.Escape(a.Name), bytesize.Human(a.Size))
		line("SHA-256", "%s", a.SHA256)
	}
	if n := e.FilesTotal(); n > 0 {
		names := make([]string, 0, len(e.Files))
		for _, f := range e.Files {
			names = append(names, fmt.Sprintf("%s (%s)", termsafe.Escape(f.Name), bytesize.Human(f.Size)))
		}
		if e.FileCount > len(e.Files) {
			names = append(names, fmt.Sprintf("… och / and %d till / more (sha256 över alla / over all: %s)", e.FileCount-len(e.Files), e.FilesDigest))
		}
		line("Filer / files", "%d: %s", n, strings.Join(names, ", "))
	}
	if p := e.Password; p != nil {
		line("Lösenord / password", "%s (%s), %s bitar / bits", p.Origin.Swedish(), p.Origin, strconv.FormatFloat(p.Bits, 'f', -1, 64))
	}
	if e.Personnummer != nil {
		line("Personnummer", "%d i innehåll och namn / in contents and names", *e.Personnummer)
	}
	if e.Case != "" {
		line("Diarienummer / case", "%s", termsafe.Escape(e.Case))
	}
	if e.Note != "" {
		line("Anteckning / note", "%s", termsafe.Escape(e.Note))
	}
	if d := e.Delivery; d != nil {
		line("SMS", "%s", delivery(d))
	}
	if now != nil && now.Delivery != nil && e.Delivery != nil && *now.Delivery != *e.Delivery {
		line("SMS nu / now", "%s", delivery(now.Delivery))
	}
	if now != nil && now.Removed {
		line("Arkivet / archive", "borttaget igen: lösenordet nådde ingen / removed again: its password reached nobody")
	}
	if now != nil && now.SupersededBy != "" {
		line("Ersatt / superseded", "av / by %s (nytt lösenord / new password; det gamla arkivet gäller inte längre / the old archive is no longer in use)", now.SupersededBy)
	}
	if e.Batch != "" {
		line("Utskick / batch", "%s, rad / row %d", e.Batch, e.Row)
	}
	if e.Refers != "" {
		line("Avser / refers to", "%s", e.Refers)
	}
	if d := details(e); d != "" {
		line("Detaljer / details", "%s", termsafe.Escape(d))
	}
	return w.Flush()
}

// delivery describes an SMS; every value may have come from the provider
// or an edited file, so all of it is escaped.
func delivery(d *auditlog.Delivery) string {
	sv, en := d.Words()
	out := fmt.Sprintf("%s via %s: %s / %s (%s)", d.To, d.Provider, sv, en, d.Status)
	if d.Ref != "" {
		out += ", ref " + d.Ref
	}
	if d.MessageID != "" {
		out += ", id " + d.MessageID
	}
	if d.Error != "" {
		out += ", fel / error: " + d.Error
	}
	return termsafe.Escape(out)
}
