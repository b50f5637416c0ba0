package auditlog

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyResult is what [Log.Verify] found.
type VerifyResult struct {
	Entries     int64  `json:"entries"`
	Pruned      int64  `json:"pruned"`
	Checkpoints int64  `json:"checkpoints"`
	Root        string `json:"root"` // base64, as in the checkpoint
	// FirstBad is the sequence number of the first entry that does not
	// verify (0 if all do).
	FirstBad int64  `json:"first_bad,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// Warning notes what is not an error, e.g. an incomplete last line.
	Warning string `json:"warning,omitempty"`
}

// Verify recomputes the Merkle tree from the entry lines (or the hashes
// kept for pruned ones), checks that every checkpoint's root matches the
// tree at its size — so the log only ever grew — and checks the signature
// of the latest checkpoint with vkey (empty: this log's own key; an
// auditor passes the key they kept). A changed byte, a deleted, inserted
// or reordered line, or a cut-off end is reported with the first entry
// that does not verify, as an error wrapping [ErrTampered].
func (l *Log) Verify(vkey string) (*VerifyResult, error) {
	unlock, err := l.lock(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	verifier := l.verifier
	if vkey != "" {
		if verifier, err = note.NewVerifier(strings.TrimSpace(vkey)); err != nil {
			return nil, fmt.Errorf("not a verifier key: %v", err)
		}
	}
	return verifyDir(l.dir, verifier)
}

func verifyDir(dir string, verifier note.Verifier) (*VerifyResult, error) {
	res := &VerifyResult{}
	fail := func(bad int64, format string, a ...any) (*VerifyResult, error) {
		res.FirstBad = bad
		res.Problem = fmt.Sprintf(format, a...)
		return res, fmt.Errorf("%w: %s", ErrTampered, res.Problem)
	}

	// Leaves from the entries.
	var stored []tlog.Hash
	var n int64
	raw, err := os.ReadFile(filepath.Join(dir, entriesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for len(raw) > 0 {
		i := indexByte(raw, '\n')
		if i < 0 {
			res.Warning = "the last line is incomplete (an interrupted write); the next kuvert run that writes the log repairs it"
			break
		}
		line := raw[:i]
		raw = raw[i+1:]
		n++
		// Only the fields verification needs: decoding whole entries
		// doubled the time for 100,000 of them.
		var head struct {
			Seq    int64  `json:"seq"`
			Pruned bool   `json:"pruned"`
			Leaf   string `json:"leaf"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			return fail(n, "entry %d is not valid JSON", n)
		}
		if head.Seq != n {
			return fail(n, "line %d holds entry %d: entries were deleted, inserted or reordered", n, head.Seq)
		}
		e := Entry{Seq: head.Seq, Pruned: head.Pruned, Leaf: head.Leaf}
		if e.Pruned {
			res.Pruned++
		}
		leaf, err := leafHash(line, &e)
		if err != nil {
			return fail(n, "%v", err)
		}
		hs, err := tlog.StoredHashesForRecordHash(n-1, leaf, memHashes(stored))
		if err != nil {
			return nil, err
		}
		stored = append(stored, hs...)
	}
	res.Entries = n

	// Every checkpoint against the tree.
	f, err := os.Open(filepath.Join(dir, checkpointsFile))
	if errors.Is(err, fs.ErrNotExist) {
		if n == 0 {
			return res, nil
		}
		return fail(1, "there are %d entries but no checkpoints", n)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last *checkpoint
	var goodSize int64
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
			return fail(n+1, "the log ends after entry %d but a checkpoint covers %d entries: entries were removed from the end", n, cp.Size)
		}
		root, err := tlog.TreeHash(cp.Size, memHashes(stored))
		if err != nil {
			return nil, err
		}
		if base64.StdEncoding.EncodeToString(root[:]) != cp.Root {
			return fail(goodSize+1, "entry %d was changed, removed or moved (the tree no longer matches the checkpoint for %d entries)", goodSize+1, cp.Size)
		}
		goodSize = cp.Size
		c := cp
		last = &c
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if last == nil {
		if n == 0 {
			return res, nil
		}
		return fail(1, "there are %d entries but no checkpoints", n)
	}
	if last.Size < n {
		return fail(last.Size+1, "entries %d to %d are not covered by a signed checkpoint (added afterwards, or written just before a crash: any kuvert command that writes the log repairs the latter)", last.Size+1, n)
	}

	// The latest checkpoint's signature and text.
	nt, err := note.Open([]byte(last.Note), note.VerifierList(verifier))
	if err != nil {
		return fail(0, "the latest checkpoint's signature does not verify with key %s", verifier.Name())
	}
	rb, _ := base64.StdEncoding.DecodeString(last.Root)
	var root tlog.Hash
	copy(root[:], rb)
	if nt.Text != noteText(last.Size, root) {
		return fail(0, "the latest checkpoint's signed text does not match its tree")
	}
	res.Root = last.Root
	return res, nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// Prune removes the bodies of entries older than before (gallring),
// keeping their leaf hashes so that the tree, and with it every later
// entry, still verifies. The pruning is recorded as an entry. It returns
// how many entries were pruned.
func (l *Log) Prune(before time.Time, retention string) (int, error) {
	unlock, err := l.lock(false)
	if err != nil {
		return 0, err
	}
	defer unlock()
	st, err := l.recover()
	if err != nil {
		return 0, err
	}
	var out []byte
	pruned := 0
	err = l.scan(func(seq int64, line []byte, e *Entry) error {
		if e == nil {
			return fmt.Errorf("%w: entry %d is not valid JSON", ErrTampered, seq)
		}
		if e.Pruned || e.When().IsZero() || !e.When().Before(before) {
			out = append(append(out, line...), '\n')
			return nil
		}
		leaf := tlog.RecordHash(line)
		stub, _ := json.Marshal(Entry{Seq: seq, Pruned: true, Leaf: base64.StdEncoding.EncodeToString(leaf[:])})
		out = append(append(out, stub...), '\n')
		pruned++
		return nil
	})
	if err != nil {
		return 0, err
	}
	if pruned > 0 {
		tmp, err := os.CreateTemp(l.dir, ".entries-*.tmp")
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(out); err != nil {
			tmp.Close()
			return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		tmp.Close()
		if err := os.Rename(tmp.Name(), l.path(entriesFile)); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		st.offset = int64(len(out))
	}
	_, err = l.appendLocked(st, Entry{Action: ActionPrune, Details: fmt.Sprintf("removed the bodies of %d entries older than %s (retention %s); their hashes remain", pruned, before.Format("2006-01-02"), retention)})
	return pruned, err
}
