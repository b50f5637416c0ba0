package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// ErrForeignID: an entry ID the central log already holds from another
// device. A device may only append its own entries.
var ErrForeignID = errors.New("entry ID belongs to another device")

// ErrConflict: an entry ID the central log holds with other content.
var ErrConflict = errors.New("entry ID already holds a different entry")

// appendReq is one request's entries, from one device.
type appendReq struct {
	device  string
	entries []auditlog.Entry
	res     []api.AppendResult
	head    api.Head
	err     error
}

// Append adds a device's entries to the central log, in order, once per
// ID: an entry whose ID the log already holds from this device with the
// same content is reported as a duplicate and not added again; an ID
// held by another device ([ErrForeignID]) or with other content
// ([ErrConflict]) refuses the whole request, adding none of it.
//
// Requests arriving together are committed in one transaction (group
// commit); the transaction locks the tree_head row, so appends from any
// number of server processes form one tree.
func (s *Store) Append(ctx context.Context, device string, es []auditlog.Entry) ([]api.AppendResult, api.Head, error) {
	if device == "" {
		return nil, api.Head{}, errors.New("no device")
	}
	for i := range es {
		var err error
		if device == ServerDevice {
			err = checkOwn(&es[i], i+1)
		} else {
			err = checkShipped(&es[i], i+1)
		}
		if err != nil {
			return nil, api.Head{}, fmt.Errorf("%w: %w", errBadRequest, err)
		}
	}
	r := &appendReq{device: device, entries: es}
	s.gc.Do(r, s.commitGroup)
	if r.err != nil {
		return nil, api.Head{}, r.err
	}
	// The head just signed is kept outside the database before anyone
	// is told about it.
	if err := s.keepHead([]byte(r.head.Note)); err != nil {
		return nil, api.Head{}, err
	}
	if err := s.prove(ctx, r.res, r.head.Size); err != nil {
		return nil, api.Head{}, err
	}
	return r.res, r.head, nil
}

// checkOwn is what an entry the server writes itself (the relay's record
// of a text it sent) must have. It is not refused for anything else: the
// text has gone out and must be recorded; its texts are masked and
// bounded like every entry's ([canonical]).
func checkOwn(e *auditlog.Entry, n int) error {
	switch {
	case checkIdentifier(e.ID, maxIDLen, true) != "":
		return fmt.Errorf("entry %d: no valid id", n)
	case e.Pruned:
		return fmt.Errorf("entry %d: a pruned entry has no body to ship", n)
	case e.Action == "":
		return fmt.Errorf("entry %d: no action", n)
	}
	return nil
}

// commitGroup commits a group of requests in one transaction. If that
// fails with a database error (not a lost connection), each request is
// committed alone: whatever in one request's entries the database
// refuses must fail that request only, never the other devices' requests
// that happened to arrive with it.
func (s *Store) commitGroup(batch []*appendReq) {
	err := s.commitTry(batch)
	if err != nil && len(batch) > 1 && !errors.Is(err, ErrUnavailable) {
		for _, r := range batch {
			s.finish([]*appendReq{r}, s.commitTry([]*appendReq{r}))
		}
		return
	}
	s.finish(batch, err)
}

// commitTry runs a group's transaction, again on a lost connection.
// Requests a rule refused keep their error.
func (s *Store) commitTry(batch []*appendReq) error {
	var err error
	for try := 0; try < 3; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.appendTx(ctx, tx, batch) })
		cancel()
		err = dbErr(err)
		if err == nil || !errors.Is(err, ErrUnavailable) {
			break
		}
		time.Sleep(time.Duration(try+1) * 100 * time.Millisecond)
	}
	return err
}

// finish gives each request of a group the transaction's error, unless a
// rule refused it already.
func (s *Store) finish(batch []*appendReq, err error) {
	for _, r := range batch {
		if err != nil && r.err == nil {
			r.err = err
			r.res = nil
		}
	}
}

