package server

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuvert-app/kuvert/auditlog"
)

// Prune is gallring: the bodies of entries older than before are
// removed, their leaf hashes stay (the tree still verifies), and a prune
// record naming exactly the emptied entries is appended in the same
// transaction. The server's own prune records are kept; SMS records are
// kept (see below). It returns how many entries were emptied.
func (s *Store) Prune(ctx context.Context, before time.Time, retention string) (int, error) {
	count := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var size int64
		var rootB []byte
		if err := syncCommit(ctx, tx); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT size, root FROM tree_head WHERE id = 1 FOR UPDATE").Scan(&size, &rootB); err != nil {
			return err
		}
		// Every entry a device shipped is pruned by its time, or by when
		// it arrived if its time is missing or unreadable: a device cannot
		// keep an entry from gallring by calling it a prune or repair
		// record or by giving it no time. Only the server's own prune
		// records are kept (verification needs them).
		rows, err := tx.Query(ctx, `SELECT seq FROM entries WHERE body IS NOT NULL AND COALESCE(at, received) < $1
			AND NOT (device = $2 AND action = $3) ORDER BY seq`, before, ServerDevice, string(auditlog.ActionPrune))
		if err != nil {
			return err
		}
		seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		// sms_sends is kept: its keys (entry ID and reference) are what
		// makes "at most once per key" hold for ever, and hold no
		// personal data.
		if len(seqs) == 0 {
			return nil
		}
		rec := s.ownEntry(auditlog.Entry{
			Action:  auditlog.ActionPrune,
			Details: fmt.Sprintf("gallring: %d poster äldre än %s (%s) / pruned %d entries older than %s", len(seqs), before.Format("2006-01-02"), retention, len(seqs), before.Format("2006-01-02")),
			Prune:   &auditlog.PruneRef{Through: size, Before: before.UTC().Format(time.RFC3339), Count: len(seqs), Seqs: auditlog.FormatSeqs(seqs)},
		})
		ce, line := canonical(rec, size+1, ServerDevice)
		if err := s.extend(ctx, tx, size, [][]byte{line}, func(int) []any { return entryRow(&ce, line, nil) }); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE entries SET body = NULL, case_no = '', ref = '', operator = '', recipient = '', refers = ''
			WHERE seq = ANY($1)`, seqs); err != nil {
			return err
		}
		count = len(seqs)
		return nil
	})
	return count, dbErr(err)
}
