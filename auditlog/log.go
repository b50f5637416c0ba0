// Package auditlog is kuvert's tamper-evident compliance log: one JSON
// line per sealing, SMS delivery or maintenance action, readable in a text
// editor, chained into an RFC 6962 Merkle tree (golang.org/x/mod/sumdb/tlog)
// with an Ed25519-signed checkpoint (golang.org/x/mod/sumdb/note) for
// every append.
//
// Files in the log folder:
//
//	entries.jsonl      the entries, one per line
//	checkpoints.jsonl  one signed checkpoint (tree size + root) per append
//	hashes.bin         the tree's stored hashes, a cache rebuilt if damaged
//	.lock              the lock file that serialises writers
//
// The key folder holds log-signing.key (0600), log-signing.pub, logs.json
// (the log folders this key started) and a .lock that serialises changes
// to them.
//
// Each append signs its checkpoint before it writes its entries, so no
// entry is ever on disk without a signed checkpoint that covers it: a
// crash can only leave a checkpoint whose entries are missing, which the
// next writer withdraws and records. Entries after the last checkpoint,
// entries without any checkpoint, a started log that is gone, and pruned
// stubs no prune record covers are tampering, never repaired.
//
// The log never holds a password, a full phone number or a personnummer:
// [Entry] fields are masked before they are written. It must never sign
// an entry it did not write itself.
package auditlog

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/kuvert-app/kuvert/internal/groupcommit"
)

// ErrTampered: the log does not verify (exit code 6).
var ErrTampered = errors.New("the compliance log does not verify")

// ErrUnavailable: the log cannot be written (disk full, permission).
var ErrUnavailable = errors.New("the compliance log cannot be written")

const (
	entriesFile     = "entries.jsonl"
	checkpointsFile = "checkpoints.jsonl"
	hashesFile      = "hashes.bin"
)

// Log is an open compliance log.
type Log struct {
	dir      string
	keyDir   string
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	tool     string
	now      func() time.Time
	gc       groupcommit.Queue[*pendingAppend]
	// testOnlyNoSync skips fsync; set only by benchmarks that build a
	// large log quickly. Never reachable by users.
	testOnlyNoSync bool
	started        bool // the key's list of started logs holds this one
	tagOnce        sync.Once
	tagKey         []byte
	tagErr         error
	// testOnlyCrashAfterCheckpoint stops a commit between its checkpoint
	// and its entries, as a crash would. Tests only.
	testOnlyCrashAfterCheckpoint bool
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
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
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
	return &Log{dir: dir, keyDir: o.KeyDir, signer: signer, verifier: verifier, vkey: vkey, tool: tool, now: time.Now}, nil
}

// VerifierKey is the public key an auditor keeps to check checkpoints
// (`kuvert log key`).
func (l *Log) VerifierKey() string { return l.vkey }

// Dir is the log folder.
func (l *Log) Dir() string { return l.dir }

func (l *Log) path(name string) string { return filepath.Join(l.dir, name) }

// stamp fills in who, where and with what, unless already set.
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
// what a crash may have left (see [Log.recover]). e.Seq, ID, Time,
// Operator, Host and Tool are filled in; the entry as written is returned.
//
// Appends from several goroutines of one process are committed together
// (group commit): one lock, one fsync and one checkpoint for all entries
// that queued up meanwhile, so a batch job pays for far fewer fsyncs.
func (l *Log) Append(e Entry) (*Entry, error) {
	p := &pendingAppend{e: e}
	l.gc.Do(p, l.commitGroup)
	return p.res, p.err
}

type pendingAppend struct {
	e   Entry
	res *Entry
	err error
}

// commitGroup writes a group of entries under the file lock.
func (l *Log) commitGroup(batch []*pendingAppend) {
	es := make([]Entry, len(batch))
	for i, p := range batch {
		es[i] = p.e
	}
	written, err := l.withWriteLock(func(st *state) ([]Entry, error) { return l.write(st, es) })
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			e := written[i]
			p.res = &e
		}
	}
}

// withWriteLock takes the writers' lock, repairs what a crash left, and
// runs fn on the log's tip.
func (l *Log) withWriteLock(fn func(st *state) ([]Entry, error)) ([]Entry, error) {
	unlock, err := l.lock(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := l.recover()
	if err != nil {
		return nil, err
	}
	return fn(st)
}

// AppendIf records es together (one lock, one checkpoint) only if check,
// run on every entry in the log while the writers' lock is held, returns
// nil; otherwise nothing is written and check's error is returned as it
// is. A rule that reads the log before it adds to it ("is this sealing
// already superseded?") holds only this way: a check before [Log.Append]
// lets two processes both pass it and both record. IDs the caller set
// are kept, so one entry can name another of the same group.
func (l *Log) AppendIf(check func(all []Entry) error, es ...Entry) ([]Entry, error) {
	return l.withWriteLock(func(st *state) ([]Entry, error) {
		var all []Entry
		if err := l.scan(func(seq int64, _ []byte, e *Entry) error {
			if seq > st.n {
				return errStop
			}
			if e != nil {
				all = append(all, *e)
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := check(all); err != nil {
			return nil, err
		}
		return l.write(st, es)
	})
}

// NewID is a fresh entry id, for a caller that must name an entry before
// it is written (see [Log.AppendIf]).
func (l *Log) NewID() string { return newID(l.now()) }
