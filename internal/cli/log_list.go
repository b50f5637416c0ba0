package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/termsafe"
)

func newLogListCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var lf logFilter
	var srv serverOpts
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List entries, newest first; each sealing with its SMS's current state",
		RunE: func(cmd *cobra.Command, args []string) error {
			if srv.on() {
				return listServer(cmd, f, &lf, &srv, asJSON)
			}
			if err := srv.checkLocal(cmd); err != nil {
				return err
			}
			l, _, err := f.openLog(g)
			if err != nil {
				return err
			}
			rows, err := lf.entries(l)
			if err != nil {
				return err
			}
			return printRows(s, rows, asJSON)
		},
	}
	lf.add(cmd)
	srv.add(cmd, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

// printRows lists rows of the log's fold, newest first: one line (or
// JSON object) a row, a relayed SMS once.
func printRows(s *IOStreams, rows []auditlog.Row, asJSON bool) error {
	slices.Reverse(rows)
	if asJSON {
		if rows == nil {
			rows = []auditlog.Row{}
		}
		return writeJSON(s, rows)
	}
	for _, r := range rows {
		line := summary(&r)
		if r.Device != "" {
			line += "  enhet/device " + termsafe.Escape(r.Device)
		}
		fmt.Fprintln(s.Out, line)
	}
	return nil
}

func summary(r *auditlog.Row) string {
	e := &r.Entry
	parts := []string{e.When().Local().Format("2006-01-02 15:04"), termsafe.Escape(e.ID), termsafe.Escape(string(e.Action))}
	if e.Format != "" {
		parts = append(parts, termsafe.Escape(e.Format))
	}
	if e.Archive != nil {
		n := e.FilesTotal()
		parts = append(parts, termsafe.Escape(e.Archive.Name), fmt.Sprintf("%d %s", n, plural(n, "fil", "filer")))
	}
	if e.Case != "" {
		parts = append(parts, "dnr "+termsafe.Escape(e.Case))
	}
	if d := e.Delivery; d != nil {
		sv, en := d.Words()
		parts = append(parts, termsafe.Escape(fmt.Sprintf("→ %s via %s (%s / %s)", d.To, d.Provider, sv, en)))
		if d.Ref != "" {
			parts = append(parts, "ref "+termsafe.Escape(d.Ref))
		}
	}
	if e.Batch != "" {
		parts = append(parts, fmt.Sprintf("utskick/batch %s rad/row %d", termsafe.Escape(e.Batch), e.Row))
	}
	if d := details(e); d != "" {
		parts = append(parts, termsafe.Escape(d))
	}
	if len(r.Folded) > 0 {
		parts = append(parts, termsafe.Escape("samma sms som / same SMS as "+strings.Join(r.Folded, ", ")))
	}
	return strings.Join(parts, "  ")
}
