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
		proof, err := tlog.ProveTree(res.Entries, kept.Size, Hashes(stored))
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

// asProblem fills res from p and returns the error for it.
func asProblem(res *VerifyResult, p *Problem) error {
	res.FirstBad, res.Problem = p.Seq, p.Text
	return fmt.Errorf("%w: %w", ErrTampered, p)
}

func (l *Log) verifyFiles(verifier note.Verifier) (*VerifyResult, []tlog.Hash, error) {
	res, stored, _, err := l.verifyTip(verifier)
	return res, stored, err
}

// verifyTip is verifyFiles that also returns the latest checkpoint. It
// adapts the files to the [TreeVerifier]: entries.jsonl's lines are its
// records, checkpoints.jsonl its history and its last line the signed
// head. What only the files have stays here: unreadable or torn lines,
// and a log that was started but is gone.
func (l *Log) verifyTip(verifier note.Verifier) (*VerifyResult, []tlog.Hash, *checkpoint, error) {
	res := &VerifyResult{}
	fail := func(err error) (*VerifyResult, []tlog.Hash, *checkpoint, error) {
		if p, ok := err.(*Problem); ok {
			if p.Kind == KindTruncated {
				p.Text += " (or, for the newest checkpoint only, a write was interrupted: the next kuvert that writes the log undoes it and records that)"
			}
			return res, nil, nil, asProblem(res, p)
		}
		return nil, nil, nil, err
	}

	// The checkpoints: the history, and the latest as the signed head.
	var history []TreeHead
	var last *checkpoint
	cf, err := os.Open(l.path(checkpointsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, err
	}
	if cf != nil {
		defer cf.Close()
		sc := bufio.NewScanner(cf)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var cp checkpoint
			if err := json.Unmarshal(sc.Bytes(), &cp); err != nil {
				var size int64
				if last != nil {
					size = last.Size
				}
				return fail(problem(KindStore, size+1, "checkpoint %d is unreadable", res.Checkpoints+1))
			}
			res.Checkpoints++
			root, _ := cp.root() // unreadable: the zero hash, which no tree has
			history = append(history, TreeHead{cp.Size, root})
			last = &cp
		}
		if err := sc.Err(); err != nil {
			return nil, nil, nil, err
		}
	}
	var head []byte
	if last != nil {
		head = []byte(last.Note)
	}
	v, err := TreeCheck{Verifier: verifier, Origin: noteOrigin, LegacyPrune: true}.Start(head)
	if err != nil {
		return fail(err)
	}
	if h := v.Head(); h != nil {
		if root, _ := last.root(); h.Size != last.Size || h.Root != root {
			return fail(problem(KindSignature, 0, "the latest checkpoint's signed text does not match its tree"))
		}
	}

	// The entries.
	f, err := os.Open(l.path(entriesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, err
	}
	if f != nil {
		defer f.Close()
		var n int64
		torn, err := eachLine(f, func(line []byte) error {
			n++
			var h lineHead
			if err := json.Unmarshal(line, &h); err != nil {
				return problem(KindUnreadable, n, "entry %d is not valid JSON", n)
			}
			r := Record{Seq: n, Body: line, head: &h}
			if h.Pruned {
				r.Body = nil
				r.Leaf, err = base64.StdEncoding.DecodeString(h.Leaf)
				if err != nil || r.Leaf == nil {
					r.Leaf = []byte{}
				}
			}
			return v.Add(r)
		})
		if err != nil {
			return fail(err)
		}
		if torn > 0 {
			res.Warning = "the last line is incomplete (an interrupted write); the next kuvert run that writes the log undoes it"
		}
	}
	tr, err := v.Finish(history)
	res.Entries, res.Pruned, res.Repairs = tr.Entries, tr.Pruned, tr.Repairs
	if err != nil {
		return fail(err)
	}
	if last == nil {
		started, err := wasStarted(l.keyDir, l.dir)
		if err != nil {
			return nil, nil, nil, err
		}
		if started {
			return fail(problem(KindStore, 0, "%s", missingLog(l.dir)))
		}
		return res, v.Hashes(), nil, nil
	}
	res.Root = last.Root
	return res, v.Hashes(), last, nil
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
