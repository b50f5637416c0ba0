package cli

import (
	"errors"

	"github.com/kuvert-app/kuvert/crypt"
)

// lockedError is what the clerk reads when Excel (or any program) holds
// an input open with no sharing: which file, that another program has
// it, and what to do. It keeps the error underneath, so the exit code
// stays the input error's (2) and nothing about it is lost.
type lockedError struct {
	err  error
	path string
}

func (e lockedError) Error() string {
	return "filen " + e.path + " är öppen i ett annat program (t.ex. Excel) / " +
		e.path + " is open in another program (e.g. Excel)"
}

func (e lockedError) Unwrap() error { return e.err }

const lockedHint = "stäng filen där och försök igen / close it there and try again"

// explainLocked words an error for a held file (crypt.ErrLocked) for the
// clerk; any other error is returned as it is.
func explainLocked(err error) error {
	var le *crypt.LockedError
	if err == nil || !errors.As(err, &le) {
		return err
	}
	return withHint(lockedError{err, le.Path}, lockedHint)
}
