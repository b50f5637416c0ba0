package crypt

import (
	"errors"
	"syscall"
)

// Win32 error codes (winerror.h) that package syscall does not name.
const (
	errorSharingViolation syscall.Errno = 32
	errorLockViolation    syscall.Errno = 33
)

func isLocked(err error) bool {
	return errors.Is(err, errorSharingViolation) || errors.Is(err, errorLockViolation)
}
