package auditlog

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyResult is what [Log.Verify] found.
type VerifyResult struct {
	Entries     int64  `json:"entries"`
	Pruned      int64  `json:"pruned"`
	Repairs     int64  `json:"repairs"`
	Checkpoints int64  `json:"checkpoints"`
	Root        string `json:"root"` // base64, as in the checkpoint
	// Kept is how many kept checkpoints (--since-checkpoint) the log was
	// proved consistent with.
	Kept int `json:"kept_checkpoints,omitempty"`
	// FirstBad is the sequence number of the first entry that does not
	// verify (0 if all do, or if the problem is not one entry).
	FirstBad int64  `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Warning notes what is not an error, e.g. an interrupted write the
	// next writer will undo.
	Warning string `json:"warning,omitempty"`
}

// VerifyOptions say what to hold the log to.
type VerifyOptions struct {
	// Key is the verifier key to check signatures with; empty: this
	// log's own key. An auditor passes the key they kept.
	Key string
	// Kept are signed checkpoints kept outside the log ([Log.Checkpoint]
	// printed them): the log must still contain each one's tree, proved
	// with an RFC 6962 consistency proof. This catches a log cut back
	// (newest entries and checkpoints removed together) or deleted.
	Kept [][]byte
}

// Verify checks the log with the verifier key (empty: its own); see
// [Log.VerifyWith].
//
// VerifyWith recomputes the Merkle tree from the entry lines (or the hashes
// kept for pruned ones), checks that every checkpoint's root matches the
// tree at its size — so the log only ever grew — that the latest
// checkpoint is signed and covers every entry, that every pruned stub is
// covered by a prune record, and that the log is consistent with every
// kept checkpoint. A changed byte, a deleted, inserted or reordered line,
// a hidden entry or a cut-off end is reported with the first entry that
// does not verify, as an error wrapping [ErrTampered].
//
// What it cannot see on its own: an editor who removes the newest
// entries together with their checkpoints leaves a shorter log that is
// internally whole. Only a checkpoint kept elsewhere ([VerifyOptions.Kept])
// or a server that witnessed it catches that.
func (l *Log) Verify(key string) (*VerifyResult, error) {
	return l.VerifyWith(VerifyOptions{Key: key})
}

// VerifyWith is [Log.Verify] held to kept checkpoints as well.
func (l *Log) VerifyWith(o VerifyOptions) (*VerifyResult, error) {
	unlock, err := l.lock(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	verifier, err := l.verifierFor(o.Key)
	if err != nil {
		return nil, err
	}
	res, stored, err := l.verifyFiles(verifier)
	if err != nil {
		return res, err
	}
	for i, k := range o.Kept {
		kept, err := openNote(k, verifier)
		if err != nil {
			return res, failRes(res, 0, "kept checkpoint %d: %v", i+1, err)
		}
		if kept.Size > res.Entries {
			return res, failRes(res, res.Entries+1, "the log has %d entries but a kept checkpoint covers %d: entries were removed from the end (with their checkpoints) or the log was replaced", res.Entries, kept.Size)
		}
		proof, err := tlog.ProveTree(res.Entries, kept.Size, memHashes(stored))
		if err != nil {
			return res, err
		}
		var root tlog.Hash
		rb, _ := base64.StdEncoding.DecodeString(res.Root)
		copy(root[:], rb)
		if err := tlog.CheckTree(proof, res.Entries, root, kept.Size, kept.Root); err != nil {
			return res, failRes(res, 0, "the log is not consistent with the kept checkpoint for %d entries: the history before it was rewritten", kept.Size)
		}
		res.Kept++
	}
	return res, nil
}

func (l *Log) verifierFor(key string) (note.Verifier, error) {
	if key == "" {
		return l.verifier, nil
	}
	v, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		return nil, fmt.Errorf("not a verifier key: %v", err)
	}
	return v, nil
}

func failRes(res *VerifyResult, bad int64, format string, a ...any) error {
	res.FirstBad = bad
	res.Problem = fmt.Sprintf(format, a...)
	return fmt.Errorf("%w: %s", ErrTampered, res.Problem)
}

// pruneCover is a prune record at seq: the stubs it names (legacy
// records, written before records named them, cover every entry before
// them).
type pruneCover struct {
	seq    int64
	ranges []seqRange
	legacy bool
}

func (c pruneCover) covers(s int64) bool {
	if c.seq <= s {
		return false
	}
	if c.legacy {
		return true
	}
	for _, r := range c.ranges {
		if r.from <= s && s <= r.to {
			return true
		}
	}
	return false
}

func (l *Log) verifyFiles(verifier note.Verifier) (*VerifyResult, []tlog.Hash, error) {
	res, stored, _, err := l.verifyTip(verifier)
	return res, stored, err
}

// verifyTip is verifyFiles that also returns the latest checkpoint.
func (l *Log) verifyTip(verifier note.Verifier) (*VerifyResult, []tlog.Hash, *checkpoint, error) {
	res := &VerifyResult{}
	fail := func(bad int64, format string, a ...any) (*VerifyResult, []tlog.Hash, *checkpoint, error) {
		return res, nil, nil, failRes(res, bad, format, a...)
	}

	// Leaves from the entries.
	var stored []tlog.Hash
	var stubs []int64
	var covers []pruneCover
	var n int64
	f, err := os.Open(l.path(entriesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, err
	}
	var bad error
	if f != nil {
		defer f.Close()
		torn, err := eachLine(f, func(line []byte) error {
			n++
			var h lineHead
			if err := json.Unmarshal(line, &h); err != nil {
				bad = failRes(res, n, "entry %d is not valid JSON", n)
				return bad
			}
			if h.Seq != n {
				bad = failRes(res, n, "line %d holds entry %d: entries were deleted, inserted or reordered", n, h.Seq)
				return bad
			}
			switch {
			case h.Pruned:
				res.Pruned++
				stubs = append(stubs, n)
			case h.Action == ActionPrune && h.Prune != nil:
				covers = append(covers, pruneCover{seq: n, ranges: parseRanges(h.Prune.Seqs)})
			case h.Action == ActionPrune:
				// Written before prune records named their stubs: it
				// covers every entry before it.
				covers = append(covers, pruneCover{seq: n, legacy: true})
			case h.Action == ActionRepair:
				res.Repairs++
			}
			leaf, err := leafHash(line, n, h.Pruned, h.Leaf)
			if err != nil {
				bad = failRes(res, n, "%v", err)
				return bad
			}
			hs, err := tlog.StoredHashesForRecordHash(n-1, leaf, memHashes(stored))
			if err != nil {
				return err
			}
			stored = append(stored, hs...)
			return nil
		})
		if bad != nil {
			return res, nil, nil, bad
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if torn > 0 {
			res.Warning = "the last line is incomplete (an interrupted write); the next kuvert run that writes the log undoes it"
		}
	}
	res.Entries = n

	// A pruned stub stands only where a later prune record covers it.
	for _, s := range stubs {
		ok := false
		for _, c := range covers {
			if c.covers(s) {
				ok = true
				break
			}
		}
		if !ok {
			return fail(s, "entry %d was replaced by a pruned stub that no prune record covers: an entry was hidden", s)
		}
	}

	// Every checkpoint against the tree.
	cf, err := os.Open(l.path(checkpointsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, err
	}
	var last *checkpoint
	var goodSize int64
	if cf != nil {
		defer cf.Close()
		sc := bufio.NewScanner(cf)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var cp checkpoint
			if err := json.Unmarshal(sc.Bytes(), &cp); err != nil {
				return fail(goodSize+1, "checkpoint %d is unreadable", res.Checkpoints+1)
			}
			res.Checkpoints++
			if last != nil && cp.Size < last.Size {
				return fail(cp.Size+1, "checkpoint %d goes back from %d to %d entries", res.Checkpoints, last.Size, cp.Size)
			}
			if cp.Size > n {
				return fail(n+1, "the log ends after entry %d but a checkpoint covers %d entries: entries were removed from the end (or, for the newest checkpoint only, a write was interrupted: the next kuvert that writes the log undoes it and records that)", n, cp.Size)
			}
			root, err := tlog.TreeHash(cp.Size, memHashes(stored))
			if err != nil {
				return nil, nil, nil, err
			}
			if base64.StdEncoding.EncodeToString(root[:]) != cp.Root {
				return fail(goodSize+1, "entry %d was changed, removed or moved (the tree no longer matches the checkpoint for %d entries)", goodSize+1, cp.Size)
			}
			goodSize = cp.Size
			c := cp
			last = &c
		}
		if err := sc.Err(); err != nil {
			return nil, nil, nil, err
		}
	}
	if last == nil {
		if n > 0 {
			return fail(1, "there are %d entries but no checkpoints: the checkpoints were deleted", n)
		}
		started, err := wasStarted(l.keyDir, l.dir)
		if err != nil {
			return nil, nil, nil, err
		}
		if started {
			return fail(0, "%s", missingLog(l.dir))
		}
		return res, stored, last, nil
	}
	if last.Size < n {
		return fail(last.Size+1, "entries %d to %d are not covered by a signed checkpoint: they were added afterwards, or checkpoints were removed", last.Size+1, n)
	}

	// The latest checkpoint's signature and text.
	st, err := openNote([]byte(last.Note), verifier)
	if err != nil {
		return fail(0, "the latest %v", err)
	}
	root, _ := last.root()
	if st.Size != last.Size || st.Root != root {
		return fail(0, "the latest checkpoint's signed text does not match its tree")
	}
	res.Root = last.Root
	return res, stored, last, nil
}

// Checkpoint returns the latest signed checkpoint as a note: the text an
// auditor or registrar keeps outside this computer and later hands to
// [VerifyOptions.Kept]. It is the tree's size and root, signed; it
// names no entry.
func (l *Log) Checkpoint() ([]byte, error) {
	unlock, err := l.lock(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	_, _, last, err := l.verifyTip(l.verifier)
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, errors.New("the log has no checkpoint yet: nothing has been recorded")
	}
	return []byte(last.Note), nil
}
