package auditlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadFrom calls fn for each complete entry of the log whose line starts
// at byte offset off of entries.jsonl or later, in log order, with the
// offset at which the entry's line starts and the offset after it. fn
// returns false to stop. It holds the readers' (shared) lock while it
// reads, so it sees whole appends only.
//
// It is for a reader that keeps its place between runs (the shipping
// queue of `kuvert server`, which keeps the offset and checks that the
// entry it finds there is the one it expects: a prune rewrites the file
// and moves every line). An offset past the end calls fn for nothing; an
// offset inside a line makes that line's rest unparseable, which is
// reported as an error, so a caller falls back to reading from 0.
func (l *Log) ReadFrom(off int64, fn func(e *Entry, start, next int64) bool) error {
	unlock, err := l.lock(true)
	if err != nil {
		return err
	}
	defer unlock()
	f, err := os.Open(l.path(entriesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	pos := off
	_, err = eachLine(f, func(line []byte) error {
		start := pos
		pos += int64(len(line)) + 1
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fmt.Errorf("%w: the line at byte %d of %s is not an entry", ErrTampered, start, entriesFile)
		}
		if !fn(&e, start, pos) {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}
