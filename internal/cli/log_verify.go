package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kuvert-app/kuvert/auditlog"
)

func newLogVerifyCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var key string
	var kept []string
	var asJSON bool
	var srv serverOpts
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no entry was changed, removed, added, hidden or reordered",
		Long: `Recompute the log's Merkle tree and check it against every signed
checkpoint. Exit code 6 if anything does not verify, naming the first entry
that does not. An auditor passes the verifier key they kept elsewhere with
--key (see 'kuvert log key').

A log whose newest entries were removed together with their checkpoints is
whole on its own. To catch that, keep a checkpoint outside this computer
('kuvert log checkpoint', e.g. mailed to the registrar every week) and
verify against it with --since-checkpoint: the log must still contain the
tree that checkpoint signed (an RFC 6962 consistency proof).

With --server [URL] it checks the central log on the kuvert server
instead: the server's signed head with --key (the verifier key its
administrator published; without --key, the key the server reports),
proved consistent with the last head this computer saw from that server
and key (kept in $KUVERT_HOME/server-heads.json) and with the last one
shipping received; then the server's own full check (a registrar token).
A head that shrank or does not contain the earlier one is tampering:
exit code 6.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.HasPrefix(key, "@") {
				b, err := os.ReadFile(key[1:])
				if err != nil {
					return usagef("cannot read the key file %s", key[1:])
				}
				key = string(b)
			}
			if srv.on() {
				if len(kept) > 0 {
					return usagef("--since-checkpoint checks the local log; with --server, kuvert checks against the heads it kept itself")
				}
				return verifyServer(cmd, f, g, &srv, key, asJSON)
			}
			var notes [][]byte
			for _, p := range kept {
				b, err := os.ReadFile(p)
				if err != nil {
					return usagef("cannot read the kept checkpoint %s", p)
				}
				notes = append(notes, b)
			}
			a, err := f.App(g)
			if err != nil {
				return err
			}
			res, err := a.VerifyLog(auditlog.VerifyOptions{Key: key, Kept: notes})
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
					return codeError{withHint(err, tamperHint(res)), ExitLogInvalid}
				}
				return err
			}
			if !asJSON {
				fmt.Fprintf(s.Out, "OK: %d poster / entries (%d gallrade / pruned, %d reparationer / repairs), %d checkpoints, root %s\n", res.Entries, res.Pruned, res.Repairs, res.Checkpoints, res.Root)
				if res.Kept > 0 {
					fmt.Fprintf(s.Out, "OK: stämmer med %d sparade checkpoints / consistent with %d kept checkpoints\n", res.Kept, res.Kept)
				}
				if res.Warning != "" {
					fmt.Fprintf(s.ErrOut, "kuvert: warning: %s\n", res.Warning)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "verifier `KEY` (or @FILE) to check the signature with, instead of this computer's own")
	cmd.Flags().StringArrayVar(&kept, "since-checkpoint", nil, "a checkpoint `FILE` kept elsewhere ('kuvert log checkpoint'); the log must still contain it (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	srv.add(cmd, false)
	return cmd
}

func tamperHint(res *auditlog.VerifyResult) string {
	if res != nil && strings.Contains(res.Problem, "is gone") {
		return "restore the log folder from a backup and tell whoever is responsible for information security; to start a new log on purpose, move the key folder aside first: the new log gets a new key, which auditors will see"
	}
	return "keep the log files as they are and tell whoever is responsible for information security"
}

func newLogCheckpointCmd(f *Factory, g *globalOptions) *cobra.Command {
	s := f.IOStreams
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Print the log's current signed checkpoint, to keep elsewhere",
		Long: `Print the log's current signed checkpoint: its size and Merkle root, signed
with the log's key. It names no entry and holds nothing secret. Keep it
outside this computer — mail it to the registrar, print it in the weekly
report — and later run 'kuvert log verify --since-checkpoint FILE': a log
cut back or rewritten since then no longer verifies.

Skriv ut loggens signerade checkpoint att spara någon annanstans.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			l, _, err := f.openLog(g)
			if err != nil {
				return err
			}
			cp, err := l.Checkpoint()
			if err != nil {
				if errors.Is(err, auditlog.ErrTampered) {
					return codeError{withHint(err, "a checkpoint is only given for a log that verifies"), ExitLogInvalid}
				}
				return err
			}
			if out == "" || out == "-" {
				_, err = s.Out.Write(cp)
				return err
			}
			flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flag, 0o644)
			if errors.Is(err, os.ErrExist) {
				return withHint(fmt.Errorf("file already exists: %s", out), "use --force to replace it")
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(cp); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` instead of standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	return cmd
}
