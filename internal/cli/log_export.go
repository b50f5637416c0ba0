package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/auditlog"
)

func newLogExportCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var lf logFilter
	var srv serverOpts
	var format, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export entries as CSV (for Excel) or JSON",
		Long: `Export entries for the registrar. CSV is written the way Swedish Excel
opens it with a double-click: UTF-8 with a byte-order mark, semicolons
between fields, CRLF line ends, Swedish column names and values, the
reference, batch and row of each sealing, and each sealing's SMS in its
current state. Cells that Excel would run as formulas are prefixed with an
apostrophe.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "csv" && format != "json" {
				return usagef("unknown export format %q (use csv or json)", format)
			}
			if srv.on() {
				w, file, err := openOutput(s, out, force)
				if err != nil {
					return err
				}
				if file != nil {
					defer file.Close()
				}
				if err := exportServer(cmd, f, w, &lf, &srv, format); err != nil {
					if file != nil {
						file.Close()
						os.Remove(out)
					}
					return err
				}
				if file != nil {
					return file.Close()
				}
				return nil
			}
			if err := srv.checkLocal(cmd); err != nil {
				return err
			}
			l, _, err := f.openLog(g)
			if err != nil {
				return err
			}
			es, err := lf.entries(l)
			if err != nil {
				return err
			}
			var w io.Writer = s.Out
			if (out == "" || out == "-") && s.OutTTY {
				return withHint(usagef("the export is for a file, not the terminal"), "add -o logg.csv (or pipe it: kuvert log export | …); 'kuvert log list' shows the log on screen")
			}
			var file *os.File
			if out != "" && out != "-" {
				flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
				if force {
					flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
				}
				if file, err = os.OpenFile(out, flag, 0o600); err != nil {
					if errors.Is(err, os.ErrExist) {
						return withHint(fmt.Errorf("file already exists: %s", out), "use --force to replace it")
					}
					return err
				}
				defer file.Close()
				w = file
			}
			if format == "csv" {
				err = auditlog.ExportCSV(w, es, details)
			} else {
				if es == nil {
					es = []auditlog.Row{}
				}
				err = encodeJSON(w, es)
			}
			if err != nil {
				return err
			}
			if file != nil {
				return file.Close()
			}
			return nil
		},
	}
	lf.add(cmd)
	srv.add(cmd, true)
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	return cmd
}
