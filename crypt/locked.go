package crypt

import (
	"errors"
	"fmt"
	"io/fs"
)

// ErrLocked: another program holds the file open and shares it with
// nobody — on Windows, Excel does this to the workbook it shows, Word to
// a document. Opening it fails with ERROR_SHARING_VIOLATION (or
// ERROR_LOCK_VIOLATION for a locked range) until that program lets go.
// Not a damaged or missing input: the clerk closes the file and tries
// again. It matches [ErrInput] as well.
var ErrLocked = errors.New("open in another program")

// LockedError names the file another program holds (see [ErrLocked]).
type LockedError struct {
	Path string
	Err  error // the system's error
}

func (e *LockedError) Error() string {
	return "invalid input: " + e.Path + " is open in another program"
}

func (e *LockedError) Unwrap() []error { return []error{ErrInput, ErrLocked, e.Err} }

// LockedFile returns a [*LockedError] when err is a file system error
// because another program holds the file, else nil.
func LockedFile(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && isLocked(pe.Err) {
		return &LockedError{Path: pe.Path, Err: pe.Err}
	}
	return nil
}

// inputFSError is the error for an input that cannot be opened or
// listed: a [*LockedError], or [ErrInput] with what went wrong.
func inputFSError(err error) error {
	if le := LockedFile(err); le != nil {
		return le
	}
	return fmt.Errorf("%w: %s", ErrInput, describeFSError(err))
}
