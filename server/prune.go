package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuvert-app/kuvert/auditlog"
)

// Prune is gallring: the bodies of entries older than before are
// removed, their leaf hashes stay (the tree still verifies), and a prune
// record naming exactly the emptied entries is appended in the same
// transaction. Prune and repair records are kept. SMS records older than
// before are deleted too. It returns how many entries were emptied.
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
		rows, err := tx.Query(ctx, "SELECT seq, body FROM entries WHERE body IS NOT NULL AND at < $1 ORDER BY seq", before)
		if err != nil {
			return err
		}
		var seqs []int64
		var seq int64
		var body []byte
		if _, err := pgx.ForEachRow(rows, []any{&seq, &body}, func() error {
			var e auditlog.Entry
			if json.Unmarshal(body, &e) == nil && auditlog.Prunable(&e, before) {
				seqs = append(seqs, seq)
			}
			return nil
		}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sms_sends WHERE created < $1 AND state <> 'sending'", before); err != nil {
			return err
		}
		if len(seqs) == 0 {
			return nil
		}
		rec := s.ownEntry(auditlog.Entry{
			Action:  auditlog.ActionPrune,
			Details: fmt.Sprintf("gallring: %d poster äldre än %s (%s) / pruned %d entries older than %s", len(seqs), before.Format("2006-01-02"), retention, len(seqs), before.Format("2006-01-02")),
			Prune:   &auditlog.PruneRef{Through: size, Before: before.UTC().Format(time.RFC3339), Count: len(seqs), Seqs: auditlog.FormatSeqs(seqs)},
		})
		ce, line := canonical(rec, size+1, ServerDevice)
		if err := s.extend(ctx, tx, size, [][]byte{line}, func(int) []any { return entryRow(&ce, line) }); err != nil {
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
