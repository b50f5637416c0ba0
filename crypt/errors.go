package crypt

import (
	"errors"

	"github.com/kuvert-app/kuvert/internal/termsafe"
)

// Errors returned by the core, wrapped with %w and context. The CLI maps
// them to its documented exit codes with errors.Is.
var (
	// ErrWrongPassword: the password or key does not open the archive.
	ErrWrongPassword = errors.New("wrong password or key")
	// ErrDamaged: the archive is truncated, corrupted or was altered after
	// it was sealed (an authentication tag did not verify).
	ErrDamaged = errors.New("archive is damaged or has been tampered with")
	// ErrUnsafe: the archive tries something kuvert refuses to do, such as
	// writing outside the output folder, a symbolic link, or exceeding the
	// size and ratio limits that stop decompression bombs.
	ErrUnsafe = errors.New("archive is unsafe to open")
	// ErrUnsupported: not an archive kuvert can open (for example legacy
	// ZipCrypto, which is broken and never written or read by kuvert).
	ErrUnsupported = errors.New("unsupported archive")
	// ErrExists: an output file is already there and overwriting was not
	// asked for.
	ErrExists = errors.New("file already exists")
	// ErrWeakPassword: a user-chosen password is below [MinPasswordBits].
	ErrWeakPassword = errors.New("password is too weak")
	// ErrInput: an input cannot be sealed as asked (missing file, same file
	// as the output, duplicate names).
	ErrInput = errors.New("invalid input")
	// ErrNeedPassword: the archive needs a passphrase and none was given.
	ErrNeedPassword = errors.New("a password is needed")
)

// quoteName shows an entry name in a message: quoted, with anything a
// terminal could act on escaped ([termsafe.Escape]).
func quoteName(name string) string { return `"` + termsafe.Escape(name) + `"` }
