// Package shipping carries the local compliance log to the central one
// on a kuvert server ([Queue]): the log itself is the queue, a cursor
// file beside it says how far the server has it, and the cursor moves
// only after the server proved it holds what was shipped.
//
// It never moves the cursor before the server answered, never drops an
// entry the server refused, and reads no environment: the [client.Client]
// and the server's key are handed in.
package shipping

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
)

// Files the queue keeps in the log folder.
const (
	CursorFile = "server-sync.json"
	lockFile   = ".server-sync.lock"
)

// Cursor is the queue's place in the local log and what it last heard
// from the server; it is written atomically after every answer.
type Cursor struct {
	Server string `json:"server,omitempty"` // the address the entries up to Seq went to
	// Seq is the last local entry the server has (or a pruned stub passed
	// over); ID its ID (empty for a stub), Offset where its line starts in
	// entries.jsonl (a hint: a prune moves lines, then the queue finds
	// Seq again by reading from the start).
	Seq    int64  `json:"seq"`
	ID     string `json:"id,omitempty"`
	Offset int64  `json:"offset"`
	// Shipped counts the entries the server took; Pruned the stubs passed
	// over (pruned before they were shipped: nothing left to ship).
	Shipped int64 `json:"shipped"`
	Pruned  int64 `json:"pruned_unshipped"`
	// LastSync is the last answer that took entries (or had none to
	// take), RFC 3339; LastError and LastErrorAt the last failure.
	LastSync    string `json:"last_sync,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	LastErrorAt string `json:"last_error_at,omitempty"`
	// Stuck is the entry the server refused (403, 409, 400): shipping
	// stops there, the entry keeps waiting, until someone resolves it.
	Stuck *Stuck `json:"stuck,omitempty"`
	// Head is the last signed tree head the server returned. `kuvert log
	// verify --server` checks that the server's later heads are
	// consistent with it.
	Head *api.Head `json:"head,omitempty"`
	// Key is the verifier key the queue checks the server's answers with:
	// [Queue.Key], else the one the server gave on the first sync (kept).
	Key string `json:"key,omitempty"`
}

// StuckTampered is [Stuck.Code] when the server's answer did not prove
// that it holds what was shipped: the entries keep waiting.
const StuckTampered = "tampered"

