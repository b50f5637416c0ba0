package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/server/api"
)

// randomHex is n characters that do not compress: a database index
// cannot squeeze them under its row limit.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// A valid personnummer born on 1985-03-12, built here, not copied from
// anywhere.
func testPNR(t *testing.T) string {
	t.Helper()
	for i := 0; i < 10000; i++ {
		p := fmt.Sprintf("19850312-%04d", i)
		if personnummer.Valid(p) {
			return p
		}
	}
	t.Fatal("no valid personnummer for 1985-03-12")
	return ""
}

// One device's poisoned entry is refused on its own, as a 400 naming the
// field, while another device's 60 uploads that arrive at the same time
// all go in. Before, a long refers or delivery reference broke the shared
// transaction (the database's index refused it) and failed the others.
func TestPoisonedEntryFailsOnlyItsOwnRequest(t *testing.T) {
	pnr := testPNR(t)
	poisons := []struct {
		field string
		mod   func(e *auditlog.Entry)
	}{
		{"refers", func(e *auditlog.Entry) { e.Refers = randomHex(20000) }},
		{"delivery.ref", func(e *auditlog.Entry) {
			e.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusQueued, Ref: randomHex(20000)}
		}},
		{"delivery.message_id", func(e *auditlog.Entry) {
			e.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusQueued, Ref: "abc234", MessageID: randomHex(5000)}
		}},
		{"entry", func(e *auditlog.Entry) { e.Note = strings.Repeat("x", 12<<20) }},
		{"delivery.to", func(e *auditlog.Entry) {
			e.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46701234567", Status: auditlog.StatusQueued, Ref: "abc234"}
		}},
		{"delivery.to", func(e *auditlog.Entry) {
			e.Delivery = &auditlog.Delivery{Provider: "twilio", To: "070-123 45 67", Status: auditlog.StatusQueued}
		}},
		{"refers", func(e *auditlog.Entry) { e.Refers = pnr }},
		{"delivery.ref", func(e *auditlog.Entry) {
			e.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusQueued, Ref: "ref-" + pnr}
		}},
		{"id", func(e *auditlog.Entry) { e.ID = pnr }},
		{"operator", func(e *auditlog.Entry) { e.Operator = "anna\x1b[2J" }},
		{"time", func(e *auditlog.Entry) { e.Time = "9999" }},
		{"files[1]", func(e *auditlog.Entry) {
			e.Files = []auditlog.FileRef{{Name: "a.pdf", Size: 1, SHA256: strings.Repeat("a", 64)}, {Name: "b.pdf", Size: 1, SHA256: randomHex(9000)}}
		}},
	}
	for _, p := range poisons {
		t.Run(p.field, func(t *testing.T) {
			s, _, _ := newStore(t)
			ctx := context.Background()
			s.testOnlyInAppend = holdFirstCommit()
			var wg sync.WaitGroup
			errs := make(chan error, 60)
			for i := 0; i < 60; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i > 0 {
						time.Sleep(50 * time.Millisecond)
					}
					if _, _, err := s.Append(ctx, "pc2", []auditlog.Entry{entry(auditlog.ActionSeal, "KS 2")}); err != nil {
						errs <- err
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			bad := entry(auditlog.ActionSMS, "KS 1")
			p.mod(&bad)
			_, _, err := s.Append(ctx, "pc1", []auditlog.Entry{entry(auditlog.ActionSeal, "KS 1"), bad})
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Errorf("another device's upload failed alongside the poisoned entry: %v", e)
			}
			if !errors.Is(err, errBadRequest) || !strings.Contains(err.Error(), "entry 2") || !strings.Contains(err.Error(), ": "+p.field+": ") {
				t.Fatalf("poisoned entry: %v, want a bad request naming entry 2 and %s", err, p.field)
			}
			if strings.Contains(err.Error(), pnr) || strings.Contains(err.Error(), "1234567") || len(err.Error()) > 400 {
				t.Fatalf("the refusal repeats what it refused: %.300q", err)
			}
			hd, err := s.Head(ctx)
			if err != nil || hd.Size != 60 {
				t.Fatalf("central log has %d entries (%v), want the other device's 60 and none of the refused request", hd.Size, err)
			}
			mustVerify(t, s)
		})
	}
}

// holdFirstCommit makes the first append transaction wait, so that the
// requests arriving meanwhile queue up and commit as one group.
func holdFirstCommit() func(context.Context, pgx.Tx, []*appendReq) error {
	var once sync.Once
	return func(context.Context, pgx.Tx, []*appendReq) error {
		once.Do(func() { time.Sleep(300 * time.Millisecond) })
		return nil
	}
}