// appendTx is one group's transaction.
func (s *Store) appendTx(ctx context.Context, tx pgx.Tx, batch []*appendReq) error {
	var size int64
	var rootB []byte
	if err := syncCommit(ctx, tx); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, "SELECT size, root FROM tree_head WHERE id = 1 FOR UPDATE").Scan(&size, &rootB); err != nil {
		return err
	}
	// One arrival time for the whole group, stamped into each entry's
	// hashed line ([canonical]).
	received := s.now()
	var ids []string
	for _, r := range batch {
		r.err, r.res = nil, nil
		for _, e := range r.entries {
			ids = append(ids, e.ID)
		}
	}
	type have struct {
		device  string
		seq     int64
		body    []byte
		shipped []byte
	}
	existing := map[string]have{}
	rows, err := tx.Query(ctx, "SELECT id, device, seq, body, shipped FROM entries WHERE id = ANY($1)", ids)
	if err != nil {
		return err
	}
	var id, dev string
	var seq int64
	var body, shipped []byte
	if _, err := pgx.ForEachRow(rows, []any{&id, &dev, &seq, &body, &shipped}, func() error {
		existing[id] = have{dev, seq, bytes.Clone(body), bytes.Clone(shipped)}
		return nil
	}); err != nil {
		return err
	}
	// same reports whether e is the entry h holds: by the hash of what
	// was shipped, else (rows from before that column) by the stored line.
	same := func(e auditlog.Entry, h have, device string) bool {
		if h.shipped != nil {
			return bytes.Equal(shippedHash(e), h.shipped)
		}
		if h.body == nil {
			return true
		}
		return bytes.Equal(legacyLine(e, h.seq, device), h.body)
	}

	// Lay out the new entries; a request with a refused entry adds none.
	type row struct {
		e       auditlog.Entry
		line    []byte
		shipped []byte
	}
	var add []row
	n := size
	for _, r := range batch {
		var mine []row
		inReq := map[string]int{} // ID → its index in mine
		res := make([]api.AppendResult, len(r.entries))
		for i, e := range r.entries {
			if k, ok := inReq[e.ID]; ok {
				// The same ID twice in one request: a duplicate only if it
				// is the same entry.
				m := mine[k]
				if !bytes.Equal(shippedHash(e), m.shipped) {
					r.err = fmt.Errorf("%w: %s", ErrConflict, e.ID)
					break
				}
				res[i] = api.AppendResult{ID: e.ID, Seq: m.e.Seq, Duplicate: true, Record: m.line}
				continue
			}
			if h, ok := existing[e.ID]; ok {
				if h.device != r.device {
					r.err = fmt.Errorf("%w: %s", ErrForeignID, e.ID)
					break
				}
				if !same(e, h, r.device) {
					r.err = fmt.Errorf("%w: %s", ErrConflict, e.ID)
					break
				}
				res[i] = api.AppendResult{ID: e.ID, Seq: h.seq, Duplicate: true, Record: h.body}
				continue
			}
			n2 := n + int64(len(mine)) + 1
			ce, line := canonical(e, n2, r.device, received)
			inReq[e.ID] = len(mine)
			mine = append(mine, row{ce, line, shippedHash(e)})
			res[i] = api.AppendResult{ID: e.ID, Seq: n2, Record: line}
		}
		if r.err != nil {
			continue
		}
		for _, m := range mine {
			existing[m.e.ID] = have{r.device, m.e.Seq, m.line, m.shipped}
		}
		add = append(add, mine...)
		n += int64(len(mine))
		r.res = res
	}
	if s.testOnlyInAppend != nil {
		if err := s.testOnlyInAppend(ctx, tx, batch); err != nil {
			return err
		}
	}
	if len(add) > 0 {
		lines := make([][]byte, len(add))
		for i := range add {
			lines[i] = add[i].line
		}
		if err := s.extend(ctx, tx, size, lines, func(i int) []any {
			e := add[i].e
			return entryRow(&e, add[i].line, add[i].shipped)
		}); err != nil {
			return err
		}
	}
	head, err := s.headTx(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range batch {
		r.head = head
	}
	return nil
}

