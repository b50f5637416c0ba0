package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// Zone is where the registrar's days begin and end: Europe/Stockholm
// unless KUVERT_SERVER_TZ names another zone (a server often runs in UTC).
var Zone = func() *time.Location {
	name := os.Getenv("KUVERT_SERVER_TZ")
	if name == "" {
		name = "Europe/Stockholm"
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.Local
}()

// Search is what the registrar looks for; zero fields match everything.
type Search struct {
	From, To  time.Time // days, inclusive (To is the day's start)
	Case      string    // diarienummer, case-insensitive
	Ref       string    // the code in SMS and mail
	Sender    string    // operator or device, case-insensitive substring
	Recipient string    // masked number as shown, or its last digits
	Limit     int
}

// ParseSearch reads a search from a query string (api package comment).
func ParseSearch(q url.Values) (Search, error) {
	var s Search
	var err error
	day := func(k string) (time.Time, error) {
		v := strings.TrimSpace(q.Get(k))
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation("2006-01-02", v, Zone)
		if err != nil {
			return t, fmt.Errorf("%w: %s must be a date like 2026-11-23", errBadRequest, k)
		}
		return t, nil
	}
	if s.From, err = day("from"); err != nil {
		return s, err
	}
	if s.To, err = day("to"); err != nil {
		return s, err
	}
	for k, vs := range q {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				return s, fmt.Errorf("%w: %s holds a NUL character", errBadRequest, k)
			}
		}
	}
	s.Case = strings.TrimSpace(q.Get("case"))
	s.Ref = strings.TrimSpace(q.Get("ref"))
	s.Sender = strings.TrimSpace(q.Get("sender"))
	s.Recipient = strings.TrimSpace(q.Get("recipient"))
	s.Limit = 500
	if v := q.Get("limit"); v != "" {
		if s.Limit, err = strconv.Atoi(v); err != nil || s.Limit < 1 || s.Limit > 10000 {
			return s, fmt.Errorf("%w: limit must be 1 to 10000", errBadRequest)
		}
	}
	return s, nil
}