// Stuck is a refused entry.
type Stuck struct {
	Seq     int64  `json:"seq"`
	ID      string `json:"id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Queue ships a local compliance log to the server: the log itself is
// the queue, [CursorFile] in its folder says how far the server has it.
// Entries go in the log's order, in batches of at most api.MaxAppend, and
// the cursor moves only after the server answered. A retry is safe: the
// server adds an entry once per ID, so a crash between its answer and
// the cursor's write ships the batch again and adds nothing twice.
type Queue struct {
	Log    *auditlog.Log
	Client *client.Client // nil: no server configured (Status only)
	// Batch is the most entries per request; default api.MaxAppend.
	Batch int
	// Wait is how long Ship waits for another process that is shipping
	// the same log; 0 gives up at once (ErrBusy).
	Wait time.Duration
	// Key is the server's verifier key, as its administrator published
	// it; empty: the key the server gives on the first sync is kept in
	// the cursor and trusted from then on.
	Key string
	now func() time.Time
	// Words is how a failure is kept in the cursor for people to read
	// (LastError, Stuck.Message): the shell's words for the faults in
	// it; nil keeps the machine text.
	Words func(error) string
	// testOnlyAfterAnswer runs between the server's answer and the
	// cursor's write (a crash there is what tests simulate).
	testOnlyAfterAnswer func() error
}

// Codes of the queue's errors a person reads; each shell words them in
// its catalog.
const (
	CodeBusy     fault.Code = "shipping.busy"      // another kuvert is shipping this log
	CodeNoServer fault.Code = "shipping.no-server" // no server configured
)

// words is err as the cursor keeps it: the shell's words, else the
// machine text.
func (q *Queue) words(err error) string {
	if q.Words != nil {
		return q.Words(err)
	}
	return err.Error()
}

// ErrBusy: another kuvert on this computer is shipping this log now.
var ErrBusy error = fault.New(CodeBusy)

// ErrStuck: the server refused an entry; shipping stops there until it is
// resolved (see [Cursor.Stuck]).
var ErrStuck = errors.New("the kuvert server refused an entry")

// Result is what one Ship did.
type Result struct {
	Shipped    int       `json:"shipped"`    // entries sent and taken (new or already there)
	Duplicates int       `json:"duplicates"` // of those, ones the server already had
	Pruned     int       `json:"pruned"`     // stubs passed over
	Waiting    int       `json:"waiting"`    // entries still to ship
	Head       *api.Head `json:"head,omitempty"`
}

func (q *Queue) clock() time.Time {
	if q.now != nil {
		return q.now()
	}
	return time.Now()
}

func (q *Queue) path(name string) string { return filepath.Join(q.Log.Dir(), name) }

// ReadCursor reads the cursor; a missing file is the start.
func ReadCursor(logDir string) (*Cursor, error) {
	var c Cursor
	path := filepath.Join(logDir, CursorFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); remove it to ship the whole log again (the server keeps each entry once)", path, err)
	}
	return &c, nil
}

func (q *Queue) writeCursor(c *Cursor) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(q.path(CursorFile), append(b, '\n'), 0o600)
}

// lock takes the shipping lock so that two processes do not ship at once.
func (q *Queue) lock(ctx context.Context) (func(), error) {
	fl := flock.New(q.path(lockFile))
	var ok bool
	var err error
	if q.Wait > 0 {
		c, cancel := context.WithTimeout(ctx, q.Wait)
		ok, err = fl.TryLockContext(c, 50*time.Millisecond)
		cancel()
	} else {
		ok, err = fl.TryLock()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("the shipping lock %s: %w", q.path(lockFile), err)
	}
	if !ok {
		return nil, ErrBusy
	}
	return func() { fl.Unlock() }, nil
}

// pending is the next entries to ship after the cursor.
type pending struct {
	entries []auditlog.Entry
	starts  []int64
	pruned  []int64 // stubs passed over before the batch's last entry
	// lastStub is the last stub passed over when no entry follows it in
	// this batch (so the cursor can move past trailing stubs).
	lastStub      *auditlog.Entry
	lastStubStart int64
	waiting       int // entries after the cursor in all (up to the log's end)
	bytes         int // the entries' JSON size
}

// MaxBatchBytes is the most JSON one append request carries (the server
// reads at most 16 MB); a single entry (at most 1 MB) always goes.
const MaxBatchBytes = 8 << 20

func entrySize(e *auditlog.Entry) int {
	b, err := json.Marshal(e)
	if err != nil {
		return 0
	}
	return len(b) + 1
}

// scan finds where the cursor is in the log now and reads what follows:
// up to max entries to ship (0: just count). A cursor that no longer
// matches its entry (the log was rebuilt after a crash) starts again
// from the beginning: the server keeps each entry once.
func (q *Queue) scan(c *Cursor, max int) (*pending, error) {
	from := int64(0)
	if c.Seq > 0 {
		found, at := false, int64(0)
		check := func(e *auditlog.Entry, start, _ int64) bool {
			if e.Seq == c.Seq {
				found = e.Pruned || e.ID == c.ID
				at = start
				return false
			}
			return e.Seq < c.Seq
		}
		if err := q.Log.ReadFrom(c.Offset, check); err != nil || !found {
			found = false
			if err := q.Log.ReadFrom(0, check); err != nil {
				return nil, err
			}
		}
		if found {
			from = at
			c.Offset = at
		} else {
			*c = Cursor{Server: c.Server, Shipped: c.Shipped, Pruned: c.Pruned, LastSync: c.LastSync, Head: c.Head, Key: c.Key}
		}
	}
	p := &pending{}
	var stubs []int64 // stubs after the last entry taken: counted only once an entry follows them
	full := false
	err := q.Log.ReadFrom(from, func(e *auditlog.Entry, start, _ int64) bool {
		if e.Seq <= c.Seq {
			return true
		}
		if e.Pruned {
			switch {
			case full || max == 0:
			case len(p.entries) == 0:
				p.pruned = append(p.pruned, e.Seq)
				p.lastStub, p.lastStubStart = e, start
			default:
				stubs = append(stubs, e.Seq)
			}
			return true
		}
		p.waiting++
		if full || len(p.entries) >= max {
			full = true
			return true
		}
		// A batch stays well under what the server reads in one request
		// (16 MB): 500 entries of a batch host sealing folders of long
		// file names are more than that, and the server would refuse the
		// same batch on every try.
		size := entrySize(e)
		if len(p.entries) > 0 && p.bytes+size > MaxBatchBytes {
			full = true
			return true
		}
		p.entries = append(p.entries, *e)
		p.starts = append(p.starts, start)
		p.bytes += size
		p.pruned = append(p.pruned, stubs...)
		stubs = nil
		return true
	})
	return p, err
}

// Ship sends every waiting entry, batch by batch, until none waits, the
// server fails or ctx ends. Entries the server took stay shipped even
// when a later batch fails; the error says why the rest waits.
func (q *Queue) Ship(ctx context.Context) (Result, error) {
	var res Result
	if q.Client == nil {
		return res, fault.New(CodeNoServer)
	}
	unlock, err := q.lock(ctx)
	if err != nil {
		return res, err
	}
	defer unlock()
	c, err := ReadCursor(q.Log.Dir())
	if err != nil {
		return res, err
	}
	if c.Server != "" && c.Server != q.Client.URL() {
		// Another server: everything goes there (a server that has it
		// already keeps each entry once).
		*c = Cursor{}
	}
	c.Server = q.Client.URL()
	max := q.Batch
	if max <= 0 || max > api.MaxAppend {
		max = api.MaxAppend
	}
	for {
		p, err := q.scan(c, max)
		if err != nil {
			return res, err
		}
		res.Waiting = p.waiting
		if len(p.entries) == 0 {
			// Only stubs (or nothing) after the cursor: pass over them,
			// and ask for the head, so a sync with nothing to ship still
			// says whether the server answers.
			if p.lastStub != nil {
				c.Seq, c.ID, c.Offset = p.lastStub.Seq, "", p.lastStubStart
				c.Pruned += int64(len(p.pruned))
				res.Pruned += len(p.pruned)
			}
			h, err := q.Client.Head(ctx)
			if err != nil {
				c.LastError, c.LastErrorAt = q.words(err), q.clock().Format(time.RFC3339)
				return res, errors.Join(err, q.writeCursor(c))
			}
			if err := q.checkHead(ctx, c, h); err != nil {
				c.LastError, c.LastErrorAt = q.words(err), q.clock().Format(time.RFC3339)
				return res, errors.Join(err, q.writeCursor(c))
			}
			c.LastSync = q.clock().Format(time.RFC3339)
			c.LastError, c.LastErrorAt, c.Stuck = "", "", nil
			c.Head = &h
			if res.Head == nil {
				res.Head = &h
			}
			return res, q.writeCursor(c)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		ar, err := q.Client.Append(ctx, p.entries)
		if err == nil && len(ar.Results) != len(p.entries) {
			err = &client.Error{Op: "append", Server: q.Client.Host(), Status: 200, Code: api.CodeInternal, Message: fmt.Sprintf("the server answered %d results for %d entries", len(ar.Results), len(p.entries))}
		}
		if err == nil {
			for i, r := range ar.Results {
				if r.ID != p.entries[i].ID {
					err = &client.Error{Op: "append", Server: q.Client.Host(), Status: 200, Code: api.CodeInternal, Message: "the server's results are not in the order sent"}
					break
				}
			}
		}
		if err == nil {
			err = q.checkAnswer(ctx, c, p.entries, ar)
		}
		if err != nil {
			now := q.clock().Format(time.RFC3339)
			c.LastError, c.LastErrorAt = q.words(err), now
			if errors.Is(err, client.ErrTampered) {
				c.Stuck = &Stuck{Seq: p.entries[0].Seq, ID: p.entries[0].ID, Code: StuckTampered, Message: q.words(err)}
				if werr := q.writeCursor(c); werr != nil {
					return res, errors.Join(err, werr)
				}
				return res, fmt.Errorf("%w: %w", ErrStuck, err)
			}
			if !client.Temporary(err) && !errors.Is(err, client.ErrUnauthorized) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				c.Stuck = q.stuckOf(err, p.entries)
				err = fmt.Errorf("%w: %w", ErrStuck, err)
			}
			if werr := q.writeCursor(c); werr != nil {
				return res, errors.Join(err, werr)
			}
			return res, err
		}
		if q.testOnlyAfterAnswer != nil {
			if err := q.testOnlyAfterAnswer(); err != nil {
				return res, err
			}
		}
		n := len(p.entries)
		last := p.entries[n-1]
		c.Seq, c.ID, c.Offset = last.Seq, last.ID, p.starts[n-1]
		c.Shipped += int64(n)
		c.Pruned += int64(len(p.pruned))
		c.LastSync = q.clock().Format(time.RFC3339)
		c.LastError, c.LastErrorAt, c.Stuck = "", "", nil
		h := ar.Head
		c.Head = &h
		if err := q.writeCursor(c); err != nil {
			return res, err
		}
		res.Shipped += n
		res.Pruned += len(p.pruned)
		for _, r := range ar.Results {
			if r.Duplicate {
				res.Duplicates++
			}
		}
		res.Head = &h
		res.Waiting = p.waiting - n
	}
}

// stuckOf names the refused entry: the one whose ID the server's message
// names, else the batch's first.
func (q *Queue) stuckOf(err error, es []auditlog.Entry) *Stuck {
	var ce *client.Error
	s := &Stuck{Seq: es[0].Seq, ID: es[0].ID, Message: q.words(err)}
	if errors.As(err, &ce) {
		s.Code = ce.Code
		for _, e := range es {
			if strings.Contains(ce.Message, e.ID) {
				s.Seq, s.ID = e.Seq, e.ID
				break
			}
		}
	}
	return s
}

// Status is the queue's state for `kuvert log status` and the desktop app.
type Status struct {
	Server      string    `json:"server,omitempty"` // "" when none is configured
	Waiting     int       `json:"waiting"`
	Shipped     int64     `json:"shipped"`
	Pruned      int64     `json:"pruned_unshipped"`
	LastSync    string    `json:"last_sync,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt string    `json:"last_error_at,omitempty"`
	Stuck       *Stuck    `json:"stuck,omitempty"`
	Head        *api.Head `json:"head,omitempty"`
}