// extend appends lines after size entries: their rows, the tree's new
// stored hashes and a newly signed head, in transaction tx, which holds
// the tree_head row's lock.
func (s *Store) extend(ctx context.Context, tx pgx.Tx, size int64, lines [][]byte, rowOf func(i int) []any) error {
	// Sign nothing on top of a log older than the last head signed: that
	// would bless a rollback with a genuine signature. (The tree_head
	// row is locked: no other process commits a head meanwhile.)
	kept, err := s.keptHead()
	if err != nil {
		return err
	}
	var cur string
	if err := tx.QueryRow(ctx, "SELECT note FROM tree_head WHERE id = 1").Scan(&cur); err != nil {
		return err
	}
	if err := s.checkHead(kept, []byte(cur)); err != nil {
		return err
	}
	tree := &cachedHashes{r: dbHashes{ctx, tx}, base: tlog.StoredHashCount(size), known: map[int64]tlog.Hash{}}
	n := size
	for _, line := range lines {
		hs, err := tlog.StoredHashes(n, line, tree)
		if err != nil {
			return err
		}
		tree.extra = append(tree.extra, hs...)
		n++
	}
	root, err := tlog.TreeHash(n, tree)
	if err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"entries"},
		entryColumns,
		pgx.CopyFromSlice(len(lines), func(i int) ([]any, error) { return rowOf(i), nil })); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"tree_hashes"}, []string{"idx", "hash"},
		pgx.CopyFromSlice(len(tree.extra), func(i int) ([]any, error) {
			h := tree.extra[i]
			return []any{tree.base + int64(i), h[:]}, nil
		})); err != nil {
		return err
	}
	msg, err := auditlog.SignTreeHead(s.signer, auditlog.CentralOrigin, n, root)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.Exec(ctx, "UPDATE tree_head SET size = $1, root = $2, note = $3, signed = $4 WHERE id = 1", n, root[:], string(msg), now); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO checkpoints (size, root, note, signed) VALUES ($1, $2, $3, $4)", n, root[:], string(msg), now)
	return err
}

func (s *Store) headTx(ctx context.Context, tx pgx.Tx) (api.Head, error) {
	var h api.Head
	var root []byte
	var signed time.Time
	if err := tx.QueryRow(ctx, "SELECT size, root, note, signed FROM tree_head WHERE id = 1").Scan(&h.Size, &root, &h.Note, &signed); err != nil {
		return h, err
	}
	h.Root = base64.StdEncoding.EncodeToString(root)
	h.Time = signed.UTC().Format(time.RFC3339)
	return h, nil
}

// canonical is the entry as the central log stores it: the device's
// entry at its central place, with the device's name and the server's
// time of arrival, every text masked and bounded by the server itself
// ([auditlog.Entry.Labelled]), and its JSON line (the tree's record).
// Whatever the device said of its own arrival is replaced.
func canonical(e auditlog.Entry, seq int64, device string, received time.Time) (auditlog.Entry, []byte) {
	e.Seq = seq
	e.Device = device
	e.Pruned, e.Leaf = false, ""
	e = e.Labelled()
	e.Received = received.UTC().Format(time.RFC3339)
	line, _ := json.Marshal(e)
	return e, line
}

// legacyLine is e as servers stored it before they kept the hash of what
// was shipped: a retry of such an entry is recognised by it.
func legacyLine(e auditlog.Entry, seq int64, device string) []byte {
	e.Seq = seq
	e.Device = device
	e.Pruned, e.Leaf = false, ""
	e = e.Normalized()
	line, _ := json.Marshal(e)
	return line
}

// entryRow is an entry's row in the entries table.
func entryRow(e *auditlog.Entry, line, shipped []byte) []any {
	var at any
	if t := e.When(); !t.IsZero() {
		at = t
	}
	ref, recipient := "", ""
	if e.Delivery != nil {
		ref, recipient = e.Delivery.Ref, e.Delivery.To
	}
	leaf := tlog.RecordHash(line)
	// The search columns are PostgreSQL text, which refuses NUL; a NUL a
	// device shipped would fail the whole group commit (every device's
	// request in it). They are only for searching: the entry itself
	// (body, bytea) keeps every character.
	return []any{e.Seq, e.ID, e.Device, at, noNUL(string(e.Action)), noNUL(e.Case), noNUL(ref), noNUL(e.Operator), noNUL(recipient), noNUL(e.Refers), line, leaf[:], shipped}
}

