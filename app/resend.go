package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
)

// ResendRequest names a sealing whose SMS was lost and the number it
// went to, typed again (the log keeps it masked).
type ResendRequest struct {
	// Ref is the SMS reference or the seal entry's id; or
	Ref string
	// Batch (a batch id, or a batch's output folder holding state.json)
	// and Row (the report's row number) name a batch row.
	Batch string
	Row   int
	// To is the recipient's mobile number, as typed.
	To string
	// Dir is where the source files are; "" is the current folder, or
	// the manifest's folder for a batch given by its output folder.
	Dir string
	// Output is the new archive's path; "" puts it beside the files (a
	// batch's output folder) under the old name with the new reference.
	Output string
	// Email, if set, writes an e-mail draft to it beside the new
	// archive; a batch row's address is used when it is "".
	Email string
	// Lang is the draft's language (sv or en).
	Lang string
	// Policy builds the SMS policy once the sealing is found and its
	// files checked, so that a refusal comes before a provider problem.
	Policy func(*settings.Settings) (*sms.Policy, error)
}

// ResendResult is a resend done: the sealing it replaced and the new one.
type ResendResult struct {
	Old    auditlog.Entry
	Sealed *envelope.Result
}

// Reason says why a resend is refused; the shells put it into words.
type Reason string

// The reasons a resend is refused.
const (
	NoSMS          Reason = "no-sms"          // the sealing texted no password
	Removed        Reason = "removed"         // its archive was removed again
	Superseded     Reason = "superseded"      // another sealing replaced it (By, ByRef)
	NumberMismatch Reason = "number-mismatch" // Given is not the logged Logged
	NumberTag      Reason = "number-tag"      // Given masks alike but is another number
	FilesUnlisted  Reason = "files-unlisted"  // the log does not list every file
	NameNotLocal   Reason = "name-not-local"  // the log names a file that cannot be looked up (Name)
	NameMasked     Reason = "name-masked"     // the logged name is masked and not found (Name)
	SourceGone     Reason = "source-gone"     // Path is gone
	SourceChanged  Reason = "source-changed"  // Path changed since it was sealed
	NoBatchRow     Reason = "no-batch-row"    // the log has no sealing for Batch, Row
	RefPruned      Reason = "ref-pruned"      // Ref's sealing was pruned
	RefUnknown     Reason = "ref-unknown"     // Ref is not in the log
)

// Refusal is a resend kuvert will not do. Only the fields its Reason
// names are set.
type Refusal struct {
	Reason  Reason
	Sealing string // the seal entry concerned
	By      string // Superseded: the newer sealing's entry
	ByRef   string // Superseded: the newer sealing's SMS reference, if it has one
	Given   string // the number given, masked
	Logged  string // the number in the log, masked
	Name    string // a file name as the log holds it
	Path    string // a source file's path
	Ref     string
	Batch   string
	Row     int
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("resend refused: %s", r.Reason)
}

// Resend seals the files of an earlier sealing again with a new
// generated password, texts it to the same number and logs that the new
// sealing supersedes the old one. The number must match the log's (its
// masked form and, when logged, its keyed hash), and every source file
// must be byte-identical to what was sealed; otherwise a [*Refusal].
func (a *App) Resend(ctx context.Context, r ResendRequest) (*ResendResult, error) {
	num, err := sms.ParseMobile(r.To)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", crypt.ErrInput, err)
	}
	log, cfg, err := a.OpenLog()
	if err != nil {
		return nil, err
	}
	dir := r.Dir
	batchID := r.Batch
	var row *batch.Row // the manifest's row, when the batch's folder names it
	outDir := ""       // where the new archive goes by default
	if r.Batch != "" {
		if f, err := batch.ReadFolder(r.Batch); err == nil && f != nil {
			batchID = f.BatchID
			outDir = r.Batch
			if dir == "" && f.Manifest != "" {
				dir = filepath.Dir(f.Manifest)
			}
			if m, err := batch.Load(f.Manifest, batch.LoadOptions{Home: a.Home()}); err == nil && m.ID == batchID {
				row = m.Row(r.Row)
			}
		}
	}
	if dir == "" {
		dir = "."
	}
	if outDir == "" {
		outDir = dir
	}
	all, err := log.Entries()
	if err != nil {
		return nil, err
	}
	old, err := findSealing(all, r.Ref, batchID, r.Row)
	if err != nil {
		return nil, err
	}
	e := old.Entry
	switch {
	case old.Delivery == nil || e.Delivery == nil:
		return nil, &Refusal{Reason: NoSMS, Sealing: e.ID}
	case old.Removed:
		return nil, &Refusal{Reason: Removed, Sealing: e.ID}
	case old.SupersededBy != "":
		return nil, superseded(all, e.ID, old.SupersededBy)
	}
	if sms.MaskNumber(num) != e.Delivery.To {
		return nil, &Refusal{Reason: NumberMismatch, Sealing: e.ID, Given: sms.MaskNumber(num), Logged: e.Delivery.To}
	}
	if e.Delivery.ToTag != "" && log.NumberTag(num) != e.Delivery.ToTag {
		// The log's keyed hash of the full number: a number that differs
		// only in its middle digits (the masked form hides them) is caught.
		return nil, &Refusal{Reason: NumberTag, Sealing: e.ID, Given: sms.MaskNumber(num), Logged: e.Delivery.To}
	}
	if e.FileCount > len(e.Files) || len(e.Files) == 0 {
		return nil, &Refusal{Reason: FilesUnlisted, Sealing: e.ID}
	}
	where := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
	if row != nil && r.Dir == "" {
		// The manifest says where each of the row's files is.
		at := map[string]string{}
		for _, p := range row.Files {
			at[filepath.Base(p)] = p
		}
		where = func(name string) string {
			if p, ok := at[name]; ok {
				return p
			}
			return filepath.Join(dir, filepath.FromSlash(name))
		}
	}
	inputs, err := sameFiles(where, e.Files)
	if err != nil {
		return nil, err
	}

	format := crypt.FormatZip
	if strings.HasPrefix(e.Format, "age") {
		format = crypt.FormatAge
	}
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		return nil, err
	}
	ref := sms.NewRef()
	out := r.Output
	if out == "" {
		name := "kuvert.zip"
		if e.Archive != nil {
			name = e.Archive.Name
		}
		ext := filepath.Ext(name)
		if format == crypt.FormatAge && strings.HasSuffix(name, ".age") {
			ext = ".age"
		}
		out = filepath.Join(outDir, strings.TrimSuffix(name, ext)+"-"+ref+ext)
	}
	pol, err := r.Policy(cfg)
	if err != nil {
		return nil, err
	}
	req := envelope.Request{
		Seal:       crypt.SealOptions{Inputs: inputs, Output: out, Format: format, Password: pw},
		Case:       e.Case,
		Note:       e.Note,
		Operator:   cfg.Operator.Value,
		Batch:      e.Batch,
		Row:        e.Row,
		SMS:        &envelope.SMS{Policy: pol, To: r.To, Ref: ref},
		Supersedes: e.ID,
	}
	email := r.Email
	if email == "" && row != nil && row.Email != "" {
		// The batch row had an address: a draft beside the new archive,
		// as the batch's own e-mail step writes.
		email = row.Email
	}
	if email != "" {
		req.Draft = &envelope.Draft{To: email, Lang: r.Lang, ByAge: format == crypt.FormatAge, OpenerURL: cfg.OpenerURL.Value}
	}
	sealed, err := envelope.Seal(ctx, log, req)
	var se *envelope.SupersededError
	if errors.As(err, &se) {
		// Another resend of this sealing was recorded while this one
		// sealed: the check above passed for both, the log's lock let one
		// through. This archive is gone again and nothing was texted.
		all, _ := log.Entries()
		return nil, superseded(all, e.ID, se.By)
	}
	if err != nil {
		return nil, err
	}
	return &ResendResult{Old: e, Sealed: sealed}, nil
}