// Status reads the cursor and counts the entries that wait. It never
// calls the server.
func (q *Queue) Status() (*Status, error) {
	c, err := ReadCursor(q.Log.Dir())
	if err != nil {
		return nil, err
	}
	st := &Status{}
	if q.Client != nil {
		st.Server = q.Client.URL()
		if c.Server != "" && c.Server != st.Server {
			*c = Cursor{}
		}
	}
	cc := *c
	p, err := q.scan(&cc, 0)
	if err != nil {
		return nil, err
	}
	st.Waiting = p.waiting
	st.Shipped, st.Pruned = c.Shipped, c.Pruned
	st.LastSync, st.LastError, st.LastErrorAt, st.Stuck, st.Head = c.LastSync, c.LastError, c.LastErrorAt, c.Stuck, c.Head
	return st, nil
}

// checkAnswer checks, before the cursor moves, that the server proved it
// holds every shipped entry: its head is signed with the trusted key and
// consistent with the last head the queue accepted; each result's leaf
// is inside that head, proved by an inclusion proof; and the stored line
// whose hash is the leaf is the shipped entry (its ID, place, action and
// file hashes: the server normalises and masks text fields, so the line
// is not compared byte for byte). A server that answers with made-up
// places cannot move the queue on.
func (q *Queue) checkAnswer(ctx context.Context, c *Cursor, es []auditlog.Entry, ar *api.AppendResponse) error {
	key := strings.TrimSpace(q.Key)
	if key == "" {
		key = c.Key
	}
	if key == "" {
		k, err := q.Client.Key(ctx)
		if err != nil {
			return err
		}
		key = k
	}
	size, root, err := client.OpenHead(ar.Head, key)
	if err != nil {
		return err
	}
	if c.Head != nil {
		if osize, oroot, err := client.OpenHead(*c.Head, key); err == nil {
			if err := q.Client.Consistent(ctx, osize, oroot, size, root); err != nil {
				return err
			}
		}
	}
	for i, r := range ar.Results {
		e := &es[i]
		bad := func(why string) error {
			return fmt.Errorf("%w: its answer for entry %d (%s) %s; the entry was not taken as shipped", client.ErrTampered, e.Seq, e.ID, why)
		}
		if r.Seq < 1 || r.Index != r.Seq-1 || r.Index >= size {
			return bad(fmt.Sprintf("gives place %d, outside its signed head of %d entries", r.Seq, size))
		}
		leaf, ok := hash64(r.Leaf)
		if !ok {
			return bad("has no valid leaf hash")
		}
		proof := make(tlog.RecordProof, len(r.Proof))
		for k, p := range r.Proof {
			if proof[k], ok = hash64(p); !ok {
				return bad("has a malformed proof")
			}
		}
		if err := tlog.CheckRecord(proof, size, root, r.Index, leaf); err != nil {
			return bad("does not prove the entry is in its signed head")
		}
		if r.Record == nil {
			// Only an entry the server already had and has since pruned
			// comes without its line: its place is proved, not its content.
			if !r.Duplicate {
				return bad("holds no stored line")
			}
			continue
		}
		if tlog.RecordHash(r.Record) != leaf {
			return bad("holds a line that is not the proved leaf")
		}
		var got auditlog.Entry
		if json.Unmarshal(r.Record, &got) != nil || got.ID != e.ID || got.Seq != r.Seq || got.Action != e.Action || !sameFiles(&got, e) {
			return bad("proves another entry than the one shipped")
		}
	}
	c.Key = key
	return nil
}

