package server

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuvert-app/kuvert/auditlog"
)

// Prune is gallring: the bodies of entries older than before are
// removed, their leaf hashes stay (the tree still verifies), and a prune
// record naming exactly the emptied entries is appended in the same
// transaction. The server's own prune records are kept; SMS records are
// kept (see below). It returns how many entries were emptied.
//
// An entry's age is when the server received it, as stamped in its
// hashed line ([canonical]): not the device's clock (an entry dated 9999
// would be kept for ever, one dated 1970 pruned the night it arrives)
// and not a database column an administrator could edit unseen.
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
		seqs, err := s.prunable(ctx, tx, before)
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
			Action: auditlog.ActionPrune,
			Event:  auditlog.NewEvent(auditlog.CodePruned, "count", strconv.Itoa(len(seqs)), "before", before.Format("2006-01-02"), "retention", retention),
			Prune:  &auditlog.PruneRef{Through: size, Before: before.UTC().Format(time.RFC3339), Count: len(seqs), Seqs: auditlog.FormatSeqs(seqs)},
		})
		ce, line := canonical(rec, size+1, ServerDevice, s.now())
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

// prunable returns the entries gallring at before empties, in order:
// every entry a device shipped (whatever it calls itself: a device
// cannot keep an entry by calling it a prune or repair record) and the
// server's own SMS records, by their received time; only the server's
// own prune records are kept (verification needs them). Everything is
// read from the hashed lines, never from the search columns.
//
// Entries from before servers stamped a received time go by the
// device's time, but never later than the received time of any entry
// after them (they arrived before it); by the database's arrival column
// only if their time is unreadable.
func (s *Store) prunable(ctx context.Context, tx pgx.Tx, before time.Time) ([]int64, error) {
	// Newest first, so each entry's later arrivals are known when it is
	// reached; only the result is held in memory.
	rows, err := tx.Query(ctx, "SELECT seq, body, received FROM entries WHERE body IS NOT NULL ORDER BY seq DESC")
	if err != nil {
		return nil, err
	}
	var seqs []int64
	var later time.Time // the earliest received time after the entry at hand
	var seq int64
	var body []byte
	var col time.Time
	var e struct {
		Time     string          `json:"time"`
		Action   auditlog.Action `json:"action"`
		Device   string          `json:"device"`
		Received string          `json:"received"`
	}
	if _, err := pgx.ForEachRow(rows, []any{&seq, &body, &col}, func() error {
		e.Time, e.Action, e.Device, e.Received = "", "", "", ""
		if json.Unmarshal(body, &e) != nil {
			// Not a line the server wrote: verification reports it;
			// gallring leaves it for that.
			return nil
		}
		var t time.Time
		if r, err := time.Parse(time.RFC3339Nano, e.Received); err == nil {
			t = r
			if later.IsZero() || t.Before(later) {
				later = t
			}
		} else {
			if d, err := time.Parse(time.RFC3339Nano, e.Time); err == nil {
				t = d
			} else {
				t = col
			}
			if !later.IsZero() && later.Before(t) {
				t = later
			}
		}
		if t.Before(before) && !(e.Device == ServerDevice && e.Action == auditlog.ActionPrune) {
			seqs = append(seqs, seq)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	slices.Reverse(seqs)
	return seqs, nil
}