// digits keeps the digits of s.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Search finds entries, oldest first, and folds each sealing's
// follow-ups (SMS, status, removal, resend) onto it, as `kuvert log list`
// does locally. Follow-ups of a matching sealing are included even when
// they do not match themselves, so its state is current.
//
// Which entries match is decided on each entry's body, after checking it
// against its leaf hash, never on the search columns beside it: a
// database administrator who edits those cannot hide an entry from the
// registrar. A body that does not match its hash is left out and its
// place reported in Unverified.
func (s *Store) Search(ctx context.Context, q Search) (*api.EntriesResponse, error) {
	match, pre, err := q.matcher()
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	out := &api.EntriesResponse{}
	var matched []auditlog.Entry
	// Newest first, a chunk at a time, until limit+1 matched or the log
	// ends. The pre-filter only narrows: each of its strings is one the
	// body (JSON) holds wherever the entry matches ([Search.matcher]), so
	// it never leaves out an entry that matches; the body decides.
	const chunk = 2000
	before := int64(math.MaxInt64)
	for len(matched) <= limit {
		args := []any{before, chunk}
		sql := "SELECT seq, device, body, leaf FROM entries WHERE body IS NOT NULL AND seq < $1"
		if len(pre.all) > 0 || len(pre.any) > 0 || len(pre.like) > 0 {
			// A NUL (\u0000 in the body) is dropped before comparing,
			// and could split a run: such bodies always pass.
			args = append(args, []byte(`\u0000`))
			nul := "position($" + strconv.Itoa(len(args)) + "::bytea in body) > 0"
			var has []string
			for _, w := range pre.all {
				args = append(args, "%"+likeEscape(w)+"%")
				has = append(has, "convert_from(body, 'UTF8') ILIKE $"+strconv.Itoa(len(args)))
			}
			for _, w := range pre.like {
				args = append(args, w)
				has = append(has, "convert_from(body, 'UTF8') ILIKE $"+strconv.Itoa(len(args)))
			}
			if len(pre.any) > 0 {
				var alt []string
				for _, w := range pre.any {
					args = append(args, []byte(w))
					alt = append(alt, "position($"+strconv.Itoa(len(args))+"::bytea in body) > 0")
				}
				has = append(has, "("+strings.Join(alt, " OR ")+")")
			}
			sql += " AND (" + nul + " OR (" + strings.Join(has, " AND ") + "))"
		}
		sql += " ORDER BY seq DESC LIMIT $2"
		n := 0
		err := s.checkedRows(ctx, out, sql, args, func(seq int64, e *auditlog.Entry) {
			n++
			before = seq
			if e != nil && len(matched) <= limit && match(e) {
				matched = append(matched, *e)
			}
		})
		if err != nil {
			return nil, err
		}
		if n < chunk {
			break
		}
	}
	if len(matched) > limit {
		matched, out.Truncated = matched[:limit], true
	}
	// Oldest first, with the follow-ups of (and the sealings referred to
	// by) what matched, so each sealing's state is whole.
	for i, j := 0, len(matched)-1; i < j; i, j = i+1, j-1 {
		matched[i], matched[j] = matched[j], matched[i]
	}
	ids := map[string]bool{}
	var keys []string
	for _, e := range matched {
		ids[e.ID] = true
		keys = append(keys, e.ID)
		if e.Refers != "" {
			keys = append(keys, noNUL(e.Refers)) // as the refers column holds it
		}
	}
	// The follow-ups are found by the id and refers columns (indexed);
	// Verify checks that those say what each body says, and each body
	// found is checked against its hash here.
	var related []auditlog.Entry
	err = s.checkedRows(ctx, out, "SELECT seq, device, body, leaf FROM entries WHERE body IS NOT NULL AND (refers = ANY($1) OR id = ANY($1)) ORDER BY seq", []any{keys}, func(_ int64, e *auditlog.Entry) {
		if e != nil {
			related = append(related, *e)
		}
	})
	if err != nil {
		return nil, err
	}
	// One fold decides every sealing's and every text's state; each
	// entry is sent once.
	shown := map[string]bool{}
	var sealings []api.Sealing
	for _, sl := range auditlog.Sealings(related) {
		if !ids[sl.Entry.ID] && !refersAny(sl.FollowUps, ids) {
			continue
		}
		shown[sl.Entry.ID] = true
		sv, en := sl.Delivery.Words()
		if sl.Removed {
			sv, en = auditlog.ActionSealFailed.Swedish(), "sealed, then removed"
		}
		if sl.SupersededBy != "" {
			sv, en = auditlog.ActionSuperseded.Swedish(), "superseded"
		}
		sealings = append(sealings, api.Sealing{ID: sl.Entry.ID, State: sv, StateEn: en, Texts: len(sl.Texts), Removed: sl.Removed, Superseded: sl.SupersededBy})
	}
	out.Entries = []auditlog.Row{}
	for _, r := range auditlog.View(related) {
		if ids[r.ID] || shown[r.ID] || slices.ContainsFunc(r.Folded, func(id string) bool { return ids[id] }) {
			out.Entries = append(out.Entries, r)
		}
	}
	out.Sealings = sealings
	if out.Sealings == nil {
		out.Sealings = []api.Sealing{}
	}
	return out, nil
}

func refersAny(es []auditlog.Entry, ids map[string]bool) bool {
	for _, e := range es {
		if ids[e.ID] {
			return true
		}
	}
	return false
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Store) bodies(ctx context.Context, sql string, args ...any) ([]auditlog.Entry, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, dbErr(err)
	}
	var out []auditlog.Entry
	var body []byte
	_, err = pgx.ForEachRow(rows, []any{&body}, func() error {
		var e auditlog.Entry
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("an entry in the database is not valid JSON: %v", err)
		}
		out = append(out, e)
		return nil
	})
	return out, dbErr(err)
}

// matcher is the search as a test of an entry's (verified) body, and the
// runs of ASCII digits an entry's body must contain to match (see
// [Store.Search]).
// prefilter narrows a search in the database: an entry that matches
// holds every string of all (case-insensitively) and, when any is not
// empty, one of any (as is) in its body.
type prefilter struct {
	all []string
	any []string
	// like are whole ILIKE patterns the body matches.
	like []string
}

