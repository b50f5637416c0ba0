package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// memHashes is an in-memory tlog.HashReader.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not available", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// Verify checks the central log in one consistent snapshot: the head's
// signature (with key, or the server's own key if empty), every entry's
// body against its leaf hash and place, the Merkle tree against the
// signed root and every older checkpoint (the log only ever grew), and
// that every pruned entry is named by one of the server's prune records.
// A log that does not verify is reported in the result (OK false), not
// as an error; errors are for a database that cannot be read.
func (s *Store) Verify(ctx context.Context, key string) (*api.VerifyResponse, error) {
	v := s.verifier
	res := &api.VerifyResponse{Key: s.vkey, Checked: s.now().UTC().Format(time.RFC3339)}
	if key != "" {
		var err error
		if v, err = note.NewVerifier(key); err != nil {
			return nil, fmt.Errorf("%w: the verifier key is not valid", errBadRequest)
		}
		res.Key = key
	}
	fail := func(bad int64, format string, a ...any) (*api.VerifyResponse, error) {
		res.OK, res.FirstBad, res.Problem = false, bad, fmt.Sprintf(format, a...)
		return res, nil
	}
	// The kept head first, then the database's (see keptHead).
	kept, err := s.keptHead()
	if err != nil {
		return fail(0, "%v", err)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, dbErr(err)
	}
	defer tx.Rollback(ctx)
	head, err := s.headTx(ctx, tx)
	if err != nil {
		return nil, dbErr(err)
	}
	res.Head = head
	size, root, err := auditlog.OpenTreeHead([]byte(head.Note), v, auditlog.CentralOrigin)
	if err != nil {
		return fail(0, "the signed tree head does not verify: %v", err)
	}
	if size != head.Size || base64.StdEncoding.EncodeToString(root[:]) != head.Root {
		return fail(0, "the tree head's size or root differs from what its signature covers")
	}
	// The last head this server signed, kept outside the database: a
	// database administrator who removed the newest entries and put
	// back an older (genuinely signed) head is caught here.
	if kept != nil {
		if err := rolledBack(size, root, kept.size, kept.root); err != nil {
			return fail(min(size, kept.size)+1, "%v", err)
		}
	}

	stored := make(memHashes, 0, 2*size+64)
	var stubs []int64
	var covers []seqSpan
	var want int64 = 1
	var seq int64
	var body, leafB []byte
	var device, action string
	var cols searchCols
	var problem, colProblem *api.VerifyResponse
	rows, err := tx.Query(ctx, "SELECT seq, body, leaf, device, action, "+searchColumns+" FROM entries ORDER BY seq")
	if err != nil {
		return nil, dbErr(err)
	}
	_, err = pgx.ForEachRow(rows, []any{&seq, &body, &leafB, &device, &action, &cols.id, &cols.at, &cols.caseNo, &cols.ref, &cols.operator, &cols.recipient, &cols.refers}, func() error {
		if problem != nil {
			return nil
		}
		if seq != want {
			problem, _ = fail(want, "entry %d is missing (the next one is %d)", want, seq)
			return nil
		}
		want++
		var leaf tlog.Hash
		if len(leafB) != tlog.HashSize {
			problem, _ = fail(seq, "entry %d has no valid leaf hash", seq)
			return nil
		}
		copy(leaf[:], leafB)
		if body == nil {
			stubs = append(stubs, seq)
		} else {
			if tlog.RecordHash(body) != leaf {
				problem, _ = fail(seq, "entry %d was changed after it was written", seq)
				return nil
			}
			var h struct {
				Seq    int64              `json:"seq"`
				Device string             `json:"device"`
				Prune  *auditlog.PruneRef `json:"prune"`
			}
			if json.Unmarshal(body, &h) != nil || h.Seq != seq || h.Device != device {
				problem, _ = fail(seq, "entry %d does not match its place or device", seq)
				return nil
			}
			// The columns searches and gallring read must say what the
			// hashed body says: an edited column would hide an entry
			// from a search while every hash still holds.
			// Reported after the tree's own checks, which say more.
			if col := cols.differ(body, action); col != "" && colProblem == nil {
				colProblem = &api.VerifyResponse{FirstBad: seq, Problem: fmt.Sprintf("entry %d's %s column differs from the entry itself: it was edited in the database", seq, col)}
			}
			if action == string(auditlog.ActionPrune) && device == ServerDevice && h.Prune != nil {
				covers = append(covers, parseSpans(h.Prune.Seqs, seq)...)
			}
		}
		hs, err := tlog.StoredHashesForRecordHash(seq-1, leaf, stored)
		if err != nil {
			return err
		}
		stored = append(stored, hs...)
		return nil
	})
	if err != nil {
		return nil, dbErr(err)
	}
	if problem != nil {
		return problem, nil
	}
	res.Entries = want - 1
	res.Pruned = int64(len(stubs))
	if res.Entries != size {
		return fail(min(res.Entries, size)+1, "the signed tree head covers %d entries, the database holds %d", size, res.Entries)
	}
	if got, err := tlog.TreeHash(size, stored); err != nil || got != root {
		return fail(0, "the entries do not add up to the signed root")
	}
	if colProblem != nil {
		return fail(colProblem.FirstBad, "%s", colProblem.Problem)
	}
	if kept != nil {
		if got, err := tlog.TreeHash(kept.size, stored); err != nil || got != kept.root {
			return fail(0, "%v: the log at %d entries differs from the head this server kept for that size: history was rewritten", ErrRolledBack, kept.size)
		}
	}
	if bad := uncovered(stubs, covers); bad != 0 {
		return fail(bad, "entry %d was emptied, but no prune record of the server names it", bad)
	}
	cps, err := tx.Query(ctx, "SELECT size, root FROM checkpoints ORDER BY size")
	if err != nil {
		return nil, dbErr(err)
	}
	var cpSize int64
	var cpRoot []byte
	_, err = pgx.ForEachRow(cps, []any{&cpSize, &cpRoot}, func() error {
		if problem != nil {
			return nil
		}
		if cpSize > size {
			problem, _ = fail(0, "a checkpoint for %d entries is beyond the head", cpSize)
			return nil
		}
		got, err := tlog.TreeHash(cpSize, stored)
		if err != nil {
			return err
		}
		if !bytes.Equal(got[:], cpRoot) {
			problem, _ = fail(0, "the log at %d entries differs from what was signed then: history was rewritten", cpSize)
		}
		return nil
	})
	if err != nil {
		return nil, dbErr(err)
	}
	if problem != nil {
		return problem, nil
	}
	res.OK = true
	return res, nil
}

