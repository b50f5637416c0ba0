// Package heads keeps the signed tree heads this computer verified from
// each kuvert server (per address and verifier key) and checks a server's
// current head against them ([Check]), the way the Go checksum database's
// client keeps its latest note: a later head must contain every earlier
// one, or the server's log was cut back or rewritten.
//
// The file is written by compare-and-swap under a lock ([Store.Put]): two
// checks at once never lose a head, and a head is saved only when the
// file still holds what it was checked against. A damaged file is an
// error ([ErrDamaged]), never read as "nothing seen": that would let a
// rewritten log pass as a first check.
package heads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/server/api"
)

// File, in KUVERT_HOME, keeps the last verified head of each server for
// `kuvert log verify --server`.
const File = "server-heads.json"

// lockFile serialises the writers of [File] on this computer.
const lockFile = ".server-heads.lock"

// ErrDamaged: [File] is not what this package writes (cut short, edited
// by hand); it is reported, not taken for an empty one.
var ErrDamaged = errors.New("damaged")

// ErrConflict: [File] changed between the read a check started from and
// its write (another check saved a head meanwhile); nothing was written.
var ErrConflict = errors.New("the heads file changed meanwhile")

// DefaultWait is how long [Store.Put] waits for another writer's lock.
const DefaultWait = 10 * time.Second

// Seen is a verified head kept between runs.
type Seen struct {
	Server string   `json:"server"`
	Key    string   `json:"key"`
	Head   api.Head `json:"head"`
	Seen   string   `json:"seen"` // when it was verified, RFC 3339
}

type fileJSON struct {
	Heads []Seen `json:"heads"`
}

// Snapshot is the file as one [Store.Read] found it; [Store.Put] writes
// only over the same bytes.
type Snapshot struct {
	Heads []Seen
	raw   []byte // nil: there was no file
}

// Last returns the head last verified for server and key, or nil.
func (s *Snapshot) Last(server, key string) *Seen {
	for i := range s.Heads {
		if s.Heads[i].Server == server && s.Heads[i].Key == key {
			return &s.Heads[i]
		}
	}
	return nil
}

// OtherKeys returns the keys other than key whose heads were seen from
// server: a server that changed its key started a new log.
func (s *Snapshot) OtherKeys(server, key string) []string {
	var out []string
	for _, h := range s.Heads {
		if h.Server == server && h.Key != key {
			out = append(out, h.Key)
		}
	}
	return out
}

// Store is the heads file in Dir (KUVERT_HOME).
type Store struct {
	Dir string
	// Wait is how long Put waits for another writer; 0: [DefaultWait].
	Wait time.Duration
}

func (s Store) path() string { return filepath.Join(s.Dir, File) }

// Read reads the file; a missing one is an empty snapshot, a damaged one
// an error that matches [ErrDamaged].
func (s Store) Read() (*Snapshot, error) {
	b, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return &Snapshot{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parse(s.path(), b)
}

func parse(path string, b []byte) (*Snapshot, error) {
	var f fileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s is %w (%v); remove it, and the next check starts afresh", path, ErrDamaged, err)
	}
	return &Snapshot{Heads: f.Heads, raw: b}, nil
}

// Put records h as the last verified head for its server and key, if
// the file still holds exactly what old was read from; otherwise it
// writes nothing and returns [ErrConflict], and the caller reads again
// and checks its head against what is there now.
func (s Store) Put(ctx context.Context, old *Snapshot, h Seen) error {
	next := &fileJSON{Heads: append([]Seen(nil), old.Heads...)}
	found := false
	for i := range next.Heads {
		if next.Heads[i].Server == h.Server && next.Heads[i].Key == h.Key {
			next.Heads[i], found = h, true
		}
	}
	if !found {
		next.Heads = append(next.Heads, h)
	}
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	now, err := os.ReadFile(s.path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		now = nil
	case err != nil:
		return err
	}
	if (now == nil) != (old.raw == nil) || !bytes.Equal(now, old.raw) {
		return ErrConflict
	}
	return atomicfile.WriteFile(s.path(), b, 0o600)
}

func (s Store) lock(ctx context.Context) (func(), error) {
	wait := s.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	fl := flock.New(filepath.Join(s.Dir, lockFile))
	c, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err := fl.TryLockContext(c, 20*time.Millisecond)
	if err != nil || !ok {
		return nil, fmt.Errorf("the lock of %s: another kuvert holds it (%v)", s.path(), err)
	}
	return func() { fl.Unlock() }, nil
}
