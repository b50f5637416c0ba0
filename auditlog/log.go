// Package auditlog is kuvert's tamper-evident compliance log: one JSON
// line per sealing, SMS delivery or maintenance action, readable in a text
// editor, chained into an RFC 6962 Merkle tree (golang.org/x/mod/sumdb/tlog)
// with an Ed25519-signed checkpoint (golang.org/x/mod/sumdb/note) after
// every append.
//
// Files in the log folder:
//
//	entries.jsonl      the entries, one per line
//	checkpoints.jsonl  one signed checkpoint (tree size + root) per append
//	hashes.bin         the tree's stored hashes, a cache rebuilt if damaged
//	.lock              the lock file that serialises writers
//
// The key folder holds log-signing.key (0600), log-signing.pub and a
// .lock that serialises the key's creation on first use.
//
// The log never holds a password, a full phone number or a personnummer:
// [Entry] fields are masked before they are written.
package auditlog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrTampered: the log does not verify (exit code 6).
var ErrTampered = errors.New("the compliance log does not verify")

// ErrUnavailable: the log cannot be written (disk full, permission).
var ErrUnavailable = errors.New("the compliance log cannot be written")

const (
	entriesFile     = "entries.jsonl"
	checkpointsFile = "checkpoints.jsonl"
	hashesFile      = "hashes.bin"
	lockFile        = ".lock"
	keyName         = "kuvert-log"
	noteOrigin      = "kuvert compliance log"
	signingKeyFile  = "log-signing.key"
	verifierKeyFile = "log-signing.pub"
)

// Log is an open compliance log.
type Log struct {
	dir      string
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	tool     string
	now      func() time.Time
	gc       groupCommit
	// testOnlyNoSync skips fsync; set only by benchmarks that build a
	// large log quickly. Never reachable by users.
	testOnlyNoSync bool
}

// Options for [Open].
type Options struct {
	Dir    string // the log folder, e.g. $KUVERT_HOME/log
	KeyDir string // where the signing key lives, e.g. $KUVERT_HOME/keys
	Tool   string // "kuvert 1.2.3", recorded in every entry
}