// checkHead checks a head the server gave on a sync with nothing to
// ship, before the cursor keeps it: signed by the key this queue trusts
// (when it knows one) and consistent with the head kept before. A head
// that fails is not kept, so a later check still starts from the last
// good one.
func (q *Queue) checkHead(ctx context.Context, c *Cursor, h api.Head) error {
	key := strings.TrimSpace(q.Key)
	if key == "" {
		key = c.Key
	}
	if key == "" {
		return nil // nothing shipped yet and no key given: nothing to hold it to
	}
	size, root, err := client.OpenHead(h, key)
	if err != nil {
		return fmt.Errorf("%w: its head is not signed by the key this computer trusts: %v", client.ErrTampered, err)
	}
	if c.Head != nil {
		if osize, oroot, err := client.OpenHead(*c.Head, key); err == nil {
			if err := q.Client.Consistent(ctx, osize, oroot, size, root); err != nil {
				return err
			}
		}
	}
	return nil
}

func hash64(s string) (tlog.Hash, bool) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// sameFiles reports whether a and b name the same file contents (the
// SHA-256s, which the server never rewrites).
func sameFiles(a, b *auditlog.Entry) bool {
	if (a.Archive == nil) != (b.Archive == nil) || a.Archive != nil && a.Archive.SHA256 != b.Archive.SHA256 || len(a.Files) != len(b.Files) {
		return false
	}
	for i := range a.Files {
		if a.Files[i].SHA256 != b.Files[i].SHA256 {
			return false
		}
	}
	return true
}