func (q Search) matcher() (func(*auditlog.Entry) bool, prefilter, error) {
	var tests []func(*auditlog.Entry) bool
	var pre prefilter
	if !q.From.IsZero() || !q.To.IsZero() {
		from, to := q.From, q.To
		tests = append(tests, func(e *auditlog.Entry) bool {
			t := e.When()
			return !t.IsZero() && (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to.AddDate(0, 0, 1)))
		})
		pre.any = dayPrefixes(from, to)
	}
	if q.Case != "" {
		if auditlog.CaseKey(q.Case) == "" {
			return nil, pre, fmt.Errorf("%w: case: give letters or digits of the case number", errBadRequest)
		}
		tests = append(tests, func(e *auditlog.Entry) bool { return auditlog.CaseMatches(noNUL(e.Case), q.Case) })
		pre.like = append(pre.like, caseInOrder(q.Case))
	}
	if q.Ref != "" {
		tests = append(tests, func(e *auditlog.Entry) bool {
			return e.Delivery != nil && strings.EqualFold(noNUL(e.Delivery.Ref), q.Ref)
		})
		pre.all = append(pre.all, literalRuns(q.Ref)...)
	}
	if q.Sender != "" {
		w := strings.ToLower(q.Sender)
		tests = append(tests, func(e *auditlog.Entry) bool {
			return strings.Contains(strings.ToLower(noNUL(e.Operator)), w) || strings.Contains(strings.ToLower(e.Device), w)
		})
		pre.all = append(pre.all, literalRuns(q.Sender)...)
	}
	if q.Recipient != "" {
		d := digits(q.Recipient)
		if d == "" {
			return nil, pre, fmt.Errorf("%w: recipient: give the last digits of the number", errBadRequest)
		}
		tests = append(tests, func(e *auditlog.Entry) bool {
			return e.Delivery != nil && strings.HasSuffix(digits(e.Delivery.To), d)
		})
	}
	return func(e *auditlog.Entry) bool {
		for _, t := range tests {
			if !t(e) {
				return false
			}
		}
		return true
	}, pre, nil
}

// literalRuns are the runs of s that an entry's body holds as they are,
// up to ASCII case, wherever a field of it equals s (case-insensitively)
// or contains it: printable ASCII that encoding/json writes unescaped
// (not " \ < > &). Letters that Unicode folds from other characters
// (k from the Kelvin sign, s from the long s, i from the dotted capital
// I) end a run too: the body may hold the other character there.
func literalRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		c := byte(0)
		if i < len(s) {
			c = s[i]
		}
		lit := c >= 0x20 && c < 0x7f && !strings.ContainsRune("\"\\<>&kKsSiI", rune(c))
		switch {
		case lit && start < 0:
			start = i
		case !lit && start >= 0:
			if r := strings.TrimSpace(s[start:i]); len(r) >= 2 {
				runs = append(runs, s[start:i])
			}
			start = -1
		}
	}
	return runs
}

// caseInOrder is an ILIKE pattern every body whose case number has q in
// it (auditlog.CaseMatches) matches: the case field's name, then the
// ASCII letters and digits of q in order with anything between. Other
// letters (which the body may write escaped) and those Unicode folds from
// other characters (k, s, i; see [literalRuns]) are left out, which only
// widens it.
func caseInOrder(q string) string {
	var b strings.Builder
	b.WriteString(`%"case":"`)
	for _, r := range auditlog.CaseKey(q) {
		if r < 0x80 && r != 'k' && r != 's' && r != 'i' {
			b.WriteString("%")
			b.WriteRune(r)
		}
	}
	b.WriteString("%")
	return b.String()
}

// dayPrefixes are the beginnings of the "time" fields an entry from the
// days from..to (in [Zone]) can have: its time is written with its own
// offset, at most a day off the zone's date. Nil for a range of more
// than two months, or open at one end (the body decides alone then).
func dayPrefixes(from, to time.Time) []string {
	if from.IsZero() || to.IsZero() || to.Sub(from) > 62*24*time.Hour {
		return nil
	}
	var out []string
	for d := from.AddDate(0, 0, -1); !d.After(to.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
		out = append(out, `"time":"`+d.Format("2006-01-02"))
	}
	return out
}

// checkedRows runs sql (selecting seq, device, body, leaf) and hands
// each row's entry to f once its body matched its leaf hash, its place
// and its device; a row that does not gets f(seq, nil) and its place is
// added to out.Unverified.
func (s *Store) checkedRows(ctx context.Context, out *api.EntriesResponse, sql string, args []any, f func(seq int64, e *auditlog.Entry)) error {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return dbErr(err)
	}
	var seq int64
	var device string
	var body, leaf []byte
	_, err = pgx.ForEachRow(rows, []any{&seq, &device, &body, &leaf}, func() error {
		var e auditlog.Entry
		h := tlog.RecordHash(body)
		if !bytes.Equal(h[:], leaf) || json.Unmarshal(body, &e) != nil || e.Seq != seq || e.Device != device {
			if !slices.Contains(out.Unverified, seq) {
				out.Unverified = append(out.Unverified, seq)
			}
			f(seq, nil)
			return nil
		}
		f(seq, &e)
		return nil
	})
	return dbErr(err)
}