// entryColumns are entryRow's columns.
var entryColumns = []string{"seq", "id", "device", "at", "action", "case_no", "ref", "operator", "recipient", "refers", "body", "leaf", "shipped"}

// shippedHash identifies an entry as the device shipped it, before the
// server normalised it: a retry is a duplicate when its hash matches,
// even if the server's masking or limits changed in between (an upgrade
// must not turn a retry into a conflict that stops the device's queue).
func shippedHash(e auditlog.Entry) []byte {
	e.Seq, e.Device, e.Pruned, e.Leaf = 0, "", false, ""
	b, _ := json.Marshal(e)
	h := sha256.Sum256(b)
	return h[:]
}

// noNUL drops NUL characters, which a PostgreSQL text value cannot hold.
func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "") }

// cachedHashes reads stored hashes below base from the database (once
// each) and the ones this transaction adds from extra.
type cachedHashes struct {
	r     dbHashes
	base  int64
	extra []tlog.Hash
	known map[int64]tlog.Hash
}

func (c *cachedHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	var need []int64
	for _, x := range idx {
		if _, ok := c.known[x]; !ok && x < c.base {
			need = append(need, x)
		}
	}
	if len(need) > 0 {
		hs, err := c.r.ReadHashes(need)
		if err != nil {
			return nil, err
		}
		for i, x := range need {
			c.known[x] = hs[i]
		}
	}
	for i, x := range idx {
		if x >= c.base {
			if x-c.base >= int64(len(c.extra)) {
				return nil, fmt.Errorf("hash %d not available", x)
			}
			out[i] = c.extra[x-c.base]
			continue
		}
		out[i] = c.known[x]
	}
	return out, nil
}

// prove fills each result's leaf index, leaf hash and inclusion proof in
// the tree of size entries (the signed head of the answer), so a device
// can check that what it shipped is in the log before it moves on. The
// tree's stored hashes below size never change; they are read after the
// commit, outside the tree's lock, in one query.
func (s *Store) prove(ctx context.Context, res []api.AppendResult, size int64) error {
	var want []int64
	rec := &recordingHashes{}
	for _, r := range res {
		want = append(want, tlog.StoredHashIndex(0, r.Seq-1))
		if _, err := tlog.ProveRecord(size, r.Seq-1, rec); err != nil {
			return err
		}
	}
	hs, err := dbHashes{ctx, s.pool}.ReadHashes(append(want, rec.idx...))
	if err != nil {
		return err
	}
	known := memMap{}
	for i, x := range append(want, rec.idx...) {
		known[x] = hs[i]
	}
	b64 := base64.StdEncoding.EncodeToString
	for i := range res {
		r := &res[i]
		r.Index = r.Seq - 1
		leaf := known[tlog.StoredHashIndex(0, r.Index)]
		r.Leaf = b64(leaf[:])
		p, err := tlog.ProveRecord(size, r.Index, known)
		if err != nil {
			return err
		}
		r.Proof = make([]string, len(p))
		for k, h := range p {
			r.Proof[k] = b64(h[:])
		}
	}
	return nil
}

// recordingHashes notes the stored hashes a proof needs (returning
// zeroes), so they can be read in one query.
type recordingHashes struct{ idx []int64 }

func (r *recordingHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	r.idx = append(r.idx, idx...)
	return make([]tlog.Hash, len(idx)), nil
}

// memMap is a tlog.HashReader over hashes read before.
type memMap map[int64]tlog.Hash

func (m memMap) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		h, ok := m[x]
		if !ok {
			return nil, fmt.Errorf("tree hash %d not read", x)
		}
		out[i] = h
	}
	return out, nil
}
