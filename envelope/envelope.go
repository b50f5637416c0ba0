// Package envelope is the one place where kuvert's steps meet: seal the
// files, record the sealing in the compliance log, and (later) deliver the
// password. The CLI and the desktop app both call [Seal]; neither holds
// any of this logic itself.
//
// Its promise: an archive exists only if its log entry was written. If the
// log cannot be written, the archive is removed again.
package envelope

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/crypt/auditlog"
)

// Request is one sealing.
type Request struct {
	Seal     crypt.SealOptions
	Case     string // diarienummer, optional
	Note     string // free text for the log, optional
	Operator string // display name for the log, optional
}

// Result is a sealed and recorded archive.
type Result struct {
	*crypt.SealResult
	Entry *auditlog.Entry
}

// Seal seals the files and records an entry in log. On any failure after
// the archive was written it removes the archive, so that nothing sealed
// goes unrecorded.
func Seal(ctx context.Context, log *auditlog.Log, r Request) (*Result, error) {
	if log == nil {
		return nil, errors.New("no compliance log")
	}
	res, err := crypt.Seal(ctx, r.Seal)
	if err != nil {
		return nil, err
	}
	entry := auditlog.Entry{
		Action:       auditlog.ActionSeal,
		Format:       res.Format,
		Archive:      &auditlog.FileRef{Name: filepath.Base(res.Archive), Size: res.Size, SHA256: res.SHA256},
		Case:         r.Case,
		Note:         r.Note,
		OperatorName: r.Operator,
	}
	for _, f := range res.Files {
		entry.Files = append(entry.Files, auditlog.FileRef{Name: f.Name, Size: f.Size, SHA256: f.SHA256})
	}
	if r.Seal.Password.Value != "" {
		entry.Password = &auditlog.PasswordRef{Origin: r.Seal.Password.Origin, Bits: float64(int(r.Seal.Password.Bits*10)) / 10}
	}
	e, err := log.Append(entry)
	if err != nil {
		os.Remove(res.Archive)
		return nil, fmt.Errorf("%w; the archive was removed, because nothing may be sealed without a record", err)
	}
	return &Result{SealResult: res, Entry: e}, nil
}
