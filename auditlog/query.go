package auditlog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Query selects entries. Zero fields match everything.
type Query struct {
	Since, Until time.Time // Since ≤ time < Until
	Case         string    // diarienummer: a part of it, see [CaseMatches]
	Ref          string    // the SMS/e-mail reference code
	Batch        string    // batch run id
	Actions      []Action  // only these actions
}

// Match reports whether e is selected. Pruned stubs never match.
func (q Query) Match(e *Entry) bool {
	w := e.When()
	switch {
	case e.Pruned:
	case !q.Since.IsZero() && w.Before(q.Since):
	case !q.Until.IsZero() && !w.Before(q.Until):
	case q.Case != "" && !CaseMatches(e.Case, q.Case):
	case q.Ref != "" && (e.Delivery == nil || !strings.EqualFold(e.Delivery.Ref, q.Ref)):
	case q.Batch != "" && e.Batch != q.Batch:
	case len(q.Actions) > 0 && !slices.Contains(q.Actions, e.Action):
	default:
		return true
	}
	return false
}

// CaseKey is a case number as it is compared: letters and digits only,
// lower-cased, so "SN 2026/118", "sn2026-118" and "SN2026/118" are one.
func CaseKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// CaseMatches says whether the case number has what was asked for in it:
// "2026/118" and "SN2026/118" find "SN 2026/118" (a prefix or any other
// part, spaces, dashes, slashes and case aside). A query without a letter
// or digit matches nothing.
func CaseMatches(caseNo, query string) bool {
	q := CaseKey(query)
	return q != "" && strings.Contains(CaseKey(caseNo), q)
}

// Entries returns all entries in log order (pruned ones as stubs).
func (l *Log) Entries() ([]Entry, error) {
	unlock, err := l.lock(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Entry
	err = l.scan(func(seq int64, line []byte, e *Entry) error {
		if e != nil {
			out = append(out, *e)
		}
		return nil
	})
	return out, err
}

// Query returns the rows q selects, oldest first, as the log's one fold
// shows them ([View]): each sealing with its current delivery state, one
// row per SMS.
func (l *Log) Query(q Query) ([]Row, error) {
	all, err := l.Entries()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(View(all), func(r Row) bool { return !q.Match(&r.Entry) }), nil
}

// Find returns the entry with the given ID (or sequence number).
func (l *Log) Find(id string) (*Entry, error) {
	es, err := l.Entries()
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].ID == id || strconv.FormatInt(es[i].Seq, 10) == id {
			return &es[i], nil
		}
	}
	return nil, fmt.Errorf("no entry %q in the log", id)
}
