package auditlog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// state is the log's tip as found on disk.
type state struct {
	n      int64 // entries covered by the last checkpoint
	offset int64 // length of entries.jsonl at that point
	root   tlog.Hash
}

// write is the one append path: every entry (sealings, deliveries,
// repairs, prunings) reaches the log through it, under the writers' lock.
//
// The order makes a crash harmless and forgery impossible without the
// key: (1) the new tree is computed in memory, (2) its checkpoint is
// signed and synced, (3) the entry lines are appended and synced, (4) the
// hash cache is updated. A crash after (2) leaves a checkpoint ahead of
// the entries, which the next writer withdraws (see [Log.recover]); no
// entry is ever on disk without the signed checkpoint that covers it.
func (l *Log) write(st *state, es []Entry) ([]Entry, error) {
	out := make([]Entry, len(es))
	lines := make([][]byte, len(es))
	var buf []byte
	for i, e := range es {
		l.stamp(&e)
		e.normalize()
		e.Seq = st.n + int64(i) + 1
		e.Pruned, e.Leaf = false, ""
		line, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		out[i], lines[i] = e, line
		buf = append(append(buf, line...), '\n')
	}

	hf, err := os.OpenFile(l.path(hashesFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer hf.Close()
	tree := &overlay{r: fileHashReader{hf}, base: tlog.StoredHashCount(st.n)}
	n := st.n
	for _, line := range lines {
		hs, err := tlog.StoredHashes(n, line, tree)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		tree.extra = append(tree.extra, hs...)
		n++
	}
	root, err := tlog.TreeHash(n, tree)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	offset := st.offset + int64(len(buf))
	if err := l.writeCheckpoint(n, offset, root); err != nil {
		return nil, err
	}
	if l.testOnlyCrashAfterCheckpoint {
		return nil, fmt.Errorf("%w: test crash", ErrUnavailable)
	}
	if err := l.appendSync(l.path(entriesFile), buf); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// hashes.bin is not synced: it is a cache that checkHashCache
	// validates against the signed root before every append and rebuilds
	// from the entries if a crash left it stale.
	hb := make([]byte, 0, len(tree.extra)*tlog.HashSize)
	for _, h := range tree.extra {
		hb = append(hb, h[:]...)
	}
	if _, err := hf.WriteAt(hb, tree.base*tlog.HashSize); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	st.n, st.offset, st.root = n, offset, root
	return out, nil
}

// writeCheckpoint signs and appends the checkpoint for a tree of size n.
func (l *Log) writeCheckpoint(n, offset int64, root tlog.Hash) error {
	signed, err := note.Sign(&note.Note{Text: noteText(n, root)}, l.signer)
	if err != nil {
		return err
	}
	cp := checkpoint{Size: n, Offset: offset, Root: base64.StdEncoding.EncodeToString(root[:]), Time: l.now().Format(time.RFC3339), Note: string(signed)}
	b, _ := json.Marshal(cp)
	if err := l.appendSync(l.path(checkpointsFile), append(b, '\n')); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

func (l *Log) appendSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if l.testOnlyNoSync {
		return f.Close()
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