// Open opens (creating if needed) the log in o.Dir and its signing key in
// o.KeyDir. The private key is created on first use with mode 0600.
func Open(o Options) (*Log, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	skey, vkey, err := loadOrCreateKey(o.KeyDir)
	if err != nil {
		return nil, fmt.Errorf("%w: signing key: %v", ErrUnavailable, err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("%w: signing key %s is damaged", ErrUnavailable, filepath.Join(o.KeyDir, signingKeyFile))
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	tool := o.Tool
	if tool == "" {
		tool = "kuvert"
	}
	return &Log{dir: o.Dir, signer: signer, verifier: verifier, vkey: vkey, tool: tool, now: time.Now}, nil
}

// loadOrCreateKey reads the signing key pair, creating it on first use.
// Creation happens under a lock in the key folder, and each file appears
// whole (written aside, then renamed; the verifier key first), so
// processes starting at once share one key and never read half of one.
func loadOrCreateKey(dir string) (skey, vkey string, err error) {
	if skey, vkey, err := readKey(dir); !errors.Is(err, fs.ErrNotExist) {
		return skey, vkey, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	unlock, err := takeLock(filepath.Join(dir, lockFile), false)
	if err != nil {
		return "", "", err
	}
	defer unlock()
	if skey, vkey, err := readKey(dir); !errors.Is(err, fs.ErrNotExist) {
		return skey, vkey, err // made by another process while we waited
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, keyName)
	if err != nil {
		return "", "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, verifierKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return "", "", err
	}
	return skey, vkey, atomicfile.WriteFile(filepath.Join(dir, signingKeyFile), []byte(skey+"\n"), 0o600)
}

// readKey reads the key pair; fs.ErrNotExist means there is none yet.
func readKey(dir string) (skey, vkey string, err error) {
	sp, vp := filepath.Join(dir, signingKeyFile), filepath.Join(dir, verifierKeyFile)
	b, err := os.ReadFile(sp)
	if err != nil {
		return "", "", err
	}
	v, err := os.ReadFile(vp)
	if err != nil {
		// Not fs.ErrNotExist: a lost verifier key must not make a new pair.
		return "", "", fmt.Errorf("%s is missing", vp)
	}
	return strings.TrimSpace(string(b)), strings.TrimSpace(string(v)), nil
}

// VerifierKey is the public key an auditor keeps to check checkpoints
// (`kuvert log key`).
func (l *Log) VerifierKey() string { return l.vkey }

// Dir is the log folder.
func (l *Log) Dir() string { return l.dir }

func (l *Log) path(name string) string { return filepath.Join(l.dir, name) }

// lock takes the writers' lock, waiting up to 30 s for another process.
func (l *Log) lock(shared bool) (func(), error) { return takeLock(l.path(lockFile), shared) }

// takeLock takes a file lock, waiting up to 30 s for another process.
func takeLock(path string, shared bool) (func(), error) {
	fl := flock.New(path)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ok bool
	var err error
	if shared {
		ok, err = fl.TryRLockContext(ctx, 20*time.Millisecond)
	} else {
		ok, err = fl.TryLockContext(ctx, 5*time.Millisecond)
	}
	if err != nil || !ok {
		return nil, fmt.Errorf("%w: another kuvert holds the log lock (%v)", ErrUnavailable, err)
	}
	return func() { fl.Unlock() }, nil
}

// checkpoint is one line of checkpoints.jsonl.
type checkpoint struct {
	Size   int64  `json:"size"`
	Offset int64  `json:"offset"` // length of entries.jsonl at this size
	Root   string `json:"root"`   // base64
	Time   string `json:"time"`
	Note   string `json:"note"` // the signed note
}

func noteText(size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", noteOrigin, size, base64.StdEncoding.EncodeToString(root[:]))
}

// Stamp fills in who, where and with what, unless already set.
func (l *Log) stamp(e *Entry) {
	now := l.now()
	if e.Time == "" {
		e.Time = now.Format(time.RFC3339)
	}
	if e.ID == "" {
		e.ID = newID(now)
	}
	if e.Operator == "" {
		if u, err := user.Current(); err == nil {
			e.Operator = u.Username
		}
	}
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	if e.Tool == "" {
		e.Tool = l.tool
	}
}

// Append records e durably: when it returns nil the entry, its place in
// the tree and a signed checkpoint are on disk (fsync). It first repairs
// what a crash may have left (a torn last line, entries without a
// checkpoint) and records the repair. e.Seq, ID, Time, Operator, Host and
// Tool are filled in; the entry as written is returned.
//
// Appends from several goroutines of one process are committed together
// (group commit): one lock, one fsync and one checkpoint for all entries
// that queued up meanwhile, so a batch job pays for far fewer fsyncs.
func (l *Log) Append(e Entry) (*Entry, error) {
	p := &pendingAppend{e: e, done: make(chan struct{})}
	l.gc.mu.Lock()
	l.gc.queue = append(l.gc.queue, p)
	if l.gc.busy {
		l.gc.mu.Unlock()
		<-p.done
		return p.res, p.err
	}
	l.gc.busy = true
	l.gc.mu.Unlock()
	for {
		l.gc.mu.Lock()
		batch := l.gc.queue
		l.gc.queue = nil
		if len(batch) == 0 {
			l.gc.busy = false
			l.gc.mu.Unlock()
			break
		}
		l.gc.mu.Unlock()
		l.commit(batch)
	}
	<-p.done
	return p.res, p.err
}

type pendingAppend struct {
	e    Entry
	res  *Entry
	err  error
	done chan struct{}
}

type groupCommit struct {
	mu    sync.Mutex
	queue []*pendingAppend
	busy  bool
}

// commit writes a group of entries under the file lock with one fsync.
func (l *Log) commit(batch []*pendingAppend) {
	fail := func(err error) {
		for _, p := range batch {
			p.err = err
			close(p.done)
		}
	}
	unlock, err := l.lock(false)
	if err != nil {
		fail(err)
		return
	}
	defer unlock()
	st, err := l.recover()
	if err != nil {
		fail(err)
		return
	}
	var buf []byte
	lines := make([][]byte, len(batch))
	for i, p := range batch {
		l.stamp(&p.e)
		p.e.sanitize()
		p.e.Seq = st.n + int64(i) + 1
		p.e.Pruned, p.e.Leaf = false, ""
		line, err := json.Marshal(p.e)
		if err != nil {
			fail(err)
			return
		}
		lines[i] = line
		buf = append(append(buf, line...), '\n')
	}
	if err := l.appendSync(l.path(entriesFile), buf); err != nil {
		fail(fmt.Errorf("%w: %v", ErrUnavailable, err))
		return
	}
	st.offset += int64(len(buf))
	if err := l.addLeaves(st, lines); err != nil {
		fail(err)
		return
	}
	for _, p := range batch {
		e := p.e
		p.res = &e
		close(p.done)
	}
}

func (l *Log) appendLocked(st *state, e Entry) (*Entry, error) {
	l.stamp(&e)
	e.sanitize()
	e.Seq = st.n + 1
	e.Pruned, e.Leaf = false, ""
	line, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	if err := l.appendSync(l.path(entriesFile), append(line, '\n')); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	st.offset += int64(len(line)) + 1
	if err := l.addLeaves(st, [][]byte{line}); err != nil {
		return nil, err
	}
	return &e, nil
}

// addLeaves extends the tree by the given entry lines and writes a signed
// checkpoint for the new size.
func (l *Log) addLeaves(st *state, lines [][]byte) error {
	hf, err := os.OpenFile(l.path(hashesFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer hf.Close()
	hr := fileHashReader{hf}
	for _, line := range lines {
		hs, err := tlog.StoredHashes(st.n, line, hr)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		buf := make([]byte, 0, len(hs)*tlog.HashSize)
		for _, h := range hs {
			buf = append(buf, h[:]...)
		}
		if _, err := hf.WriteAt(buf, tlog.StoredHashCount(st.n)*tlog.HashSize); err != nil {
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		st.n++
	}
	// hashes.bin is not synced: it is a cache that checkHashCache
	// validates against the signed root before every append and rebuilds
	// from the entries if a crash left it stale.
	root, err := tlog.TreeHash(st.n, hr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	signed, err := note.Sign(&note.Note{Text: noteText(st.n, root)}, l.signer)
	if err != nil {
		return err
	}
	cp := checkpoint{Size: st.n, Offset: st.offset, Root: base64.StdEncoding.EncodeToString(root[:]), Time: l.now().Format(time.RFC3339), Note: string(signed)}
	b, _ := json.Marshal(cp)
	if err := l.appendSync(l.path(checkpointsFile), append(b, '\n')); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	st.root = root
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

// state is the log's tip as found on disk.
type state struct {
	n      int64 // entries covered by the last checkpoint
	offset int64 // length of entries.jsonl at that point
	root   tlog.Hash
}

// lastCheckpoint reads the final complete line of checkpoints.jsonl,
// cutting off a torn one.
func (l *Log) lastCheckpoint() (*checkpoint, error) {
	f, err := os.OpenFile(l.path(checkpointsFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil
	}
	start := max(size-64<<10, 0)
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return nil, err
	}
	if buf[len(buf)-1] != '\n' {
		// A torn checkpoint: its entry is recovered from entries.jsonl.
		cut := bytes.LastIndexByte(buf, '\n') + 1
		if err := f.Truncate(start + int64(cut)); err != nil {
			return nil, err
		}
		buf = buf[:cut]
		if len(buf) == 0 {
			return nil, nil
		}
	}
	buf = buf[:len(buf)-1]
	last := buf[bytes.LastIndexByte(buf, '\n')+1:]
	var cp checkpoint
	if err := json.Unmarshal(last, &cp); err != nil {
		return nil, fmt.Errorf("%w: the last checkpoint is unreadable", ErrTampered)
	}
	return &cp, nil
}

// recover brings the files to a consistent state after a crash and
// returns the tip. A torn last entry line is cut off; complete entries
// after the last checkpoint are added to the tree; both are recorded in a
// repair entry. A log shorter than its checkpoint says is refused.
func (l *Log) recover() (*state, error) {
	cp, err := l.lastCheckpoint()
	if err != nil {
		return nil, err
	}
	st := &state{}
	if cp != nil {
		st.n, st.offset = cp.Size, cp.Offset
		rb, err := base64.StdEncoding.DecodeString(cp.Root)
		if err != nil || len(rb) != tlog.HashSize {
			return nil, fmt.Errorf("%w: the last checkpoint is unreadable", ErrTampered)
		}
		copy(st.root[:], rb)
	}
	ef, err := os.OpenFile(l.path(entriesFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer ef.Close()
	fi, err := ef.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != st.offset {
		// Pruning rewrites the file and moves offsets; find where entry
		// n ends by counting lines.
		off, err := offsetAfter(ef, st.n)
		if err != nil {
			return nil, err
		}
		st.offset = off
	}
	if err := l.checkHashCache(st); err != nil {
		return nil, err
	}
	if fi.Size() == st.offset {
		return st, nil
	}
	// There is a tail after the last checkpoint.
	tail := make([]byte, fi.Size()-st.offset)
	if _, err := ef.ReadAt(tail, st.offset); err != nil {
		return nil, err
	}
	var lines [][]byte
	torn := 0
	for len(tail) > 0 {
		i := bytes.IndexByte(tail, '\n')
		if i < 0 {
			torn = len(tail)
			break
		}
		lines = append(lines, tail[:i])
		tail = tail[i+1:]
	}
	if torn > 0 {
		if err := ef.Truncate(fi.Size() - int64(torn)); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err := ef.Sync(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	for i, line := range lines {
		var e Entry
		if json.Unmarshal(line, &e) != nil || e.Seq != st.n+int64(i)+1 {
			return nil, fmt.Errorf("%w: entry line %d after the last checkpoint is not a kuvert entry", ErrTampered, st.n+int64(i)+1)
		}
	}
	if len(lines) > 0 {
		st.offset = fi.Size() - int64(torn)
		if err := l.addLeaves(st, lines); err != nil {
			return nil, err
		}
	}
	var parts []string
	if torn > 0 {
		parts = append(parts, fmt.Sprintf("removed an incomplete last line of %d bytes left by an interrupted write", torn))
	}
	if len(lines) > 0 {
		parts = append(parts, fmt.Sprintf("signed %d entries written before an interruption", len(lines)))
	}
	if _, err := l.appendLocked(st, Entry{Action: ActionRepair, Details: strings.Join(parts, "; ")}); err != nil {
		return nil, err
	}
	return st, nil
}

// offsetAfter returns the byte offset after the n-th line.
func offsetAfter(f *os.File, n int64) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<20)
	var off int64
	for i := int64(0); i < n; i++ {
		line, err := br.ReadSlice('\n')
		off += int64(len(line))
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				off += int64(len(line))
			}
		}
		if err != nil {
			return 0, fmt.Errorf("%w: the log has fewer entries than its last checkpoint (%d): entries were removed", ErrTampered, n)
		}
	}
	return off, nil
}

// checkHashCache makes sure hashes.bin agrees with the last checkpoint;
// if not (a crash, a deleted file) it is rebuilt from the entries.
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
		if st.n == 0 {
			return nil
		}
		if root, err := tlog.TreeHash(st.n, fileHashReader{hf}); err == nil && root == st.root {
			return nil
		}
	}
	hashes, _, err := l.leafTree(st.n)
	if err != nil {
		return err
	}
	root, err := tlog.TreeHash(st.n, memHashes(hashes))
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
	return hf.Sync()
}

// leafTree reads the first n entries (all if n < 0) and returns the
// tree's stored hashes and the entries' leaf hashes.
func (l *Log) leafTree(n int64) ([]tlog.Hash, []tlog.Hash, error) {
	var stored, leaves []tlog.Hash
	err := l.scan(func(seq int64, line []byte, e *Entry) error {
		if n >= 0 && seq > n {
			return errStop
		}
		leaf, err := leafHash(line, e)
		if err != nil {
			return err
		}
		hs, err := tlog.StoredHashesForRecordHash(seq-1, leaf, memHashes(stored))
		if err != nil {
			return err
		}
		stored = append(stored, hs...)
		leaves = append(leaves, leaf)
		return nil
	})
	return stored, leaves, err
}

var errStop = errors.New("stop")

// leafHash is the RFC 6962 leaf hash of an entry line, or the hash kept in
// a pruned entry.
func leafHash(line []byte, e *Entry) (tlog.Hash, error) {
	if e != nil && e.Pruned {
		var h tlog.Hash
		b, err := base64.StdEncoding.DecodeString(e.Leaf)
		if err != nil || len(b) != tlog.HashSize {
			return h, fmt.Errorf("%w: pruned entry %d has no valid hash", ErrTampered, e.Seq)
		}
		copy(h[:], b)
		return h, nil
	}
	return tlog.RecordHash(line), nil
}

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
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var seq int64
	for sc.Scan() {
		seq++
		line := sc.Bytes()
		var e Entry
		pe := &e
		if json.Unmarshal(line, &e) != nil {
			pe = nil
		}
		if err := fn(seq, line, pe); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
	}
	return sc.Err()
}

// Entries returns all entries in log order (pruned ones as stubs).
func (l *Log) Entries() ([]Entry, error) {
	unlock, err := l.lock(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Entry
	err = l.scan(func(seq int64, line []byte, e *Entry) error {
		if e != nil {
			out = append(out, *e)
		}
		return nil
	})
	return out, err
}

// Find returns the entry with the given ID (or sequence number).
func (l *Log) Find(id string) (*Entry, error) {
	es, err := l.Entries()
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].ID == id || strconv.FormatInt(es[i].Seq, 10) == id {
			return &es[i], nil
		}
	}
	return nil, fmt.Errorf("no entry %q in the log", id)
}