// The refusal reaches the device as a 400 whose message names the entry
// (so its queue can say which one is stuck) and the field, in Swedish
// and English.
func TestPoisonedEntryHTTP400NamesField(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	bad := entry(auditlog.ActionSeal, "KS 1")
	bad.Refers = randomHex(300)
	code, b := f.do(t, "POST", "/api/v1/entries", "pc1", api.AppendRequest{Entries: []auditlog.Entry{bad}})
	var ae api.Error
	json.Unmarshal(b, &ae)
	if code != 400 || !strings.Contains(ae.Message, bad.ID) || !strings.Contains(ae.Message, "refers: för långt") || !strings.Contains(ae.Message, "refers: too long") {
		t.Fatalf("%d %s", code, b)
	}
}

// IDs kuvert makes are random hex after the date, and now and then hold
// ten digits that pass as a personnummer; such an ID (and a refers to it)
// is taken as it is, never masked or refused.
func TestChancePersonnummerInsideHexIDAccepted(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	tail := ""
	for i := 0; i < 10000 && tail == ""; i++ {
		if personnummer.Valid(fmt.Sprintf("261123-%04d", i)) {
			tail = fmt.Sprintf("%04d", i)
		}
	}
	id := "20261123-" + tail + "abcdef012345"
	if len(personnummer.FindAll(id)) == 0 {
		t.Fatalf("%s holds no chance personnummer; the test needs one", id)
	}
	seal := entry(auditlog.ActionSeal, "KS 1")
	seal.ID = id
	sms := entry(auditlog.ActionSMS, "KS 1")
	sms.Refers = id
	sms.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusQueued, Ref: "abc234", MessageID: "SM" + tail + "198503121234" + "abcdefabcdefabcdef"}
	res, _, err := s.Append(ctx, "pc1", []auditlog.Entry{seal, sms})
	if err != nil || res[0].ID != id {
		t.Fatalf("%+v %v", res, err)
	}
	var body []byte
	if err := s.pool.QueryRow(ctx, "SELECT body FROM entries WHERE seq = 2").Scan(&body); err != nil {
		t.Fatal(err)
	}
	var got auditlog.Entry
	json.Unmarshal(body, &got)
	if got.Refers != id || got.Delivery.MessageID != sms.Delivery.MessageID {
		t.Fatalf("an identifier was changed: refers %q, message id %q", got.Refers, got.Delivery.MessageID)
	}
}

