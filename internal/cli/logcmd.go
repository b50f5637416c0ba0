package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/spf13/cobra"
)

// globalOptions are flags every command accepts.
type globalOptions struct {
	LogDir string
}

// openLog opens the compliance log: --log-dir, else $KUVERT_HOME/log. The
// signing key always lives in $KUVERT_HOME/keys.
func openLog(g *globalOptions) (*auditlog.Log, *config.Config, error) {
	home, err := config.Home()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(home)
	if err != nil {
		return nil, nil, err
	}
	dir := g.LogDir
	if dir == "" {
		dir = filepath.Join(home, "log")
	}
	l, err := auditlog.Open(auditlog.Options{Dir: dir, KeyDir: filepath.Join(home, "keys"), Tool: "kuvert " + Version})
	if err != nil {
		return nil, nil, err
	}
	return l, cfg, nil
}

func newLogCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The compliance log: list, show, export, verify, prune / Krypteringsloggen",
		Long: `Every archive kuvert seals is recorded in a tamper-evident log: who sealed
what, when, for which case, and where the password went — never the
password, a full phone number or a personnummer.

Varje arkiv som kuvert förseglar registreras i en manipuleringssäker logg.`,
	}
	cmd.AddCommand(newLogListCmd(s, g), newLogShowCmd(s, g), newLogExportCmd(s, g),
		newLogVerifyCmd(s, g), newLogPruneCmd(s, g), newLogKeyCmd(s, g))
	return cmd
}

type logFilter struct {
	Since, Until string
	Case         string
}

func (f *logFilter) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Since, "since", "", "only entries from `DATE` (2026-01-31, RFC 3339, or a period back from now: 7d, 36h)")
	cmd.Flags().StringVar(&f.Until, "until", "", "only entries before `DATE`")
	cmd.Flags().StringVar(&f.Case, "case", "", "only entries for this case number (diarienummer)")
}

func parseDate(s string, endOfDay bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if s != "" && strings.ContainsAny(s[len(s)-1:], "dwhms") {
		if d, err := parseAge(s); err == nil {
			return time.Now().Add(-d), nil
		}
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.Local)
	if err != nil {
		return t, usagef("%q is not a date (use 2026-01-31, or a period such as 7d)", s)
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// entries returns the log's entries matching f, oldest first; pruned
// stubs are left out.
func (f *logFilter) entries(l *auditlog.Log) ([]auditlog.Entry, error) {
	all, err := l.Entries()
	if err != nil {
		return nil, err
	}
	var since, until time.Time
	if f.Since != "" {
		if since, err = parseDate(f.Since, false); err != nil {
			return nil, err
		}
	}
	if f.Until != "" {
		if until, err = parseDate(f.Until, true); err != nil {
			return nil, err
		}
	}
	var out []auditlog.Entry
	for _, e := range all {
		w := e.When()
		switch {
		case e.Pruned:
		case !since.IsZero() && w.Before(since):
		case !until.IsZero() && !w.Before(until):
		case f.Case != "" && !strings.EqualFold(e.Case, f.Case):
		default:
			out = append(out, e)
		}
	}
	return out, nil
}

func newLogListCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var f logFilter
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List entries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := openLog(g)
			if err != nil {
				return err
			}
			es, err := f.entries(l)
			if err != nil {
				return err
			}
			slices.Reverse(es)
			if asJSON {
				if es == nil {
					es = []auditlog.Entry{}
				}
				return writeJSON(s, es)
			}
			for _, e := range es {
				fmt.Fprintln(s.Out, summary(&e))
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}

func summary(e *auditlog.Entry) string {
	parts := []string{e.When().Local().Format("2006-01-02 15:04"), e.ID, e.Action}
	if e.Format != "" {
		parts = append(parts, e.Format)
	}
	if e.Archive != nil {
		parts = append(parts, e.Archive.Name, fmt.Sprintf("%d %s", len(e.Files), plural(len(e.Files), "fil", "filer")))
	}
	if e.Case != "" {
		parts = append(parts, "dnr "+e.Case)
	}
	if d := e.Delivery; d != nil {
		parts = append(parts, fmt.Sprintf("→ %s via %s (%s)", d.To, d.Provider, d.Status))
	}
	if e.Details != "" {
		parts = append(parts, e.Details)
	}
	return strings.Join(parts, "  ")
}

func newLogShowCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one entry in full (by id or number)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := openLog(g)
			if err != nil {
				return err
			}
			e, err := l.Find(args[0])
			if err != nil {
				return usageError{err}
			}
			return writeJSON(s, e)
		},
	}
}

func newLogExportCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var f logFilter
	var format, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export entries as CSV (for Excel) or JSON",
		Long: `Export entries for the registrar. CSV is written the way Swedish Excel
opens it with a double-click: UTF-8 with a byte-order mark, semicolons
between fields, CRLF line ends, Swedish column names. Cells that Excel
would run as formulas are prefixed with an apostrophe.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := openLog(g)
			if err != nil {
				return err
			}
			es, err := f.entries(l)
			if err != nil {
				return err
			}
			var w io.Writer = s.Out
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
			switch format {
			case "csv":
				err = auditlog.ExportCSV(w, es)
			case "json":
				if es == nil {
					es = []auditlog.Entry{}
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				err = enc.Encode(es)
			default:
				return usagef("unknown export format %q (use csv or json)", format)
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
	f.add(cmd)
	cmd.Flags().StringVar(&format, "format", "csv", "csv or json")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	return cmd
}

func newLogVerifyCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var key string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no entry was changed, removed, added or reordered",
		Long: `Recompute the log's Merkle tree and check it against every signed
checkpoint. Exit code 6 if anything does not verify, naming the first entry
that does not. An auditor passes the verifier key they kept elsewhere with
--key (see 'kuvert log key').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := openLog(g)
			if err != nil {
				return err
			}
			if strings.HasPrefix(key, "@") {
				b, err := os.ReadFile(key[1:])
				if err != nil {
					return usagef("cannot read the key file %s", key[1:])
				}
				key = string(b)
			}
			res, err := l.Verify(key)
			if asJSON && res != nil {
				r := struct {
					OK bool `json:"ok"`
					*auditlog.VerifyResult
				}{err == nil, res}
				if jerr := writeJSON(s, r); jerr != nil {
					return jerr
				}
			}
			if err != nil {
				if errors.Is(err, auditlog.ErrTampered) {
					return codeError{withHint(err, "keep the log files as they are and tell whoever is responsible for information security"), ExitLogInvalid}
				}
				return err
			}
			if !asJSON {
				fmt.Fprintf(s.Out, "OK: %d poster / entries (%d gallrade / pruned), %d checkpoints, root %s\n", res.Entries, res.Pruned, res.Checkpoints, res.Root)
				if res.Warning != "" {
					fmt.Fprintf(s.ErrOut, "kuvert: warning: %s\n", res.Warning)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "verifier `KEY` (or @FILE) to check the signature with, instead of this computer's own")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// parseAge reads "90d", "12w" or a Go duration such as "36h".
func parseAge(s string) (time.Duration, error) {
	for suf, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suf); ok {
			k, err := strconv.Atoi(n)
			if err != nil || k < 0 {
				return 0, usagef("%q is not a period (use 90d, 12w or 36h)", s)
			}
			return time.Duration(k) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("%q is not a period (use 90d, 12w or 36h)", s)
	}
	return d, nil
}

func newLogPruneCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	var older string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove entry bodies older than the retention period (gallring)",
		Long: `Remove the bodies of entries older than --older-than (default: the
"retention" setting in config.json, else 90d), keeping their hashes so
that the log still verifies. The pruning itself is recorded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, cfg, err := openLog(g)
			if err != nil {
				return err
			}
			if older == "" {
				older = cfg.Retention
			}
			if older == "" {
				older = "90d"
			}
			d, err := parseAge(older)
			if err != nil {
				return err
			}
			n, err := l.Prune(time.Now().Add(-d), older)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "Gallrade / pruned: %d %s äldre än / older than %s\n", n, plural(n, "post/entry", "poster/entries"), older)
			return nil
		},
	}
	cmd.Flags().StringVar(&older, "older-than", "", "retention `PERIOD`: 90d, 12w, 36h")
	return cmd
}

func newLogKeyCmd(s *IOStreams, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "key",
		Short: "Print the verifier key an auditor keeps to check the log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := openLog(g)
			if err != nil {
				return err
			}
			fmt.Fprintln(s.Out, l.VerifierKey())
			return nil
		},
	}
}
