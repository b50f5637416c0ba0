package auditlog

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const noteOrigin = "kuvert compliance log"

// checkpoint is one line of checkpoints.jsonl.
type checkpoint struct {
	Size   int64  `json:"size"`
	Offset int64  `json:"offset"` // length of entries.jsonl at this size
	Root   string `json:"root"`   // base64
	Time   string `json:"time"`
	Note   string `json:"note"` // the signed note
}

func (c *checkpoint) root() (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(c.Root)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("%w: checkpoint for %d entries is unreadable", ErrTampered, c.Size)
	}
	copy(h[:], b)
	return h, nil
}

func noteText(size int64, root tlog.Hash) string { return treeNoteText(noteOrigin, size, root) }

func treeNoteText(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// CentralOrigin is the first line of the central log's tree heads
// (`kuvert server`), so a local checkpoint can never pass for one.
const CentralOrigin = "kuvert central log"

// SignTreeHead signs a tree head (size and root) as a note whose first
// line is origin: the local log's checkpoints and the server's heads.
func SignTreeHead(s note.Signer, origin string, size int64, root tlog.Hash) ([]byte, error) {
	return note.Sign(&note.Note{Text: treeNoteText(origin, size, root)}, s)
}

// OpenTreeHead checks a signed tree head with v and reads its size and
// root; origin must be its first line.
func OpenTreeHead(msg []byte, v note.Verifier, origin string) (size int64, root tlog.Hash, err error) {
	st, err := openTreeNote(msg, v, origin)
	if err != nil {
		return 0, root, err
	}
	return st.Size, st.Root, nil
}

// signedTree is a checked signed checkpoint note.
type signedTree struct {
	Size int64
	Root tlog.Hash
}

// openNote checks a signed checkpoint note with v and reads its tree.
func openNote(msg []byte, v note.Verifier) (*signedTree, error) {
	return openTreeNote(msg, v, noteOrigin)
}

func openTreeNote(msg []byte, v note.Verifier, origin string) (*signedTree, error) {
	n, err := note.Open(normalizeNote(msg), note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("the checkpoint's signature does not verify with key %s", v.Name())
	}
	var st signedTree
	lines := bytes.Split([]byte(n.Text), []byte("\n"))
	if len(lines) != 4 || string(lines[0]) != origin || len(lines[3]) != 0 {
		return nil, errors.New("the checkpoint is not a kuvert checkpoint")
	}
	if _, err := fmt.Sscanf(string(lines[1]), "%d", &st.Size); err != nil || st.Size < 0 {
		return nil, errors.New("the checkpoint's size is unreadable")
	}
	b, err := base64.StdEncoding.DecodeString(string(lines[2]))
	if err != nil || len(b) != tlog.HashSize {
		return nil, errors.New("the checkpoint's root is unreadable")
	}
	copy(st.Root[:], b)
	return &st, nil
}

// normalizeNote undoes what mail and text editors do to a kept
// checkpoint — a byte-order mark, CRLF line ends, blank lines or spaces
// around it — so that only a real change makes it fail. The signed text
// itself cannot be changed this way: the signature covers it.
func normalizeNote(msg []byte) []byte {
	msg = bytes.TrimPrefix(msg, []byte("\xef\xbb\xbf"))
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	msg = bytes.TrimSpace(msg)
	return append(msg, '\n')
}

// fileHashReader reads stored hashes from hashes.bin.
type fileHashReader struct{ f *os.File }

func (r fileHashReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if _, err := r.f.ReadAt(out[i][:], x*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("hash cache: %v", err)
		}
	}
	return out, nil
}

// overlay reads stored hashes below base from r and the rest from extra:
// the tree of a commit that is not on disk yet.
type overlay struct {
	r     tlog.HashReader
	base  int64
	extra []tlog.Hash
}

func (o *overlay) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= o.base {
			if x-o.base >= int64(len(o.extra)) {
				return nil, fmt.Errorf("hash %d not available", x)
			}
			out[i] = o.extra[x-o.base]
			continue
		}
		h, err := o.r.ReadHashes([]int64{x})
		if err != nil {
			return nil, err
		}
		out[i] = h[0]
	}
	return out, nil
}

