package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
)

// ErrUnsafeOutDir: the output folder is a link, or (on Unix) another
// account owns it or may write to it (exit code 2; nothing is done).
var ErrUnsafeOutDir = errors.New("the output folder is not safe to seal into")

// checkOutFolder refuses an output folder that another account could
// change under the run: a symbolic link (or junction), anything but a
// folder, and on Unix a folder owned by another account or writable by
// group or others. A folder that does not exist yet passes: the run
// makes it itself, mode 0700.
func checkOutFolder(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnsafeOutDir, dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 || fi.Mode()&fs.ModeIrregular != 0 {
		return fmt.Errorf("%w: %w", ErrUnsafeOutDir, fault.New(CodeOutDirLink, "dir", dir))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %w", ErrUnsafeOutDir, fault.New(CodeOutDirNotFolder, "dir", dir))
	}
	return checkFolderOwner(dir, fi)
}

// ErrNotOurs: the run would replace a file in the output folder that it
// did not write (exit code 2; nothing is done).
var ErrNotOurs = errors.New("the output folder holds files this batch did not write")

// checkOutDir makes sure the run replaces no file it did not write (issue
// 13, item 7): the folder is new or belongs to this batch, and every
// archive name is free or holds this batch's own archive, known from the
// log (the recorded size and SHA-256 match) or, for one a crash left
// before its log entry, from an open claim in state.json older than the
// file. Every problem is listed at once and nothing is done. It returns
// the time the run's claim starts (an open claim keeps its start) and
// marks the unrecorded archives in h.
func checkOutDir(m *Manifest, o Options, h *history) (time.Time, error) {
	// File times come from a coarser clock (and FAT keeps 2 s), so the
	// claim starts a little before now: a file written by this run is
	// never older than its claim.
	now := time.Now().Add(-claimMargin)
	st, err := readState(o.OutDir)
	if err != nil {
		return now, fmt.Errorf("%w: %w: %s: %v; choose another --out-dir", crypt.ErrInput, ErrNotOurs, filepath.Join(o.OutDir, "state.json"), err)
	}
	if st != nil && st.BatchID != m.ID {
		return now, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrNotOurs, fault.New(CodeOutDirOtherBatch, "dir", o.OutDir, "batch", st.BatchID))
	}
	if st == nil {
		for _, own := range []string{"report.csv"} {
			if _, err := os.Lstat(filepath.Join(o.OutDir, own)); err == nil {
				return now, fmt.Errorf("%w: %w: %w", crypt.ErrInput, ErrNotOurs, fault.New(CodeOutDirNotWritten, "path", filepath.Join(o.OutDir, own)))
			}
		}
	}
	var openSince time.Time
	claimed := map[string]bool{}
	if st != nil && len(st.Claimed) > 0 {
		if t, err := time.Parse(time.RFC3339Nano, st.ClaimedAt); err == nil {
			openSince = t
			for _, n := range st.Claimed {
				claimed[strings.ToLower(n)] = true
			}
		}
	}
	var probs []string
	for _, r := range m.Rows {
		p := filepath.Join(o.OutDir, r.Output)
		fi, err := os.Lstat(p)
		if os.IsNotExist(err) {
			continue
		}
		switch prev := h.of(r.Num).current(); {
		case err != nil || !fi.Mode().IsRegular():
		case prev != nil:
			// Sealed by this batch, on record. If the file changed since,
			// its row fails rather than replace it (see [classify]).
			h.row(r.Num).changed = prev.Archive == nil || !sameFile(p, fi, prev.Archive)
			continue
		case earlierSealing(h, r.Num, p, fi):
			h.row(r.Num).earlier = true
			continue // an earlier sealing of this row, on record
		case claimed[strings.ToLower(r.Output)] && !fi.ModTime().Before(openSince):
			h.row(r.Num).unrecorded = true
			continue // sealed by an interrupted attempt, not yet on record
		}
		probs = append(probs, fmt.Sprintf("row %d: %s", r.Num, r.Output))
	}
	if len(probs) > 0 {
		return now, fmt.Errorf("%w: %w: %s already holds %d %s this batch did not write, and kuvert replaces nothing it did not write (%s); nothing was sealed or sent",
			crypt.ErrInput, ErrNotOurs, o.OutDir, len(probs), plural(len(probs), "file", "files"), strings.Join(probs, ", "))
	}
	if !openSince.IsZero() {
		return openSince, nil
	}
	return now, nil
}

const claimMargin = 2 * time.Second

// earlierSealing reports whether the file at p is the archive of one of
// the row's sealings in this run.
func earlierSealing(h *history, row int, p string, fi os.FileInfo) bool {
	for _, e := range h.of(row).all {
		if e.Archive != nil && e.Archive.SHA256 != "" && sameFile(p, fi, e.Archive) {
			return true
		}
	}
	return false
}

// sameFile reports whether the file at p is the archive the log recorded.
func sameFile(p string, fi os.FileInfo, ref *auditlog.FileRef) bool {
	if fi.Size() != ref.Size {
		return false
	}
	if ref.SHA256 == "" {
		return true
	}
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	hw := sha256.New()
	if _, err := io.Copy(hw, f); err != nil {
		return false
	}
	return hex.EncodeToString(hw.Sum(nil)) == ref.SHA256
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// inOutDir reports whether the file path lies directly in the folder dir.
func inOutDir(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	return err1 == nil && err2 == nil && filepath.Dir(p) == d
}
