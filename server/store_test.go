package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func testKey(t testing.TB) string {
	t.Helper()
	sk, _, err := GenerateKey("kuvert-test")
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func openStore(t testing.TB, url, key string) *Store {
	t.Helper()
	s, err := OpenStore(context.Background(), url, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newStore(t testing.TB) (*Store, string, string) {
	url := pgtest.DB(t, cluster)
	key := testKey(t)
	return openStore(t, url, key), url, key
}

var idN int64
var idMu sync.Mutex

func entry(action auditlog.Action, caseNo string) auditlog.Entry {
	idMu.Lock()
	idN++
	n := idN
	idMu.Unlock()
	return auditlog.Entry{Seq: n, ID: fmt.Sprintf("20261123-%016x", n), Time: time.Now().Format(time.RFC3339), Operator: "anna", Host: "pc1", Tool: "kuvert test", Action: action, Case: caseNo}
}

func mustVerify(t *testing.T, s *Store) {
	t.Helper()
	res, err := s.Verify(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("central log does not verify: %s (entry %d)", res.Problem, res.FirstBad)
	}
}

func TestAppendIdempotentAndOwned(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a, b := entry(auditlog.ActionSeal, "KS 2026/1"), entry(auditlog.ActionSeal, "KS 2026/2")
	res, head, err := s.Append(ctx, "pc1", []auditlog.Entry{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Seq != 1 || res[1].Seq != 2 || res[0].Duplicate || head.Size != 2 {
		t.Fatalf("first append: %+v head %d", res, head.Size)
	}
	// A retry (the answer was lost) adds nothing and says where they are.
	c := entry(auditlog.ActionSMS, "")
	res, head, err = s.Append(ctx, "pc1", []auditlog.Entry{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || !res[1].Duplicate || res[1].Seq != 2 || res[2].Duplicate || res[2].Seq != 3 || head.Size != 3 {
		t.Fatalf("retry: %+v head %d", res, head.Size)
	}
	// Another device may not claim pc1's entry ID; nothing of its
	// request is added.
	d := entry(auditlog.ActionSeal, "")
	if _, _, err := s.Append(ctx, "pc2", []auditlog.Entry{d, a}); !errors.Is(err, ErrForeignID) {
		t.Fatalf("foreign id: %v", err)
	}
	// The same ID with other content is a conflict, not a duplicate.
	a2 := a
	a2.Case = "KS 2026/999"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{a2}); !errors.Is(err, ErrConflict) {
		t.Fatalf("changed entry under the same id: %v", err)
	}
	hd, _ := s.Head(ctx)
	if hd.Size != 3 {
		t.Fatalf("refused requests added entries: size %d", hd.Size)
	}
	// The device name is the token's, never the entry's own claim.
	e := entry(auditlog.ActionSeal, "")
	e.Device = "someone-else"
	res, _, err = s.Append(ctx, "pc1", []auditlog.Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.bodies(ctx, "SELECT body FROM entries WHERE seq = $1", res[0].Seq)
	if err != nil || len(got) != 1 || got[0].Device != "pc1" {
		t.Fatalf("stored device: %+v %v", got, err)
	}
	mustVerify(t, s)
}

func TestPersonnummerMaskedCentrally(t *testing.T) {
	s, _, _ := newStore(t)
	e := entry(auditlog.ActionSeal, "lön 19121212-1212")
	e.Note = "till 191212121212"
	if _, _, err := s.Append(context.Background(), "pc1", []auditlog.Entry{e}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.bodies(context.Background(), "SELECT body FROM entries")
	if strings.Contains(got[0].Case+got[0].Note, "1212-1212") || strings.Contains(got[0].Note, "191212121212") {
		t.Fatalf("personnummer stored: %q %q", got[0].Case, got[0].Note)
	}
}

// Two stores (two server processes) on one database, appending at once
// from many goroutines, keep one tree: every entry once, the signed
// root matching the entries, every head consistent with the last.
func TestTwoStoresOneTree(t *testing.T) {
	s1, url, key := newStore(t)
	s2 := openStore(t, url, key)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var heads [][]byte
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			st := s1
			if g%2 == 1 {
				st = s2
			}
			for i := 0; i < 25; i++ {
				_, h, err := st.Append(ctx, fmt.Sprintf("pc%d", g), []auditlog.Entry{entry(auditlog.ActionSeal, "")})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				heads = append(heads, []byte(h.Note))
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	hd, _ := s1.Head(ctx)
	if hd.Size != 400 {
		t.Fatalf("size %d, want 400", hd.Size)
	}
	mustVerify(t, s1)
	// Every head any client saw is consistent with the final one.
	v, _ := note.NewVerifier(s1.VerifierKey())
	size, root, err := auditlog.OpenTreeHead([]byte(hd.Note), v, auditlog.CentralOrigin)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heads {
		n, r, err := auditlog.OpenTreeHead(h, v, auditlog.CentralOrigin)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s2.Proof(ctx, n, size)
		if err != nil {
			t.Fatal(err)
		}
		var proof tlog.TreeProof
		for _, x := range p.Hashes {
			b, _ := base64.StdEncoding.DecodeString(x)
			var hh tlog.Hash
			copy(hh[:], b)
			proof = append(proof, hh)
		}
		if n > 0 && n < size {
			if err := tlog.CheckTree(proof, size, root, n, r); err != nil {
				t.Fatalf("head %d not consistent with %d: %v", n, size, err)
			}
		}
	}
}

func TestOtherKeyRefused(t *testing.T) {
	_, url, _ := newStore(t)
	if _, err := OpenStore(context.Background(), url, testKey(t)); err == nil || !strings.Contains(err.Error(), "same signing key") {
		t.Fatalf("a server with another key opened the log: %v", err)
	}
}

// An operator with database access who edits, deletes or empties rows
// is caught by Verify.
func TestVerifyCatchesEdits(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"edited body", `UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), 'KS 1', 'KS 9'), 'UTF8') WHERE seq = 2`, "entry 2 was changed"},
		{"deleted row", `DELETE FROM entries WHERE seq = 3`, "entry 3 is missing"},
		{"emptied without record", `UPDATE entries SET body = NULL WHERE seq = 2`, "no prune record"},
		{"rewritten leaf", `UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), 'KS 1', 'KS 9'), 'UTF8'), leaf = sha256('\x00'::bytea || convert_to(replace(convert_from(body, 'UTF8'), 'KS 1', 'KS 9'), 'UTF8')) WHERE seq = 2`, "do not add up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newStore(t)
			var es []auditlog.Entry
			for i := 0; i < 5; i++ {
				es = append(es, entry(auditlog.ActionSeal, "KS 1"))
			}
			if _, _, err := s.Append(ctx, "pc1", es); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, s)
			if _, err := s.pool.Exec(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			res, err := s.Verify(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || !strings.Contains(res.Problem, tc.want) {
				t.Fatalf("got ok=%v %q, want %q", res.OK, res.Problem, tc.want)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	// Gallring goes by when the server received an entry: "old" arrived
	// 100 days ago.
	old := entry(auditlog.ActionSeal, "KS gammal")
	s.now = func() time.Time { return time.Now().AddDate(0, 0, -100) }
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{old}); err != nil {
		t.Fatal(err)
	}
	s.now = time.Now
	recent := entry(auditlog.ActionSeal, "KS ny")
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{recent}); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	mustVerify(t, s)
	res, err := s.Search(ctx, Search{Case: "KS gammal"})
	if err != nil || len(res.Entries) != 0 {
		t.Fatalf("pruned entry still found: %+v %v", res, err)
	}
	res, _ = s.Search(ctx, Search{Case: "ks ny"})
	if len(res.Entries) != 1 {
		t.Fatalf("kept entry not found: %+v", res)
	}
	hd, _ := s.Head(ctx)
	if hd.Size != 3 {
		t.Fatalf("no prune record: size %d", hd.Size)
	}
	// Pruning again finds nothing new and adds no record.
	if n, err := s.Prune(ctx, time.Now().AddDate(0, 0, -90), "90d"); n != 0 || err != nil {
		t.Fatalf("second prune: %d %v", n, err)
	}
}

func TestTokens(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	tok, err := s.AddToken(ctx, "pc1", "device")
	if err != nil {
		t.Fatal(err)
	}
	if name, role, err := s.Authenticate(ctx, tok); err != nil || name != "pc1" || role != "device" {
		t.Fatalf("auth: %s %s %v", name, role, err)
	}
	if _, err := s.AddToken(ctx, "pc1", "device"); !errors.Is(err, ErrTokenExists) {
		t.Fatalf("second active token with one name: %v", err)
	}
	if _, err := s.AddToken(ctx, "x", "root"); err == nil {
		t.Fatal("unknown role accepted")
	}
	if err := s.RevokeToken(ctx, "pc1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Authenticate(ctx, tok); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
	var n int
	s.pool.QueryRow(ctx, "SELECT count(*) FROM tokens WHERE position(convert_to($1, 'UTF8') in hash) > 0", tok).Scan(&n)
	if n != 0 {
		t.Fatal("token stored in clear")
	}
}

// Search input is data, never SQL or a pattern: quotes, comment markers,
// LIKE wildcards and regular-expression characters match only
// themselves.
func TestSearchInputIsData(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	a := entry(auditlog.ActionSeal, "KS 1")
	a.Operator = "anna_100%"
	b := entry(auditlog.ActionSeal, "KS 2")
	b.Operator = "bertil"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{a, b}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []Search{
		{Case: "x' OR '1'='1"},
		{Case: "KS 1'; DROP TABLE entries; --"},
		{Sender: "anna_1000"},
		{Sender: "bert%"},
		{Sender: "b_rtil"},
		{Ref: ".*"},
	} {
		res, err := s.Search(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		if len(res.Entries) != 0 {
			t.Errorf("%+v matched %d entries", q, len(res.Entries))
		}
	}
	for _, w := range []string{"NA_100%", "%", "_"} {
		res, err := s.Search(ctx, Search{Sender: w})
		if err != nil || len(res.Entries) != 1 || res.Entries[0].ID != a.ID {
			t.Fatalf("literal wildcard characters %q: %+v %v", w, res, err)
		}
	}
	if _, err := s.Search(ctx, Search{Recipient: "abc"}); err == nil {
		t.Fatal("a recipient without digits was accepted")
	}
	hd, _ := s.Head(ctx)
	if hd.Size != 2 {
		t.Fatalf("the log changed: %d", hd.Size)
	}
}

// A retry is recognised by what the device shipped, not by how the
// server stores it: if the stored form differs (a server upgrade changed
// masking or limits between the first try and the retry), the retry is
// still a duplicate, and a changed entry still a conflict.
func TestRetryAfterNormalisationChanged(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	e := entry(auditlog.ActionSeal, "KS 2026/5")
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{e}); err != nil {
		t.Fatal(err)
	}
	// As if an older server had stored it in another form.
	if _, err := s.pool.Exec(ctx, `UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), 'KS 2026/5', 'KS 2026/5 (äldre form)'), 'UTF8') WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	res, _, err := s.Append(ctx, "pc1", []auditlog.Entry{e})
	if err != nil || !res[0].Duplicate {
		t.Fatalf("retry: %+v %v, want a duplicate", res, err)
	}
	e.Case = "KS 2026/6"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{e}); !errors.Is(err, ErrConflict) {
		t.Fatalf("changed entry under the same id: %v", err)
	}
}

// Gallring reaches every entry a device shipped: one it calls a prune or
// repair record (by when it arrived); an entry without a readable time
// is refused at the door; only the server's own prune records stay. SMS
// keys stay too, so a key is never texted twice, however old.
func TestPruneCannotBeDodged(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	fake := entry(auditlog.ActionRepair, "KS 2026/1")
	fake.Note = "a register kept for ever"
	s.now = func() time.Time { return time.Now().AddDate(0, 0, -100) }
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{fake}); err != nil {
		t.Fatal(err)
	}
	s.now = time.Now
	noTime := entry(auditlog.ActionSeal, "KS 2026/2")
	noTime.Time = "not a time"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{noTime}); !errors.Is(err, errBadRequest) || !strings.Contains(err.Error(), "time") {
		t.Fatalf("an entry without a readable time: %v, want a bad request naming the time", err)
	}
	if _, err := s.pool.Exec(ctx, "INSERT INTO sms_sends (key, device, state, created) VALUES ('old-key', 'pc1', 'sent', now() - interval '100 days')"); err != nil {
		t.Fatal(err)
	}
	n, err := s.Prune(ctx, time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the fake repair record", n, err)
	}
	mustVerify(t, s)
	var keys int
	s.pool.QueryRow(ctx, "SELECT count(*) FROM sms_sends WHERE key = 'old-key'").Scan(&keys)
	if keys != 1 {
		t.Fatal("gallring forgot an SMS key: it could be texted again")
	}
	// The server's own prune record is kept by the next gallring.
	n, err = s.Prune(ctx, time.Now().AddDate(0, 0, 1), "0d")
	if err != nil || n != 0 {
		t.Fatalf("second prune emptied %d (%v): the server's prune record must stay", n, err)
	}
}

// An unreachable database says which setting it is and that it does not
// answer, on one line, without the URL's password.
func TestOpenStoreUnreachableSaysSo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = OpenStore(ctx, fmt.Sprintf("postgres://kuvert:hemligt42@127.0.0.1:%d,127.0.0.1:%d/kuvert?connect_timeout=2", port, port), testKey(t))
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "KUVERT_DATABASE_URL") ||
		strings.Contains(err.Error(), "hemligt42") || strings.ContainsAny(err.Error(), "\n\t") || strings.Contains(err.Error(), ":;") {
		t.Fatalf("%q", err)
	}
}
