package cli

import (
	"errors"

	"github.com/kuvert-app/kuvert/crypt"
)

// heldFileError is what the clerk reads when Excel (or any program) holds
// an input open with no sharing: which file, that another program has
// it, and what to do. It keeps the error underneath, so the exit code
// stays the input error's (2) and nothing about it is lost.
type heldFileError struct {
	err  error
	path string
}

func (e heldFileError) Error() string {
	return "filen " + e.path + " är öppen i ett annat program (t.ex. Excel) / " +
		e.path + " is open in another program (e.g. Excel)"
}

func (e heldFileError) Unwrap() error { return e.err }

const heldFileHint = "stäng filen där och försök igen / close it there and try again"

// explainHeld words an error for a held file (crypt.ErrLocked) for the
// clerk; any other error is returned as it is.
func explainHeld(err error) error {
	var le *crypt.LockedError
	if err == nil || !errors.As(err, &le) {
		return err
	}
	return withHint(heldFileError{err, le.Path}, heldFileHint)
}
