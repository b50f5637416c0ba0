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

// checkHead compares a database head (a signed note) with the kept one
// and, when the database's is newer and signed by this server's key,
// moves the kept head forward. With no head file configured it does
// nothing.
func (s *Store) checkHead(note []byte) error {
	if s.headFile == "" {
		return nil
	}
	size, root, err := auditlog.OpenTreeHead(note, s.verifier, auditlog.CentralOrigin)
	if err != nil {
		return fmt.Errorf("%w: the database's tree head is not signed by this server's key (%v)", ErrRolledBack, err)
	}
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
		if err := rolledBack(size, root, keptSize, keptRoot); err != nil {
			return err
		}
		if size == keptSize {
			return nil
		}
	}
	return atomicfile.WriteFile(s.headFile, bytes.Clone(note), 0o600)
}

// checkDBHead reads the database's head and checks it against the kept
// one (moving that forward if the database's is newer).
func (s *Store) checkDBHead(ctx context.Context) error {
	if s.headFile == "" {
		return nil
	}
	var note string
	if err := s.pool.QueryRow(ctx, "SELECT note FROM tree_head WHERE id = 1").Scan(&note); err != nil {
		return dbErr(err)
	}
	return s.checkHead([]byte(note))
}
