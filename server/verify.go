package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// Verify checks the central log in one consistent snapshot with
// auditlog's tree verifier, the one the local log is checked with: the
// head's signature (with key, or the server's own key if empty), every
// entry's body against its leaf hash, place and device, the Merkle tree
// against the signed root and every older checkpoint (the log only ever
// grew), and that every pruned entry is named by one of the server's
// prune records. What only the server has is checked here as well: the
// head kept outside the database (rolled back?) and the search columns
// (edited?). A log that does not verify is reported in the result (OK
// false), not as an error; errors are for a database that cannot be read.
func (s *Store) Verify(ctx context.Context, key string) (*api.VerifyResponse, error) {
	res, _, err := s.verify(ctx, key)
	return res, err
}

// verify is [Store.Verify] that also returns the problem found, with its
// kind.
func (s *Store) verify(ctx context.Context, key string) (*api.VerifyResponse, *auditlog.Problem, error) {
	v := s.verifier
	res := &api.VerifyResponse{Key: s.vkey, Checked: s.now().UTC().Format(time.RFC3339)}
	if key != "" {
		var err error
		if v, err = note.NewVerifier(key); err != nil {
			return nil, nil, fmt.Errorf("%w: the verifier key is not valid", errBadRequest)
		}
		res.Key = key
	}
	fail := func(err error) (*api.VerifyResponse, *auditlog.Problem, error) {
		var p *auditlog.Problem
		if !errors.As(err, &p) {
			return nil, nil, err
		}
		res.OK, res.FirstBad, res.Problem = false, p.Seq, p.Text
		return res, p, nil
	}
	serverOnly := func(bad int64, format string, a ...any) (*api.VerifyResponse, *auditlog.Problem, error) {
		return fail(&auditlog.Problem{Kind: auditlog.KindStore, Seq: bad, Text: fmt.Sprintf(format, a...)})
	}
	// The kept head first, then the database's (see keptHead).
	kept, err := s.keptHead()
	if err != nil {
		return serverOnly(0, "%v", err)
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, nil, dbErr(err)
	}
	defer tx.Rollback(ctx)
	head, err := s.headTx(ctx, tx)
	if err != nil {
		return nil, nil, dbErr(err)
	}
	res.Head = head
	tv, err := auditlog.TreeCheck{Verifier: v, Origin: auditlog.CentralOrigin, PruneDevice: ServerDevice, Devices: true}.Start([]byte(head.Note))
	if err != nil {
		return fail(err)
	}
	size, root := tv.Head().Size, tv.Head().Root
	if size != head.Size || base64.StdEncoding.EncodeToString(root[:]) != head.Root {
		return fail(&auditlog.Problem{Kind: auditlog.KindSignature, Text: "the tree head's size or root differs from what its signature covers"})
	}
	// The last head this server signed, kept outside the database: a
	// database administrator who removed the newest entries and put
	// back an older (genuinely signed) head is caught here.
	if kept != nil {
		if err := rolledBack(size, root, kept.size, kept.root); err != nil {
			return serverOnly(min(size, kept.size)+1, "%v", err)
		}
	}

	var seq int64
	var body, leaf []byte
	var device, action string
	var cols searchCols
	var problem error
	var colProblem *auditlog.Problem
	rows, err := tx.Query(ctx, "SELECT seq, body, leaf, device, action, "+searchColumns+" FROM entries ORDER BY seq")
	if err != nil {
		return nil, nil, dbErr(err)
	}
	_, err = pgx.ForEachRow(rows, []any{&seq, &body, &leaf, &device, &action, &cols.id, &cols.at, &cols.caseNo, &cols.ref, &cols.operator, &cols.recipient, &cols.refers}, func() error {
		if problem != nil {
			return nil
		}
		if leaf == nil {
			leaf = []byte{} // the table keeps every leaf: a missing one is not "none kept"
		}
		if err := tv.Add(auditlog.Record{Seq: seq, Body: body, Leaf: leaf, Device: device}); err != nil {
			if _, ok := err.(*auditlog.Problem); !ok {
				return err
			}
			problem = err
			return nil
		}
		// The columns searches and gallring read must say what the
		// hashed body says: an edited column would hide an entry
		// from a search while every hash still holds.
		// Reported after the tree's own checks, which say more.
		if body != nil && colProblem == nil {
			if col := cols.differ(body, action); col != "" {
				colProblem = &auditlog.Problem{Kind: auditlog.KindStore, Seq: seq, Text: fmt.Sprintf("entry %d's %s column differs from the entry itself: it was edited in the database", seq, col)}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, dbErr(err)
	}
	if problem != nil {
		return fail(problem)
	}
	var history []auditlog.TreeHead
	var cpSize int64
	var cpRoot []byte
	cps, err := tx.Query(ctx, "SELECT size, root FROM checkpoints ORDER BY size")
	if err != nil {
		return nil, nil, dbErr(err)
	}
	_, err = pgx.ForEachRow(cps, []any{&cpSize, &cpRoot}, func() error {
		cp := auditlog.TreeHead{Size: cpSize}
		if len(cpRoot) == tlog.HashSize {
			copy(cp.Root[:], cpRoot)
		} // else the zero hash, which is no tree's root
		history = append(history, cp)
		return nil
	})
	if err != nil {
		return nil, nil, dbErr(err)
	}
	tr, err := tv.Finish(history)
	res.Entries, res.Pruned = tr.Entries, tr.Pruned
	if err != nil {
		return fail(err)
	}
	if colProblem != nil {
		return fail(colProblem)
	}
	if kept != nil {
		if got, err := tlog.TreeHash(kept.size, tv.Hashes()); err != nil || got != kept.root {
			return serverOnly(0, "%v: the log at %d entries differs from the head this server kept for that size: history was rewritten", ErrRolledBack, kept.size)
		}
	}
	res.OK = true
	return res, nil, nil
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
