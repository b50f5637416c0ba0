package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
func (s *Store) Search(ctx context.Context, q Search) (*api.EntriesResponse, error) {
	where := []string{"body IS NOT NULL"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.From.IsZero() {
		where = append(where, "at >= "+arg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "at < "+arg(q.To.AddDate(0, 0, 1)))
	}
	if q.Case != "" {
		where = append(where, "lower(case_no) = lower("+arg(q.Case)+")")
	}
	if q.Ref != "" {
		where = append(where, "lower(ref) = lower("+arg(q.Ref)+")")
	}
	if q.Sender != "" {
		p := "%" + likeEscape(strings.ToLower(q.Sender)) + "%"
		where = append(where, "(lower(operator) LIKE "+arg(p)+" OR lower(device) LIKE "+arg(p)+")")
	}
	if q.Recipient != "" {
		d := digits(q.Recipient)
		if d == "" {
			return nil, fmt.Errorf("%w: recipient: give the last digits of the number", errBadRequest)
		}
		where = append(where, "regexp_replace(recipient, '[^0-9]', '', 'g') LIKE "+arg("%"+likeEscape(d)))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	sql := "SELECT body FROM entries WHERE " + strings.Join(where, " AND ") + " ORDER BY seq DESC LIMIT " + arg(limit+1)
	matched, err := s.bodies(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out := &api.EntriesResponse{}
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
	related, err := s.bodies(ctx, "SELECT body FROM entries WHERE body IS NOT NULL AND (refers = ANY($1) OR id = ANY($1)) ORDER BY seq", keys)
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
