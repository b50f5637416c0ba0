package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func newLogPruneCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var older string
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Remove entry bodies older than the retention period (gallring)",
		Long: `Remove the bodies of entries older than --older-than (default: the
"retention" setting in config.json, else 90d), keeping their hashes so
that the log still verifies. The pruning is recorded first, naming the
entries it may prune and the limit; a pruned entry no such record covers
is tampering.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, cfg, err := f.openLog(g)
			if err != nil {
				return err
			}
			if older == "" {
				older = cfg.Retention.Value
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

func newLogKeyCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	return &cobra.Command{
		Use:   "key",
		Short: "Print the verifier key an auditor keeps to check the log",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := f.openLog(g)
			if err != nil {
				return err
			}
			fmt.Fprintln(s.Out, l.VerifierKey())
			return nil
		},
	}
}
