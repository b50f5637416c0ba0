package auditlog

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// tipCheckpoints reads the last two complete checkpoints (nil when there
// are fewer), cutting off a torn last line, and returns where the last
// one starts in the file.
func (l *Log) tipCheckpoints() (last, prev *checkpoint, lastStart int64, torn int, err error) {
	f, err := os.OpenFile(l.path(checkpointsFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, 0, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, 0, 0, err
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil, 0, 0, nil
	}
	start := max(size-256<<10, 0)
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil {
		return nil, nil, 0, 0, err
	}
	if buf[len(buf)-1] != '\n' {
		// A torn checkpoint: the commit it belonged to wrote no entries.
		cut := bytes.LastIndexByte(buf, '\n') + 1
		torn = len(buf) - cut
		if err := f.Truncate(start + int64(cut)); err != nil {
			return nil, nil, 0, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err := f.Sync(); err != nil {
			return nil, nil, 0, 0, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		buf = buf[:cut]
	}
	lines := bytes.Split(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n"))
	if len(buf) == 0 {
		lines = nil
	}
	parse := func(i int) (*checkpoint, error) {
		var cp checkpoint
		if err := json.Unmarshal(lines[i], &cp); err != nil {
			return nil, fmt.Errorf("%w: the last checkpoints are unreadable", ErrTampered)
		}
		return &cp, nil
	}
	if k := len(lines); k > 0 {
		if last, err = parse(k - 1); err != nil {
			return nil, nil, 0, torn, err
		}
		lastStart = start + int64(len(buf)) - int64(len(lines[k-1])) - 1
		if k > 1 {
			if prev, err = parse(k - 2); err != nil {
				return nil, nil, 0, torn, err
			}
		} else if start > 0 {
			return nil, nil, 0, torn, fmt.Errorf("%w: a checkpoint line is longer than any kuvert writes", ErrTampered)
		}
	}
	return last, prev, lastStart, torn, nil
}

// recover brings the files to a consistent state after a crash and
// returns the tip. It runs under the writers' lock before every write.
//
// What a crash can leave, given the order of [Log.write]: a torn last
// checkpoint line (cut off), or a last checkpoint whose entries were not
// all written (the checkpoint is withdrawn and the partial entries are
// cut back to the checkpoint before it). Both are recorded in a repair
// entry that names what was withdrawn. Anything else that does not fit
// the checkpoints — entries beyond the last checkpoint, entries without
// any checkpoint, fewer entries than the checkpoint before the last, a
// started log that is gone — is tampering and is refused, never signed.
func (l *Log) recover() (*state, error) {
	last, prev, lastStart, tornCp, err := l.tipCheckpoints()
	if err != nil {
		return nil, err
	}
	ef, err := os.OpenFile(l.path(entriesFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer ef.Close()
	fi, err := ef.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	rep := RepairRef{TornCheckpt: tornCp}
	st := &state{}

	if last == nil {
		if size > 0 {
			return nil, fmt.Errorf("%w: the log holds entries but no signed checkpoint: the checkpoints were deleted", ErrTampered)
		}
		started, err := wasStarted(l.keyDir, l.dir)
		if err != nil {
			return nil, err
		}
		if started {
			return nil, fmt.Errorf("%w: %s", ErrTampered, missingLog(l.dir))
		}
		// A new log. Its first checkpoint (no entries) is signed now and
		// the key remembers the folder, so that deleting the log later is
		// seen as that and not as a fresh start.
		empty, _ := tlog.TreeHash(0, nil)
		if err := l.writeCheckpoint(0, 0, empty); err != nil {
			return nil, err
		}
		st.root = empty
		// The new files' names must be on disk before the key records
		// the log as started, or a power loss could make a new log look
		// deleted.
		atomicfile.SyncDir(l.dir)
		if err := markStarted(l.keyDir, l.dir); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return st, l.checkHashCache(st)
	}

	if err := l.ensureStarted(); err != nil {
		return nil, err
	}
	// The plain JSON beside each note is a convenience; what recovery
	// builds on is only what the key signed.
	if err := l.checkSigned(last); err != nil {
		return nil, err
	}
	if prev != nil {
		if err := l.checkSigned(prev); err != nil {
			return nil, err
		}
	}
	st.n = last.Size
	if st.root, err = last.root(); err != nil {
		return nil, err
	}
	var complete, off int64
	var more bool
	if size == last.Offset {
		complete, off = last.Size, size
	} else if complete, off, more, err = countLines(ef, last.Size); err != nil {
		return nil, err
	}
	switch {
	case complete == last.Size && more:
		rest := make([]byte, size-off)
		if _, err := ef.ReadAt(rest, off); err != nil {
			return nil, err
		}
		if bytes.IndexByte(rest, '\n') >= 0 {
			return nil, fmt.Errorf("%w: entries after number %d are not covered by any signed checkpoint: they were added afterwards, or checkpoints were removed", ErrTampered, last.Size)
		}
		// A fragment without a line end never was an entry: cut it.
		if err := ef.Truncate(off); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err := ef.Sync(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		st.offset, rep.TornBytes = off, len(rest)
	case complete == last.Size:
		st.offset = off
	default:
		// The last commit signed its checkpoint but did not write all its
		// entries: a crash. Withdraw it, back to the checkpoint before.
		empty, _ := tlog.TreeHash(0, nil)
		base := &checkpoint{Root: base64.StdEncoding.EncodeToString(empty[:])}
		if prev != nil {
			base = prev
		}
		if complete < base.Size {
			return nil, fmt.Errorf("%w: the log ends after entry %d but a checkpoint covers %d entries: entries were removed", ErrTampered, complete, base.Size)
		}
		st.n = base.Size
		if st.root, err = base.root(); err != nil {
			return nil, err
		}
		if _, st.offset, _, err = countLines(ef, base.Size); err != nil {
			return nil, err
		}
		if err := l.checkHashCache(st); err != nil {
			return nil, err
		}
		if err := ef.Truncate(st.offset); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err := ef.Sync(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err := truncateSync(l.path(checkpointsFile), lastStart); err != nil {
			return nil, err
		}
		rep.WithdrawnSize, rep.WithdrawnRoot = last.Size, last.Root
		rep.LostEntries = last.Size - base.Size
		rep.TornBytes = int(size - st.offset)
	}
	if err := l.checkHashCache(st); err != nil {
		return nil, err
	}
	if rep == (RepairRef{}) {
		return st, nil
	}
	_, err = l.write(st, []Entry{{Action: ActionRepair, Repair: &rep, Details: rep.describe()}})
	return st, err
}

// ensureStarted records, once per process, that this key started the log
// (logs written before kuvert kept that list are added when next used).
func (l *Log) ensureStarted() error {
	if l.started {
		return nil
	}
	if err := markStarted(l.keyDir, l.dir); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	l.started = true
	return nil
}

// checkSigned makes sure a checkpoint's size and root are the ones its
// note signs with this log's key: an editor could change the JSON fields,
// and recovery must never build on them (the next append would then sign
// the editor's history).
func (l *Log) checkSigned(cp *checkpoint) error {
	st, err := openNote([]byte(cp.Note), l.verifier)
	if err != nil {
		return fmt.Errorf("%w: the checkpoint for %d entries: %v", ErrTampered, cp.Size, err)
	}
	root, err := cp.root()
	if err != nil {
		return err
	}
	if st.Size != cp.Size || st.Root != root {
		return fmt.Errorf("%w: the checkpoint for %d entries does not say what its signature signs", ErrTampered, cp.Size)
	}
	return nil
}

func missingLog(dir string) string {
	return fmt.Sprintf("the log in %s is gone: this computer's signing key started it, but its entries and checkpoints were deleted or moved", dir)
}

func (r RepairRef) describe() string {
	var parts []string
	if r.TornCheckpt > 0 {
		parts = append(parts, fmt.Sprintf("removed an incomplete checkpoint line of %d bytes left by an interrupted write", r.TornCheckpt))
	}
	if r.WithdrawnSize > 0 {
		parts = append(parts, fmt.Sprintf("withdrew the checkpoint for %d entries (root %s): an interrupted write left its %d entries unwritten or incomplete (%d bytes removed)", r.WithdrawnSize, r.WithdrawnRoot, r.LostEntries, r.TornBytes))
	} else if r.TornBytes > 0 {
		parts = append(parts, fmt.Sprintf("removed an incomplete last line of %d bytes left by an interrupted write", r.TornBytes))
	}
	return strings.Join(parts, "; ")
}

func truncateSync(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// countLines counts up to n complete lines of f and returns how many it
// found, the offset after them, and whether any byte follows.
func countLines(f *os.File, n int64) (complete, off int64, more bool, err error) {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, 1<<62), 1<<20)
	for complete < n {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull {
			var rest []byte
			rest, err = br.ReadSlice('\n')
			line = append(line[:len(line):len(line)], rest...)
		}
		if err == io.EOF {
			return complete, off, len(line) > 0, nil
		}
		if err != nil {
			return 0, 0, false, err
		}
		off += int64(len(line))
		complete++
	}
	_, err = br.ReadByte()
	return complete, off, err == nil, nil
}
