package cli

import (
	"fmt"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/internal/termsafe"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/spf13/cobra"
)

func newScanCmd(f *Factory) *cobra.Command {
	s := f.IOStreams
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "scan [flags] FILE...",
		Short: "Find personnummer in files / Hitta personnummer i filer",
		Long: `Scan files and folders for Swedish personnummer and samordningsnummer:
text and CSV (UTF-8, UTF-16, Windows-1252), xlsx, docx, odt, ods, and file
names. Findings are shown masked (19850312-****) with where they are.
Formats kuvert cannot read (pdf, images) are reported as not scanned.

Exit code 7 when anything is found, 0 when nothing is.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, _, err := crypt.CollectInputs(args)
			if err != nil {
				return err
			}
			var reports []*scan.Report
			total, files, notScanned := 0, 0, 0
			for _, in := range inputs {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				r, err := app.Scan(in.Path)
				if err != nil {
					return fmt.Errorf("%w: %v", crypt.ErrInput, err)
				}
				reports = append(reports, r)
				total += r.Count()
				if r.Count() > 0 {
					files++
				}
				if !r.Scanned {
					notScanned++
				}
				if asJSON {
					continue
				}
				name := termsafe.Escape(in.Path)
				for _, f := range r.Findings {
					kind := "personnummer"
					if f.Coordination {
						kind = "samordningsnummer"
					}
					fmt.Fprintf(s.Out, "%s\t%s\t%s\t%s\n", name, termsafe.Escape(f.Place), kind, f.Masked)
				}
				if r.Count() > len(r.Findings) {
					fmt.Fprintf(s.Out, "%s\t…\t%d more\n", name, r.Count()-len(r.Findings))
				}
				if !r.Scanned {
					fmt.Fprintf(s.Out, "%s\t-\tnot scanned\t%s\n", name, termsafe.Escape(r.Reason))
				}
			}
			if asJSON {
				if err := writeJSON(s, reports); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(s.ErrOut, "%d personnummer i %d av %d filer / in %d of %d files; %d inte skannade / not scanned\n", total, files, len(inputs), files, len(inputs), notScanned)
			}
			if total > 0 {
				return codeError{fmt.Errorf("%w: %d personnummer", scan.ErrSensitive, total), ExitSensitive}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}