// A database error in one request of a group (here a real PostgreSQL
// error, raised from inside the transaction for the request carrying a
// marked entry) fails that request alone: each request of the group is
// then committed on its own, and every other device's upload goes in.
func TestDatabaseErrorRetriesEachRequestAlone(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	var mu sync.Mutex
	grouped := false
	first := true
	s.testOnlyInAppend = func(ctx context.Context, tx pgx.Tx, batch []*appendReq) error {
		mu.Lock()
		wait := first
		first = false
		mu.Unlock()
		if wait {
			// Let the other requests queue up behind the first commit,
			// so the next group holds all of them.
			time.Sleep(300 * time.Millisecond)
		}
		for _, r := range batch {
			for _, e := range r.entries {
				if e.Note == "poison" {
					mu.Lock()
					grouped = grouped || len(batch) > 1
					mu.Unlock()
					_, err := tx.Exec(ctx, "SELECT 1/0")
					return err
				}
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i > 0 {
				time.Sleep(50 * time.Millisecond)
			}
			if _, _, err := s.Append(ctx, "pc2", []auditlog.Entry{entry(auditlog.ActionSeal, "KS 2")}); err != nil {
				errs <- err
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	bad := entry(auditlog.ActionSeal, "KS 1")
	bad.Note = "poison"
	_, _, err := s.Append(ctx, "pc1", []auditlog.Entry{bad})
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("another device's upload failed with the poisoned request's database error: %v", e)
	}
	if !grouped {
		t.Fatal("the poisoned request was never in a group with others; the test proves nothing")
	}
	if err == nil || errors.Is(err, errBadRequest) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("poisoned request: %v, want its database error", err)
	}
	hd, _ := s.Head(ctx)
	if hd.Size != 60 {
		t.Fatalf("central log has %d entries, want the other device's 60", hd.Size)
	}
	mustVerify(t, s)
}

// The server masks a personnummer in every text a device sets, not only
// the ones the local log masks (operator, host, tool, format, batch, the
// delivery's provider and status as well as case, note, details, names
// and error), and bounds them.
func TestServerMasksEveryTextField(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	pnr := testPNR(t)
	e := entry(auditlog.ActionSMS, "KS "+pnr)
	e.OperatorName, e.Host, e.Tool = "Anna "+pnr, "pc-"+pnr, "kuvert "+pnr
	e.Format, e.Batch, e.Note, e.Details = "zip "+pnr, "run:"+pnr, "not "+pnr, "det "+pnr
	e.Operator = "op " + pnr + " " + strings.Repeat("å", 1000)
	e.Archive = &auditlog.FileRef{Name: pnr + ".zip", Size: 10, SHA256: strings.Repeat("b", 64)}
	e.Files = []auditlog.FileRef{{Name: "lön " + pnr + ".pdf", Size: 5, SHA256: strings.Repeat("c", 64)}}
	e.Delivery = &auditlog.Delivery{Provider: "p " + pnr, To: "+46 70-*** ** 67", Status: auditlog.Status("s " + pnr), Ref: "abc234", Error: "fel " + pnr}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{e}); err != nil {
		t.Fatal(err)
	}
	var body []byte
	var op, caseNo string
	if err := s.pool.QueryRow(ctx, "SELECT body, operator, case_no FROM entries WHERE seq = 1").Scan(&body, &op, &caseNo); err != nil {
		t.Fatal(err)
	}
	if n := personnummer.Count(body); n != 0 {
		t.Fatalf("the stored entry holds %d personnummer: %s", n, body)
	}
	if personnummer.Count([]byte(op+caseNo)) != 0 {
		t.Fatalf("a search column holds a personnummer: %q %q", op, caseNo)
	}
	var got auditlog.Entry
	json.Unmarshal(body, &got)
	if !strings.HasPrefix(got.Operator, "op 19850312-****") || len(got.Operator) > auditlog.MaxNameLen || got.Batch != "run:19850312-****" {
		t.Fatalf("operator %.40q (%d bytes), batch %q", got.Operator, len(got.Operator), got.Batch)
	}
	mustVerify(t, s)
}

// Gallring goes by the server's own time of arrival, stamped in the
// hashed line: an entry dated 9999 is pruned once it has been in the log
// long enough, one dated 1970 that arrives today survives tonight's
// prune, and a database administrator moving the time columns changes
// neither.
func TestPruneGoesByServerArrival(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	arrived := time.Now().AddDate(0, 0, -100)
	future := entry(auditlog.ActionSeal, "KS framtid")
	future.Time = "9999-12-31T23:59:59+01:00"
	future.Received = time.Now().Format(time.RFC3339) // what a device claims is ignored
	s.now = func() time.Time { return arrived }
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{future}); err != nil {
		t.Fatal(err)
	}
	s.now = time.Now
	past := entry(auditlog.ActionSeal, "KS dåtid")
	past.Time = "1970-01-01T00:00:00Z"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{past}); err != nil {
		t.Fatal(err)
	}
	var body []byte
	if err := s.pool.QueryRow(ctx, "SELECT body FROM entries WHERE seq = 1").Scan(&body); err != nil {
		t.Fatal(err)
	}
	var got auditlog.Entry
	json.Unmarshal(body, &got)
	if got.Received != arrived.UTC().Format(time.RFC3339) {
		t.Fatalf("received %q, want the server's time of arrival %s", got.Received, arrived.UTC().Format(time.RFC3339))
	}
	// A database administrator edits the columns; gallring reads the
	// hashed lines.
	if _, err := s.pool.Exec(ctx, "UPDATE entries SET at = now(), received = now() WHERE seq = 1; UPDATE entries SET at = '1970-01-01', received = '1970-01-01' WHERE seq = 2"); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want the entry that arrived 100 days ago", n, err)
	}
	var left []int64
	rows, _ := s.pool.Query(ctx, "SELECT seq FROM entries WHERE body IS NOT NULL AND device <> $1 ORDER BY seq", ServerDevice)
	for rows.Next() {
		var q int64
		rows.Scan(&q)
		left = append(left, q)
	}
	if len(left) != 1 || left[0] != 2 {
		t.Fatalf("entries kept: %v, want only the one that arrived today (2)", left)
	}
	mustVerify(t, s)
}

// Entries stored before servers stamped their arrival go by the device's
// time, but no later than the arrival of any entry after them: one dated
// 9999 cannot stay for ever.
func TestPruneLegacyEntryClampedByLaterArrival(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	legacy := entry(auditlog.ActionSeal, "KS gammal server")
	legacy.Time = "9999-12-31T23:59:59Z"
	s.now = func() time.Time { return time.Now().AddDate(0, 0, -200) }
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{legacy}); err != nil {
		t.Fatal(err)
	}
	// Make entry 1 what an older server wrote: no received time in its
	// line. Its leaf changes with it, which verification would see; this
	// test is about gallring only.
	var body []byte
	s.pool.QueryRow(ctx, "SELECT body FROM entries WHERE seq = 1").Scan(&body)
	var e auditlog.Entry
	json.Unmarshal(body, &e)
	e.Received = ""
	body, _ = json.Marshal(e)
	if _, err := s.pool.Exec(ctx, "UPDATE entries SET body = $1 WHERE seq = 1", body); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Now().AddDate(0, 0, -100) }
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{entry(auditlog.ActionSeal, "KS 2")}); err != nil {
		t.Fatal(err)
	}
	s.now = time.Now
	n, err := s.Prune(ctx, time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want the legacy entry dated 9999 and the one after it", n, err)
	}
}