// leafHash is the RFC 6962 leaf hash of an entry line, or the hash kept in
// a pruned entry.
func leafHash(line []byte, seq int64, pruned bool, leaf string) (tlog.Hash, error) {
	if pruned {
		var h tlog.Hash
		b, err := base64.StdEncoding.DecodeString(leaf)
		if err != nil || len(b) != tlog.HashSize {
			return h, fmt.Errorf("%w: pruned entry %d has no valid hash", ErrTampered, seq)
		}
		copy(h[:], b)
		return h, nil
	}
	return tlog.RecordHash(line), nil
}

// lineHead is what the tree needs of an entry line; decoding whole
// entries doubled verification time for 100,000 of them.
type lineHead struct {
	Seq    int64     `json:"seq"`
	Action Action    `json:"action"`
	Prune  *PruneRef `json:"prune"`
	Pruned bool      `json:"pruned"`
	Leaf   string    `json:"leaf"`
	Device string    `json:"device"`
}

// readLines calls fn for each complete line of r (without its newline),
// with no limit on a line's length: an old log may hold very long ones.
// A last line without a newline is reported through torn.
func eachLine(r io.Reader, fn func(line []byte) error) (torn int, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			long = append(long, chunk...)
			continue
		case err == io.EOF:
			return len(long) + len(chunk), nil
		case err != nil:
			return 0, err
		}
		line := chunk[:len(chunk)-1]
		if long != nil {
			long = append(long, line...)
			line, long = long, nil
		}
		if err := fn(line); err != nil {
			return 0, err
		}
	}
}

var errStop = errors.New("stop")

// scan calls fn for each complete line of entries.jsonl with its 1-based
// line number and the parsed entry (nil if it does not parse).
func (l *Log) scan(fn func(seq int64, line []byte, e *Entry) error) error {
	f, err := os.Open(l.path(entriesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var seq int64
	_, err = eachLine(f, func(line []byte) error {
		seq++
		var e Entry
		pe := &e
		if json.Unmarshal(line, &e) != nil {
			pe = nil
		}
		return fn(seq, line, pe)
	})
	if err == errStop {
		return nil
	}
	return err
}

// leafTree reads the first n entries and returns the tree's stored
// hashes.
func (l *Log) leafTree(n int64) ([]tlog.Hash, error) {
	var stored []tlog.Hash
	err := l.scan(func(seq int64, line []byte, _ *Entry) error {
		if seq > n {
			return errStop
		}
		var h lineHead
		if err := json.Unmarshal(line, &h); err != nil {
			return fmt.Errorf("%w: entry %d is not valid JSON", ErrTampered, seq)
		}
		leaf, err := leafHash(line, seq, h.Pruned, h.Leaf)
		if err != nil {
			return err
		}
		hs, err := tlog.StoredHashesForRecordHash(seq-1, leaf, Hashes(stored))
		if err != nil {
			return err
		}
		stored = append(stored, hs...)
		return nil
	})
	return stored, err
}

// checkHashCache makes sure hashes.bin agrees with the tip's signed root;
// if not (a crash, a deleted file) it is rebuilt from the entries, which
// must then match the root.
func (l *Log) checkHashCache(st *state) error {
	hf, err := os.OpenFile(l.path(hashesFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer hf.Close()
	want := tlog.StoredHashCount(st.n) * tlog.HashSize
	if fi, err := hf.Stat(); err == nil && fi.Size() >= want {
		if fi.Size() > want {
			hf.Truncate(want)
		}
		if root, err := tlog.TreeHash(st.n, fileHashReader{hf}); err == nil && root == st.root {
			return nil
		}
	}
	hashes, err := l.leafTree(st.n)
	if err != nil {
		return err
	}
	root, err := tlog.TreeHash(st.n, Hashes(hashes))
	if err != nil || root != st.root {
		return fmt.Errorf("%w: the entries do not match the last checkpoint; run kuvert log verify", ErrTampered)
	}
	buf := make([]byte, 0, len(hashes)*tlog.HashSize)
	for _, h := range hashes {
		buf = append(buf, h[:]...)
	}
	if err := hf.Truncate(0); err != nil {
		return err
	}
	if _, err := hf.WriteAt(buf, 0); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}