// superseded refuses to resend the sealing what, which the sealing by
// already replaced, with by's SMS reference when the log holds it.
func superseded(all []auditlog.Entry, what, by string) *Refusal {
	r := &Refusal{Reason: Superseded, Sealing: what, By: by}
	for _, x := range auditlog.Sealings(all) {
		if x.Entry.ID == by && x.Entry.Delivery != nil {
			r.ByRef = x.Entry.Delivery.Ref
		}
	}
	return r
}

// findSealing is the sealing a reference (or seal entry id) or a batch
// row names: the latest one, when several do.
func findSealing(all []auditlog.Entry, ref, batch string, row int) (*auditlog.Sealing, error) {
	var found *auditlog.Sealing
	ss := auditlog.Sealings(all)
	for i := range ss {
		e := &ss[i].Entry
		switch {
		case batch != "" && e.Batch == batch && e.Row == row:
		case ref != "" && e.ID == ref:
		case ref != "" && auditlog.Query{Ref: ref}.Match(e):
		case ref != "" && ss[i].Delivery != nil && strings.EqualFold(ss[i].Delivery.Ref, ref):
		default:
			continue
		}
		if batch != "" && ss[i].Removed && e.Refers != "" && found != nil {
			// An earlier resend of this row that reached nobody: the row's
			// sealing to resend is still the one before it.
			continue
		}
		found = &ss[i]
	}
	if found != nil {
		return found, nil
	}
	if batch != "" {
		return nil, &Refusal{Reason: NoBatchRow, Batch: batch, Row: row}
	}
	for _, e := range all {
		// A follow-up that names the reference, while its sealing is gone
		// from the log: pruned.
		if !e.Pruned && e.Delivery != nil && strings.EqualFold(e.Delivery.Ref, ref) {
			return nil, &Refusal{Reason: RefPruned, Ref: ref}
		}
	}
	return nil, &Refusal{Reason: RefUnknown, Ref: ref}
}

// sameFiles finds the logged files (where says where each is) and checks
// each is exactly what was sealed (size and SHA-256).
func sameFiles(where func(name string) string, files []auditlog.FileRef) ([]crypt.Input, error) {
	var ins []crypt.Input
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return nil, &Refusal{Reason: NameNotLocal, Name: f.Name}
		}
		p := where(f.Name)
		fi, err := os.Stat(p)
		if (err != nil || !fi.Mode().IsRegular()) && strings.Contains(f.Name, "****") {
			return nil, &Refusal{Reason: NameMasked, Name: f.Name}
		}
		if err != nil || !fi.Mode().IsRegular() {
			return nil, &Refusal{Reason: SourceGone, Path: p}
		}
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		if fi.Size() != f.Size || !strings.EqualFold(sum, f.SHA256) {
			return nil, &Refusal{Reason: SourceChanged, Path: p}
		}
		ins = append(ins, crypt.Input{Path: p, Name: f.Name, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return ins, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
