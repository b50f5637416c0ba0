package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/personnummer"
)

// A run is what the log's Batch field names. By default it is the
// manifest's (Manifest.ID, its content hash) and running the same
// manifest again continues it: rows done stay done, rows whose files
// changed since they were sealed are sealed anew (see [markStale]).
// --new-run starts a fresh run of the manifest on purpose (ID-2, ID-3, …;
// a plain run afterwards continues the latest), and --run NAME names it.

var runName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// SelectRun sets m.ID to the run this invocation belongs to: name if
// given (--run NAME, with newRun refused), else the manifest's latest
// run in the log, or a new one with newRun.
func SelectRun(l *auditlog.Log, m *Manifest, name string, newRun bool) error {
	if name != "" {
		if newRun {
			return fmt.Errorf("%w: --run NAME and --new-run: a named run is new the first time its name is used; choose a new name instead", crypt.ErrInput)
		}
		if !runName.MatchString(name) || len(personnummer.FindAll(name)) > 0 {
			return fmt.Errorf("%w: --run %q: a run's name is letters, digits, '.', '_' and '-' (at most 64, no personnummer), e.g. lon-2026-11", crypt.ErrInput, name)
		}
		m.ID = "run:" + name
		return nil
	}
	es, err := l.Entries()
	if err != nil {
		return err
	}
	latest := 1 // the manifest's own ID is run 1
	for _, e := range es {
		if rest, ok := strings.CutPrefix(e.Batch, m.ID+"-"); ok {
			if n, err := strconv.Atoi(rest); err == nil && n > latest {
				latest = n
			}
		}
	}
	if newRun {
		latest++
	}
	if latest > 1 {
		m.ID += "-" + strconv.Itoa(latest)
	}
	return nil
}

// markStale finds the rows sealed earlier in this run whose files have
// changed since (the log records each input's SHA-256): the nightly job
// that reuses its manifest with new payslips. Those rows are sealed anew;
// the others stay done.
func markStale(m *Manifest, h *history) {
	for _, r := range m.Rows {
		prev := h.of(r.Num).current()
		// An entry without its file list (pruned, or one that lists
		// only the first [auditlog.MaxFiles]) cannot tell: the row
		// counts as unchanged, as before runs existed.
		if prev == nil || len(prev.Files) == 0 || prev.FileCount > len(prev.Files) {
			continue
		}
		var was, now []string
		for _, f := range prev.Files {
			was = append(was, f.SHA256)
		}
		for _, f := range r.Files {
			sum, err := fileSHA256(f)
			if err != nil {
				sum = "unreadable" // sealing it again reports why
			}
			now = append(now, sum)
		}
		slices.Sort(was)
		slices.Sort(now)
		if !slices.Equal(was, now) {
			h.row(r.Num).stale = true
		}
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	hw := sha256.New()
	if _, err := io.Copy(hw, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(hw.Sum(nil)), nil
}

// freeOutDir is dir, or dir-2, dir-3, … when dir belongs to another run.
func freeOutDir(dir, id string) string {
	for i := 1; ; i++ {
		d := dir
		if i > 1 {
			d = dir + "-" + strconv.Itoa(i)
		}
		if _, err := os.Stat(d); os.IsNotExist(err) {
			return d
		}
		if st, err := readState(d); err == nil && (st != nil && st.BatchID == id || st == nil && !hasReport(d, st)) {
			return d
		}
	}
}

// hasReport: a folder with a report but no state is someone else's.
func hasReport(dir string, st *state) bool {
	if st != nil {
		return false
	}
	_, err := os.Lstat(filepath.Join(dir, "report.csv"))
	return err == nil
}
