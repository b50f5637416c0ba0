package cli

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/auditlog"
)

func newLogCmd(f *Factory, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The compliance log: list, show, export, verify, prune / Krypteringsloggen",
		Long: `Every archive kuvert seals is recorded in a tamper-evident log: who sealed
what, when, for which case, and where the password went — never the
password, a full phone number or a personnummer.

With a kuvert server configured, every entry is also shipped to the
organisation's central log ('log sync', 'log status'); list, export and
verify read the central log with --server.

Varje arkiv som kuvert förseglar registreras i en manipuleringssäker logg.`,
	}
	cmd.AddCommand(newLogListCmd(f, g), newLogShowCmd(f, g), newLogExportCmd(f, g),
		newLogVerifyCmd(f, g), newLogCheckpointCmd(f, g), newLogPruneCmd(f, g), newLogKeyCmd(f, g),
		newLogSyncCmd(f, g), newLogStatusCmd(f, g))
	return cmd
}

// logFilter is the flags that select entries; the selecting itself is
// the log's ([auditlog.Query]).
type logFilter struct {
	Since, Until string
	Case         string
	Ref          string
	Batch        string
}

func (f *logFilter) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.Since, "since", "", "only entries from `DATE` (2026-01-31, RFC 3339, or a period back from now: 7d, 36h)")
	cmd.Flags().StringVar(&f.Until, "until", "", "only entries before `DATE`")
	cmd.Flags().StringVar(&f.Case, "case", "", "only entries for this case number (diarienummer)")
	cmd.Flags().StringVar(&f.Ref, "ref", "", "only the sealing and SMS with this reference code")
	cmd.Flags().StringVar(&f.Batch, "batch", "", "only entries of this batch run")
}

func (f *logFilter) query() (auditlog.Query, error) {
	q := auditlog.Query{Case: f.Case, Ref: f.Ref, Batch: f.Batch}
	var err error
	if f.Since != "" {
		if q.Since, err = parseDate(f.Since, false); err != nil {
			return q, err
		}
	}
	if f.Until != "" {
		if q.Until, err = parseDate(f.Until, true); err != nil {
			return q, err
		}
	}
	return q, nil
}

// entries returns the rows f selects, oldest first, as the log's one
// fold shows them ([auditlog.View]).
func (f *logFilter) entries(l *auditlog.Log) ([]auditlog.Row, error) {
	q, err := f.query()
	if err != nil {
		return nil, err
	}
	return l.Query(q)
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
