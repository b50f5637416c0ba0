package auditlog

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// Prune removes the bodies of entries older than before (gallring),
// keeping their leaf hashes so that the tree, and with it every later
// entry, still verifies. It returns how many entries were pruned.
//
// The prune record is written first and names what may be pruned
// (entries up to the log's current size, older than before); only then
// are the bodies replaced by stubs. A stub that no prune record covers is
// tampering ([Log.Verify]), so a crash between the two steps leaves a
// record of a pruning that did not finish, never a stub without one.
// Prune and repair records themselves are kept: they are what makes
// the stubs and the repairs legitimate.
func (l *Log) Prune(before time.Time, retention string) (int, error) {
	pruned := 0
	_, err := l.withWriteLock(func(st *state) ([]Entry, error) {
		through := st.n
		var stubbed [][]byte
		var seqs []int64
		err := l.scan(func(seq int64, line []byte, e *Entry) error {
			if e == nil {
				return fmt.Errorf("%w: entry %d is not valid JSON", ErrTampered, seq)
			}
			if seq <= through && prunable(e, before) {
				leaf := tlog.RecordHash(line)
				stub, _ := json.Marshal(Entry{Seq: seq, Pruned: true, Leaf: base64.StdEncoding.EncodeToString(leaf[:])})
				line = stub
				seqs = append(seqs, seq)
			}
			stubbed = append(stubbed, line)
			return nil
		})
		if err != nil {
			return nil, err
		}
		count := len(seqs)
		rec := Entry{Action: ActionPrune, Prune: &PruneRef{Through: through, Before: before.UTC().Format(time.RFC3339), Count: count, Seqs: formatRanges(seqs)},
			Event: NewEvent(CodePruned, "count", strconv.Itoa(count), "before", before.Format("2006-01-02"), "retention", retention)}
		written, err := l.write(st, []Entry{rec})
		if err != nil || count == 0 {
			return written, err
		}
		recLine, _ := json.Marshal(written[0])
		stubbed = append(stubbed, recLine)
		var out []byte
		for _, line := range stubbed {
			out = append(append(out, line...), '\n')
		}
		if err := atomicfile.WriteFile(l.path(entriesFile), out, 0o600); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		st.offset = int64(len(out))
		pruned = count
		return written, nil
	})
	return pruned, err
}

func prunable(e *Entry, before time.Time) bool {
	switch {
	case e.Pruned, e.Action == ActionPrune, e.Action == ActionRepair:
		return false
	case e.When().IsZero():
		return false
	}
	return e.When().Before(before)
}
