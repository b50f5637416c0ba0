package auditlog

import (
	"encoding/json"
	"fmt"
	"sort"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// This file is the one verifier of the log format, whatever stores the
// log: the local files ([Log.Verify]) and the central log's SQL rows
// (`kuvert server verify`) both hand it their entries in order and their
// signed heads, as the Go checksum database's client checks any server's
// tiles. What only one store has (the server's search columns and kept
// head file, the local log's kept checkpoints) is checked by that store,
// after this.

// Record is one entry of a log as a store holds it, handed to
// [TreeVerifier.Add] in order.
type Record struct {
	// Seq is the entry's place in the store: the file's line number, the
	// table's seq column.
	Seq int64
	// Body is the entry as hashed (its JSON line); nil for a pruned
	// stub.
	Body []byte
	// Leaf is the leaf hash the store keeps beside the entry: always for
	// a stub (where the stub's is unreadable, whatever the store holds),
	// and for every entry where the store keeps one. Nil: none is kept,
	// the body's hash is the leaf.
	Leaf []byte
	// Device is the device the store files the entry under
	// ([TreeCheck.Devices]).
	Device string

	// head is the body's head, when the store has decoded it already
	// (the file log reads it to tell stubs from entries).
	head *lineHead
}

// TreeCheck is what a store's log is held to.
type TreeCheck struct {
	// Verifier checks the signed head.
	Verifier note.Verifier
	// Origin is the signed head's first line ([CentralOrigin] or the
	// local log's).
	Origin string
	// PruneDevice: only prune records filed under this device name
	// stubs (the central log: the server's own; its devices' records
	// name their own logs' entries). Empty: any prune record.
	PruneDevice string
	// LegacyPrune: a prune record that names no stubs covers every
	// entry before it (the local log's, written before records named
	// them).
	LegacyPrune bool
	// Devices: each [Record.Device] must be the device its body names.
	Devices bool
}

// Kind is what sort of problem a [Problem] is, the same whichever store
// the log is in.
type Kind string

// The kinds of [Problem].
const (
	KindUnreadable Kind = "unreadable"     // an entry or its leaf hash cannot be read
	KindOrder      Kind = "order"          // entries deleted, inserted or reordered
	KindChanged    Kind = "changed"        // an entry's bytes differ from what was signed
	KindTruncated  Kind = "truncated"      // the signed head covers entries the store lacks
	KindUnsigned   Kind = "unsigned"       // entries beyond the signed head
	KindSignature  Kind = "signature"      // the head does not verify
	KindNoHead     Kind = "no-head"        // entries but no signed head
	KindHidden     Kind = "hidden"         // a pruned stub no prune record covers
	KindPruneList  Kind = "prune-list"     // a prune record names its stubs unreadably
	KindRewritten  Kind = "rewritten"      // an older checkpoint differs from the tree
	KindStore      Kind = "store-specific" // a check only one store makes
)

// Problem is why a log does not verify. It matches [ErrTampered].
type Problem struct {
	Kind Kind
	// Seq is the first entry that does not verify (0 if the problem is
	// not one entry).
	Seq  int64
	Text string
}

func (p *Problem) Error() string        { return p.Text }
func (p *Problem) Is(target error) bool { return target == ErrTampered }

func problem(kind Kind, seq int64, format string, a ...any) *Problem {
	return &Problem{Kind: kind, Seq: seq, Text: fmt.Sprintf(format, a...)}
}

// TreeHead is a tree's size and root: a signed head, or an older
// checkpoint a store keeps.
type TreeHead struct {
	Size int64
	Root tlog.Hash
}

// TreeVerifier rebuilds a log's tree from its records and checks it
// against the signed head, the store's older checkpoints and the prune
// records. Make one with [TreeCheck.Start].
type TreeVerifier struct {
	c       TreeCheck
	head    *TreeHead
	n       int64
	stored  Hashes
	stubs   []int64
	covers  []pruneCover
	badList *Problem // the first prune record whose list does not parse
	repairs int64
}

// Start opens the signed head (nil: the store has none) and returns a
// verifier for the records under it. A head that does not verify is a
// [KindSignature] problem.
func (c TreeCheck) Start(head []byte) (*TreeVerifier, error) {
	v := &TreeVerifier{c: c}
	if head != nil {
		size, root, err := OpenTreeHead(head, c.Verifier, c.Origin)
		if err != nil {
			return nil, problem(KindSignature, 0, "the signed tree head does not verify: %v", err)
		}
		v.head = &TreeHead{size, root}
		v.stored = make(Hashes, 0, tlog.StoredHashCount(size)+64)
	}
	return v, nil
}

// Head is the signed head [TreeCheck.Start] opened, or nil.
func (v *TreeVerifier) Head() *TreeHead { return v.head }

// Add checks the next record and adds it to the tree. A record that does
// not verify is a [*Problem]; other errors are the tree's own.
func (v *TreeVerifier) Add(r Record) error {
	want := v.n + 1
	if r.Seq != want {
		return problem(KindOrder, want, "entry %d is missing (the next one is %d)", want, r.Seq)
	}
	var leaf tlog.Hash
	if r.Leaf != nil || r.Body == nil {
		if len(r.Leaf) != tlog.HashSize {
			return problem(KindUnreadable, r.Seq, "entry %d has no valid leaf hash", r.Seq)
		}
		copy(leaf[:], r.Leaf)
	}
	if r.Body == nil && r.head != nil && r.head.Seq != r.Seq {
		return problem(KindOrder, r.Seq, "place %d holds entry %d: entries were deleted, inserted or reordered", r.Seq, r.head.Seq)
	}
	if r.Body != nil {
		body := tlog.RecordHash(r.Body)
		if r.Leaf != nil && body != leaf {
			return problem(KindChanged, r.Seq, "entry %d was changed after it was written", r.Seq)
		}
		leaf = body
		h := r.head
		if h == nil {
			h = new(lineHead)
			if json.Unmarshal(r.Body, h) != nil {
				return problem(KindUnreadable, r.Seq, "entry %d is not valid JSON", r.Seq)
			}
		}
		if h.Seq != r.Seq {
			return problem(KindOrder, r.Seq, "place %d holds entry %d: entries were deleted, inserted or reordered", r.Seq, h.Seq)
		}
		if v.c.Devices && h.Device != r.Device {
			return problem(KindOrder, r.Seq, "entry %d does not match its place or device", r.Seq)
		}
		v.note(r.Seq, h)
	} else {
		v.stubs = append(v.stubs, r.Seq)
	}
	hs, err := tlog.StoredHashesForRecordHash(r.Seq-1, leaf, v.stored)
	if err != nil {
		return err
	}
	v.stored = append(v.stored, hs...)
	v.n++
	return nil
}

// note records what a prune or repair record says.
func (v *TreeVerifier) note(seq int64, h *lineHead) {
	switch {
	case h.Action == ActionRepair:
		v.repairs++
	case h.Action != ActionPrune:
	case v.c.PruneDevice != "" && h.Device != v.c.PruneDevice:
	case h.Prune != nil:
		ranges, err := ParseSeqs(h.Prune.Seqs)
		if err != nil && v.badList == nil {
			v.badList = problem(KindPruneList, seq, "prune record %d names its entries unreadably (%q)", seq, h.Prune.Seqs)
		}
		v.covers = append(v.covers, pruneCover{seq: seq, ranges: ranges})
	case v.c.LegacyPrune:
		v.covers = append(v.covers, pruneCover{seq: seq, legacy: true})
	}
}

// TreeResult is what a log that verifies holds.
type TreeResult struct {
	Entries, Pruned, Repairs int64
	// Root is the tree's root (the signed head's); zero for an empty
	// log without a head.
	Root tlog.Hash
}

// Finish checks the tree against the signed head, every pruned stub
// against the prune records and the tree against the store's older
// checkpoints (ascending by size), in that order.
func (v *TreeVerifier) Finish(history []TreeHead) (*TreeResult, error) {
	n := v.n
	res := &TreeResult{Entries: n, Pruned: int64(len(v.stubs)), Repairs: v.repairs}
	if v.head == nil {
		if n > 0 {
			return res, problem(KindNoHead, 1, "there are %d entries but no checkpoints: the checkpoints were deleted", n)
		}
		return res, nil
	}
	head := *v.head
	headOK := head.Size <= n
	if headOK {
		root, err := tlog.TreeHash(head.Size, v.stored)
		if err != nil {
			return res, err
		}
		headOK = root == head.Root
	}
	if !headOK {
		// The first checkpoint up to the head that the tree no longer
		// matches (or lacks entries for) says from which entry on the
		// log was changed or cut off.
		var good int64
		for _, cp := range append(history[:len(history):len(history)], head) {
			if cp.Size > head.Size || cp.Size < good {
				continue
			}
			if cp.Size > n {
				return res, problem(KindTruncated, n+1, "the log ends after entry %d but a checkpoint covers %d entries: entries were removed from the end", n, cp.Size)
			}
			if r, err := tlog.TreeHash(cp.Size, v.stored); err != nil {
				return res, err
			} else if r != cp.Root {
				return res, problem(KindChanged, good+1, "the entries do not add up to the signed root: entry %d was changed, removed or moved (the tree no longer matches the checkpoint for %d entries)", good+1, cp.Size)
			}
			good = cp.Size
		}
	}
	if head.Size < n {
		return res, problem(KindUnsigned, head.Size+1, "entries %d to %d are not covered by a signed checkpoint: they were added afterwards, or checkpoints were removed", head.Size+1, n)
	}
	res.Root = head.Root
	if v.badList != nil {
		return res, v.badList
	}
	if s := uncovered(v.stubs, v.covers); s != 0 {
		return res, problem(KindHidden, s, "entry %d was replaced by a pruned stub that no prune record covers: an entry was hidden", s)
	}
	var last int64
	for i, cp := range history {
		if cp.Size < last {
			return res, problem(KindRewritten, cp.Size+1, "checkpoint %d goes back from %d to %d entries", i+1, last, cp.Size)
		}
		last = cp.Size
		if cp.Size > n {
			return res, problem(KindRewritten, 0, "a checkpoint for %d entries is beyond the head", cp.Size)
		}
		if r, err := tlog.TreeHash(cp.Size, v.stored); err != nil {
			return res, err
		} else if r != cp.Root {
			return res, problem(KindRewritten, 0, "the log at %d entries differs from what was signed then: history was rewritten", cp.Size)
		}
	}
	return res, nil
}

// Hashes are the tree's stored hashes so far ([Hashes]), for proofs
// against kept heads.
func (v *TreeVerifier) Hashes() Hashes { return v.stored }

// pruneCover is a prune record at seq: the stubs it names (legacy
// records, written before records named them, cover every entry before
// them).
type pruneCover struct {
	seq    int64
	ranges []SeqRange
	legacy bool
}

// uncovered returns the first of stubs (ascending) that no prune record
// after it names, or 0. A record names only entries before itself.
func uncovered(stubs []int64, covers []pruneCover) int64 {
	var spans []SeqRange
	for _, c := range covers {
		if c.legacy {
			spans = append(spans, SeqRange{1, c.seq - 1})
			continue
		}
		for _, r := range c.ranges {
			if r.From < c.seq {
				spans = append(spans, SeqRange{r.From, min(r.To, c.seq-1)})
			}
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].From < spans[j].From })
	var merged []SeqRange
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp.From <= merged[n-1].To+1 {
			merged[n-1].To = max(merged[n-1].To, sp.To)
			continue
		}
		merged = append(merged, sp)
	}
	for _, st := range stubs {
		i := sort.Search(len(merged), func(i int) bool { return merged[i].To >= st })
		if i == len(merged) || merged[i].From > st {
			return st
		}
	}
	return 0
}

// Hashes is an in-memory [tlog.HashReader]: a tree's stored hashes in
// order.
type Hashes []tlog.Hash

// ReadHashes implements [tlog.HashReader].
func (m Hashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not available", x)
		}
		out[i] = m[x]
	}
	return out, nil
}
