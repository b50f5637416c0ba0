package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gofrs/flock"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// ErrRolledBack: the database's signed tree head is older than the last
// head this server signed, which it keeps outside the database (the head
// file beside its key): someone with access to the database put back an
// older state of the log. The server refuses to serve, sign or verify
// such a log.
var ErrRolledBack = errors.New("the central log in the database was rolled back")

// Option configures [OpenStore].
type Option func(*Store)

// WithHeadFile keeps the last signed tree head in the file at path,
// outside the database (beside the signing key: a database administrator
// cannot write it). It only ever moves forward; a database whose head is
// smaller, or as large with another root, is refused as rolled back.
// Every server process on one machine shares the file under a lock.
func WithHeadFile(path string) Option { return func(s *Store) { s.headFile = path } }

// HeadFileFor is where the head file goes beside a signing key file.
func HeadFileFor(signingKeyPath string) string { return signingKeyPath + ".head" }

// readHeadFile reads and checks the kept head; ok false when there is
// none yet.
func (s *Store) readHeadFile() (size int64, root tlog.Hash, ok bool, err error) {
	b, err := os.ReadFile(s.headFile)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, root, false, nil
	}
	if err != nil {
		return 0, root, false, fmt.Errorf("the server's head file: %w", err)
	}
	size, root, err = auditlog.OpenTreeHead(b, s.verifier, auditlog.CentralOrigin)
	if err != nil {
		return 0, root, false, fmt.Errorf("the server's head file %s is damaged (%v); it must hold the last head this server signed", s.headFile, err)
	}
	return size, root, true, nil
}

// rolledBack is the error for a database head of size/root behind the
// kept one.
func rolledBack(size int64, root tlog.Hash, keptSize int64, keptRoot tlog.Hash) error {
	switch {
	case size < keptSize:
		return fmt.Errorf("%w: databasen har %d poster men servern har signerat %d / the database holds %d entries, but this server signed a head of %d: newer entries were removed and an older head put back", ErrRolledBack, size, keptSize, size, keptSize)
	case size == keptSize && root != keptRoot:
		return fmt.Errorf("%w: databasens logg har samma storlek (%d) men en annan rot / the database's log has the %d entries this server signed, but another root: it was rewritten", ErrRolledBack, size, size)
	}
	return nil
}

// The kept head is always read before the database's: heads are written
// to the file only after their transaction committed, so a head read from
// the database afterwards is never older than the file's, unless the
// database was rolled back. (Read the other way round, a second server
// process committing and writing the file in between would look like a
// rollback.)

// keptHead is the head file's head, read before a database head that is
// to be compared with it; nil with no head file or none written yet.
type keptHead struct {
	size int64
	root tlog.Hash
}

func (s *Store) keptHead() (*keptHead, error) {
	if s.headFile == "" {
		return nil, nil
	}
	size, root, ok, err := s.readHeadFile()
	if err != nil || !ok {
		return nil, err
	}
	return &keptHead{size, root}, nil
}

// checkHead checks a database head (a signed note) read after kept was,
// and moves the head file forward to it when it is newer.
func (s *Store) checkHead(kept *keptHead, note []byte) error {
	if s.headFile == "" {
		return nil
	}
	size, root, err := auditlog.OpenTreeHead(note, s.verifier, auditlog.CentralOrigin)
	if err != nil {
		return fmt.Errorf("%w: the database's tree head is not signed by this server's key (%v)", ErrRolledBack, err)
	}
	if kept != nil {
		if err := rolledBack(size, root, kept.size, kept.root); err != nil {
			return err
		}
	}
	return s.advanceHead(note, size, root)
}

// advanceHead writes a head this server just committed (or read) to the
// head file when it is newer than the file's. An older one is no error:
// another process committed and kept a newer head meanwhile. The same
// size with another root is a fork, never written.
func (s *Store) advanceHead(note []byte, size int64, root tlog.Hash) error {
	fl := flock.New(s.headFile + ".lock")
	if err := fl.Lock(); err != nil {
		return fmt.Errorf("the server's head file lock: %w", err)
	}
	defer fl.Unlock()
	keptSize, keptRoot, ok, err := s.readHeadFile()
	if err != nil {
		return err
	}
	if ok {
		if size == keptSize && root != keptRoot {
			return rolledBack(size, root, keptSize, keptRoot)
		}
		if size <= keptSize {
			return nil
		}
	}
	return atomicfile.WriteFile(s.headFile, bytes.Clone(note), 0o600)
}

// keepHead writes a head this process just committed to the head file
// (the check against the kept head was made under the tree's lock,
// before it was signed).
func (s *Store) keepHead(note []byte) error {
	if s.headFile == "" {
		return nil
	}
	size, root, err := auditlog.OpenTreeHead(note, s.verifier, auditlog.CentralOrigin)
	if err != nil {
		return err
	}
	return s.advanceHead(note, size, root)
}

// checkDBHead reads the database's head and checks it against the kept
// one (moving that forward if the database's is newer).
func (s *Store) checkDBHead(ctx context.Context) error {
	if s.headFile == "" {
		return nil
	}
	kept, err := s.keptHead()
	if err != nil {
		return err
	}
	var note string
	if err := s.pool.QueryRow(ctx, "SELECT note FROM tree_head WHERE id = 1").Scan(&note); err != nil {
		return dbErr(err)
	}
	return s.checkHead(kept, []byte(note))
}
