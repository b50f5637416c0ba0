package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// A NUL in a text the server copies into a search column (case, operator,
// ref, …) must not fail the append: PostgreSQL's text type refuses NUL, and
// the failure used to fail every request of the same group commit (other
// devices' entries too) with 500 "internal", which their queues take as a
// refusal and stop at.
func TestAppendNULNeitherFailsNorPoisonsTheGroup(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	bad := entry(auditlog.ActionSeal, "KS\x00 2026/1")
	bad.Operator = "an\x00na"
	bad.Refers = "x\x00y"
	bad.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 5\x000", Ref: "ab\x00c", Status: auditlog.StatusSent}

	// Other devices append at the same moment; they share group commits
	// with the bad request.
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := s.Append(ctx, "pc2", []auditlog.Entry{entry(auditlog.ActionSeal, "KS 2")}); err != nil {
				errs <- err
			}
		}()
	}
	_, _, err := s.Append(ctx, "pc1", []auditlog.Entry{bad})
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("another device's append failed alongside the NUL entry: %v", e)
	}
	if err != nil && !errors.Is(err, errBadRequest) {
		t.Fatalf("append of an entry with a NUL: %v (want it stored, or at most a 400)", err)
	}
	if err == nil {
		res, err := s.Search(ctx, Search{Case: "KS 2026/1"}) // the search column drops the NUL
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Entries) != 1 || res.Entries[0].Case != "KS\x00 2026/1" {
			t.Fatalf("the entry with a NUL: %+v", res.Entries)
		}
		// A retry is a duplicate, not a conflict.
		r2, _, err := s.Append(ctx, "pc1", []auditlog.Entry{bad})
		if err != nil || !r2[0].Duplicate {
			t.Fatalf("retry: %+v %v", r2, err)
		}
	}
	mustVerify(t, s)
}

// An ID with a NUL or control character is refused as bad input (400),
// not a database error.
func TestAppendIDWithControlCharacterIsBadRequest(t *testing.T) {
	s, _, _ := newStore(t)
	for _, id := range []string{"20261123-\x00abc", "20261123-\x1babc", "20261123-\u2028"} {
		e := entry(auditlog.ActionSeal, "")
		e.ID = id
		if _, _, err := s.Append(context.Background(), "pc1", []auditlog.Entry{e}); !errors.Is(err, errBadRequest) {
			t.Errorf("id %q: %v, want a bad request", id, err)
		}
	}
}

// The relay's own entry must be written even when the device's case
// number holds a NUL: otherwise the text goes out and the central log
// never records it.
func TestRelayNULCaseStillLogged(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	code, b := f.do(t, "POST", "/api/v1/sms", "pc1", api.SMSRequest{Key: "k-nul", To: "+46701740650", Password: "hemligt-123", Case: "KS\x00 9", Ref: "abc234"})
	sent := len(f.tw.Messages())
	var n int
	if err := f.st.pool.QueryRow(context.Background(), "SELECT count(*) FROM entries WHERE action = 'sms'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if sent > 0 && n == 0 {
		t.Fatalf("the SMS went out (answer %d %s) but the central log has no entry for it", code, b)
	}
	// A NUL in the key or reference is bad input, not a 500.
	for _, m := range []api.SMSRequest{
		{Key: "k\x00", To: "+46701740650", Password: "x", Ref: "abc234"},
		{Key: "k2", To: "+46701740650", Password: "x", Ref: "a\x00"},
	} {
		if code, b := f.do(t, "POST", "/api/v1/sms", "pc1", m); code != 400 {
			t.Errorf("SMS with a NUL in key/ref: %d %s, want 400", code, b)
		}
	}
	// A NUL in a search is bad input too.
	for _, p := range []string{"/api/v1/log/entries?case=%00", "/api/v1/log/entries?sender=a%00", "/api/v1/log/export.csv?ref=%00"} {
		if code, b := f.do(t, "GET", p, "reg", nil); code != 400 {
			t.Errorf("%s: %d %s, want 400", p, code, b)
		}
	}
}

// An append over the server's 16 MB says so (413), rather than "not
// valid JSON".
func TestAppendTooLargeIs413(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	var es []auditlog.Entry
	for i := 0; i < 500; i++ {
		e := entry(auditlog.ActionSeal, "")
		e.Note = strings.Repeat("x", 40<<10)
		es = append(es, e)
	}
	code, b := f.do(t, "POST", "/api/v1/entries", "pc1", api.AppendRequest{Entries: es})
	if code != 413 {
		t.Fatalf("a 20 MB append: %d %s, want 413", code, b)
	}
}

// The same ID twice in one request with different content is a conflict,
// not a "duplicate" that silently drops the second entry.
func TestAppendSameIDTwiceInOneRequest(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a := entry(auditlog.ActionSeal, "KS 1")
	b := a
	b.Case = "KS 2"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{a, b}); !errors.Is(err, ErrConflict) {
		t.Fatalf("two entries under one ID: %v, want a conflict", err)
	}
	res, _, err := s.Append(ctx, "pc1", []auditlog.Entry{a, a})
	if err != nil || len(res) != 2 || res[0].Duplicate || !res[1].Duplicate || res[0].Seq != res[1].Seq {
		t.Fatalf("the same entry twice: %+v %v", res, err)
	}
	mustVerify(t, s)
}
