package auditlog

import (
	"context"
	"fmt"
	"time"

	"github.com/gofrs/flock"
)

const lockFile = ".lock"

// lock takes the log's lock: exclusive for writers, shared for readers.
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
