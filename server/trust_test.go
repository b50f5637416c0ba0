package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/opener"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/pgtest"
)

// No page the server serves may be framed by another site (clickjacking
// the opener page or the registrar's): a CSP meta tag cannot forbid
// framing, so it takes response headers, on every answer.
func TestNoPageCanBeFramed(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	for _, path := range []string{"/" + opener.FileName, "/", "/index.html", "/app.js", "/healthz", "/api/v1/log/head", "/api/nowhere", "/nowhere.html"} {
		resp, err := http.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s (%d): X-Frame-Options %q, want DENY", path, resp.StatusCode, got)
		}
		found := false
		for _, csp := range resp.Header.Values("Content-Security-Policy") {
			found = found || strings.Contains(csp, "frame-ancestors 'none'")
		}
		if !found {
			t.Errorf("%s (%d): no Content-Security-Policy header with frame-ancestors 'none': %q", path, resp.StatusCode, resp.Header.Values("Content-Security-Policy"))
		}
	}
}

// dbaRollback plays a database administrator without the signing key:
// the entries after keep are deleted with their tree hashes and
// checkpoints, and the (genuinely signed) head of keep entries is put
// back.
func dbaRollback(t *testing.T, s *Store, keep int64) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		"DELETE FROM entries WHERE seq > $1",
		"DELETE FROM tree_hashes WHERE idx >= $1",
		"DELETE FROM checkpoints WHERE size > $1",
		"UPDATE tree_head SET size = c.size, root = c.root, note = c.note, signed = c.signed FROM checkpoints c WHERE c.size = $1",
	} {
		arg := keep
		if strings.Contains(q, "tree_hashes") {
			arg = tlog.StoredHashCount(keep)
		}
		if _, err := s.pool.Exec(ctx, q, arg); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// A database administrator removes the newest entries and puts back an
// older signed head. Without a record outside the database every check
// passes; with the server's head file beside its key, verify, the head
// the server serves, new appends and a restart all refuse.
func TestRollbackCaughtByHeadFile(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t, cluster)
	key := testKey(t)
	headFile := HeadFileFor(filepath.Join(t.TempDir(), "server-signing.key"))
	s, err := OpenStore(ctx, url, key, WithHeadFile(headFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for i := 0; i < 3; i++ {
		if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{entry(auditlog.ActionSeal, fmt.Sprintf("KS 2026/%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(headFile); err != nil {
		t.Fatalf("no head file after appends: %v", err)
	}
	mustVerify(t, s)
	dbaRollback(t, s, 1)

	// The hole: the rolled-back log verifies on its own.
	plain := openStore(t, url, key)
	mustVerify(t, plain)

	res, err := s.Verify(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || !strings.Contains(res.Problem, "rolled back") || !strings.Contains(res.Problem, "3") {
		t.Fatalf("verify of a rolled-back log: ok=%v %q", res.OK, res.Problem)
	}
	if _, err := s.Head(ctx); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("head of a rolled-back log served: %v", err)
	}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{entry(auditlog.ActionSeal, "KS ny")}); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("append on a rolled-back log: %v", err)
	}
	var size int64
	s.pool.QueryRow(ctx, "SELECT size FROM tree_head").Scan(&size)
	if size != 1 {
		t.Fatalf("the server signed on top of the rolled-back log: size %d", size)
	}
	if _, err := OpenStore(ctx, url, key, WithHeadFile(headFile)); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("restart on a rolled-back log: %v", err)
	}

	// Over HTTP: the head is refused and the registrar's verify (what
	// the page shows) is red.
	h := httptest.NewServer(&Handler{Store: s})
	defer h.Close()
	reg, err := s.AddToken(ctx, "reg", "registrar")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest("GET", h.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+reg)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, b := get("/api/v1/log/head"); code != 500 || !strings.Contains(string(b), api.CodeRolledBack) {
		t.Fatalf("/log/head: %d %s", code, b)
	}
	code, b := get("/api/v1/log/verify?fresh=1")
	var vr api.VerifyResponse
	if code != 200 || json.Unmarshal(b, &vr) != nil || vr.OK || !strings.Contains(vr.Problem, "rolled back") {
		t.Fatalf("/log/verify: %d %s", code, b)
	}
}

// A database administrator edits the columns beside a sealing (case,
// time, reference, recipient, operator): the search and the export still
// find it by its hashed body, and verify names the edited column.
func TestEditedSearchColumnsHideNothing(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	s := f.st
	ctx := context.Background()
	e := entry(auditlog.ActionSeal, "KS 2026/77")
	e.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Ref: "ab3cd4", Status: auditlog.StatusSent}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{e, entry(auditlog.ActionSeal, "KS 2026/78")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE entries SET case_no = 'KS 1999/1', ref = 'zzzzzz', recipient = '', operator = 'x', at = '2000-01-01T00:00:00Z' WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(Zone)
	day := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, Zone)
	for _, q := range []Search{
		{Case: "ks 2026/77"},
		{Ref: "AB3CD4"},
		{Recipient: "67"},
		{Sender: "anna", Case: "KS 2026/77"},
		{From: day, To: day, Case: "KS 2026/77"},
	} {
		res, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Entries) != 1 || res.Entries[0].ID != e.ID {
			t.Errorf("%+v: found %d entries, want the sealing", q, len(res.Entries))
		}
	}
	res, _ := s.Search(ctx, Search{Case: "KS 1999/1"})
	if len(res.Entries) != 0 {
		t.Errorf("the edited column's value found %d entries", len(res.Entries))
	}
	code, b := f.do(t, "GET", "/api/v1/log/export.csv?case=KS+2026%2F77", "reg", nil)
	if code != 200 || !strings.Contains(string(b), e.ID) && !strings.Contains(string(b), "KS 2026/77") {
		t.Errorf("export: %d %s", code, b)
	}
	v, err := s.Verify(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || !strings.Contains(v.Problem, "column differs") {
		t.Errorf("verify of edited columns: ok=%v %q", v.OK, v.Problem)
	}
}

// A body changed in the database is not used by a search or an export:
// the search reports its place, the export is refused.
func TestSearchReportsChangedBody(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	ctx := context.Background()
	e := entry(auditlog.ActionSeal, "KS 2026/90")
	if _, _, err := f.st.Append(ctx, "pc1", []auditlog.Entry{e}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.pool.Exec(ctx, `UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), 'anna', 'olle'), 'UTF8') WHERE id = $1`, e.ID); err != nil {
		t.Fatal(err)
	}
	res, err := f.st.Search(ctx, Search{Case: "KS 2026/90"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 0 || len(res.Unverified) != 1 || res.Unverified[0] != 1 {
		t.Fatalf("changed body: entries %d, unverified %v", len(res.Entries), res.Unverified)
	}
	if code, b := f.do(t, "GET", "/api/v1/log/export.csv", "reg", nil); code != 409 || !strings.Contains(string(b), api.CodeTampered) {
		t.Fatalf("export of a changed log: %d %s", code, b)
	}
}