// seqSpan is an inclusive range of sequence numbers.
type seqSpan struct{ from, to int64 }

// parseSpans reads a prune record's "1-3,7" list; only entries before
// the record itself can be named.
func parseSpans(s string, before int64) []seqSpan {
	var out []seqSpan
	for len(s) > 0 {
		var part string
		if i := bytes.IndexByte([]byte(s), ','); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			part, s = s, ""
		}
		var a, b int64
		if n, _ := fmt.Sscanf(part, "%d-%d", &a, &b); n == 2 {
		} else if n, _ := fmt.Sscanf(part, "%d", &a); n == 1 {
			b = a
		} else {
			continue
		}
		if a >= 1 && b >= a && b < before {
			out = append(out, seqSpan{a, b})
		}
	}
	return out
}

// uncovered returns the first stub no span covers, or 0.
func uncovered(stubs []int64, spans []seqSpan) int64 {
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var merged []seqSpan
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.from <= merged[n-1].to+1 {
			merged[n-1].to = max(merged[n-1].to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	for _, st := range stubs {
		i := sort.Search(len(merged), func(i int) bool { return merged[i].to >= st })
		if i == len(merged) || merged[i].from > st {
			return st
		}
	}
	return 0
}

// searchColumns are the entries table's columns derived from an entry's
// body (by [entryRow]) that searches and gallring select rows by.
const searchColumns = "id, at, case_no, ref, operator, recipient, refers"

// searchCols is one row's searchColumns.
type searchCols struct {
	id, caseNo, ref, operator, recipient, refers string
	at                                           *time.Time
}

// differ names the first column of c (and action) that is not what
// entryRow makes of body, or "".
func (c *searchCols) differ(body []byte, action string) string {
	var e auditlog.Entry
	if json.Unmarshal(body, &e) != nil {
		return "body"
	}
	want := entryRow(&e, body, nil)
	at, _ := want[3].(time.Time)
	switch {
	case c.id != want[1].(string):
		return "id"
	case (c.at == nil) != at.IsZero() || c.at != nil && c.at.Sub(at).Abs() >= time.Microsecond:
		return "at"
	case action != want[4].(string):
		return "action"
	case c.caseNo != want[5].(string):
		return "case_no"
	case c.ref != want[6].(string):
		return "ref"
	case c.operator != want[7].(string):
		return "operator"
	case c.recipient != want[8].(string):
		return "recipient"
	case c.refers != want[9].(string):
		return "refers"
	}
	return ""
}
