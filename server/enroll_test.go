package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/sms"
)

func postEnroll(t *testing.T, url, code, computer string) (int, api.EnrollResponse, api.Error) {
	t.Helper()
	b, _ := json.Marshal(api.EnrollRequest{Code: code, Computer: computer})
	resp, err := http.Post(url+"/api/v1/enroll", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ok api.EnrollResponse
	var e api.Error
	if resp.StatusCode == 200 {
		json.NewDecoder(resp.Body).Decode(&ok)
	} else {
		json.NewDecoder(resp.Body).Decode(&e)
	}
	return resp.StatusCode, ok, e
}

func TestEnrollCodeShapeAndStorage(t *testing.T) {
	st, url, _ := newStore(t)
	ctx := context.Background()
	code, ec, err := st.AddEnrollCode(ctx, "ekonomi-", 3, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^kve(-[2-9a-hjkmnp-z]{4}){7}$`).MatchString(code) {
		t.Fatalf("code %q is not 28 symbols of the readable alphabet in groups of four", code)
	}
	if ec.UsesLeft != 3 || ec.UsesTotal != 3 || ec.Prefix != "ekonomi-" {
		t.Fatalf("record %+v", ec)
	}
	// The database holds the hash, never the code.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dump string
	if err := conn.QueryRow(ctx, "SELECT string_agg(t::text, ' ') FROM enroll_codes t").Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, code) || strings.Contains(dump, NormalizeEnrollCode(code)) {
		t.Fatal("the enrollment code is stored in clear")
	}
	// Typed in capitals with spaces instead of dashes, it still works.
	res, err := st.Enroll(ctx, strings.ToUpper(strings.ReplaceAll(code, "-", " ")), "PC 0142")
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "ekonomi-pc-0142" || res.Role != api.RoleDevice || !strings.HasPrefix(res.Token, "kvt_") {
		t.Fatalf("enrolled %+v", res)
	}
	if name, role, err := st.Authenticate(ctx, res.Token); err != nil || name != res.Name || role != api.RoleDevice {
		t.Fatalf("the token authenticates as %q %q %v", name, role, err)
	}
	// The same computer again gets a suffix, not a refusal.
	res2, err := st.Enroll(ctx, code, "PC 0142")
	if err != nil || res2.Name != "ekonomi-pc-0142-2" {
		t.Fatalf("second enrollment of the same name: %+v %v", res2, err)
	}
	toks, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var enrolled int
	for _, tk := range toks {
		if tk.EnrollCode != nil {
			enrolled++
			if *tk.EnrollCode != ec.ID || tk.EnrollPrefix != "ekonomi-" {
				t.Fatalf("token %+v does not name its code", tk)
			}
		}
	}
	if enrolled != 2 {
		t.Fatalf("%d enrolled tokens, want 2", enrolled)
	}
}

func TestEnrollRefusals(t *testing.T) {
	st, _, _ := newStore(t)
	ctx := context.Background()
	now := time.Now()
	st.now = func() time.Time { return now }
	used, _, _ := st.AddEnrollCode(ctx, "a-", 1, now.Add(time.Hour))
	expiring, _, _ := st.AddEnrollCode(ctx, "b-", 5, now.Add(time.Minute))
	revoked, rc, _ := st.AddEnrollCode(ctx, "c-", 5, now.Add(time.Hour))
	if _, err := st.Enroll(ctx, used, "pc1"); err != nil {
		t.Fatal(err)
	}
	if n, err := st.RevokeEnrollCode(ctx, "c-"); err != nil || n != 1 {
		t.Fatalf("revoke by prefix: %d %v", n, err)
	}
	if _, err := st.RevokeEnrollCode(ctx, "c-"); !errors.Is(err, errNotFound) {
		t.Fatalf("revoking again: %v", err)
	}
	now = now.Add(2 * time.Minute)
	for _, tc := range []struct {
		code string
		want error
	}{
		{used, ErrEnrollUsedUp},
		{expiring, ErrEnrollExpired},
		{revoked, ErrEnrollRevoked},
		{"kve-2222-2222-2222-2222-2222-2222-2222", ErrEnrollUnknown},
	} {
		if _, err := st.Enroll(ctx, tc.code, "pc2"); !errors.Is(err, tc.want) {
			t.Errorf("%v: got %v", tc.want, err)
		}
	}
	codes, _ := st.EnrollCodes(ctx)
	for _, c := range codes {
		if c.ID == rc.ID && c.Revoked == nil {
			t.Error("list does not show the revocation")
		}
	}
	toks, _ := st.Tokens(ctx)
	if len(toks) != 1 {
		t.Fatalf("refused enrollments made tokens: %+v", toks)
	}
	if _, _, err := st.AddEnrollCode(ctx, "x y", 1, now.Add(time.Hour)); !errors.Is(err, errBadRequest) {
		t.Errorf("a prefix with a space: %v", err)
	}
	if _, _, err := st.AddEnrollCode(ctx, "x-", 0, now.Add(time.Hour)); !errors.Is(err, errBadRequest) {
		t.Errorf("zero uses: %v", err)
	}
}

// Many desktops racing for a code's last uses, with real concurrent HTTP
// requests against PostgreSQL: exactly as many win as there were uses.
func TestEnrollRaceForTheLastUse(t *testing.T) {
	st, _, _ := newStore(t)
	ts := httptest.NewServer(&Handler{Store: st})
	defer ts.Close()
	ctx := context.Background()
	for _, tc := range []struct{ uses, racers int }{{1, 2}, {3, 12}} {
		code, _, err := st.AddEnrollCode(ctx, "race-", tc.uses, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, usedUp := 0, 0
		start := make(chan struct{})
		for i := range tc.racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				status, _, e := postEnroll(t, ts.URL, code, "pc")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case status == 200:
					won++
				case e.Code == api.CodeEnrollUsedUp:
					usedUp++
				default:
					t.Errorf("racer %d: %d %+v", i, status, e)
				}
			}()
		}
		close(start)
		wg.Wait()
		if won != tc.uses || usedUp != tc.racers-tc.uses {
			t.Fatalf("%d uses, %d racers: %d won, %d used up", tc.uses, tc.racers, won, usedUp)
		}
	}
	codes, _ := st.EnrollCodes(ctx)
	for _, c := range codes {
		if c.UsesLeft != 0 {
			t.Fatalf("code %d has %d uses left", c.ID, c.UsesLeft)
		}
	}
}

func TestEnrollHTTP(t *testing.T) {
	st, _, _ := newStore(t)
	var logBuf syncBuffer
	org := &api.OrgSettings{Organisation: "Testkommun", OpenerURL: "https://kuvert.example.se/oppna.html", SMSLanguage: "sv"}
	ts := httptest.NewServer(&Handler{Store: st, Org: org, Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	defer ts.Close()
	ctx := context.Background()
	code, _, _ := st.AddEnrollCode(ctx, "ekonomi-", 2, time.Now().Add(time.Hour))

	status, res, _ := postEnroll(t, ts.URL, code, "PC-7")
	if status != 200 || res.Role != api.RoleDevice || res.Name != "ekonomi-pc-7" {
		t.Fatalf("enroll: %d %+v", status, res)
	}
	// The token buys the organisation's settings, and nothing a
	// registrar may do.
	get := func(path, tok string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/api/v1/settings", res.Token)
	var got api.OrgSettings
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	want := *org
	want.SMSTemplate = sms.LinkTemplates["sv"] // the default, named
	if resp.StatusCode != 200 || got != want {
		t.Fatalf("settings: %d %+v", resp.StatusCode, got)
	}
	if resp := get("/api/v1/log/entries", res.Token); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an enrolled token searched the log: %d", resp.StatusCode)
	}
	if resp := get("/api/v1/settings", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("settings without a token: %d", resp.StatusCode)
	}
	// A role in the request is not a field of the request.
	b := []byte(`{"code":"` + code + `","computer":"pc8","role":"admin"}`)
	r2, err := http.Post(ts.URL+"/api/v1/enroll", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var res2 api.EnrollResponse
	json.NewDecoder(r2.Body).Decode(&res2)
	r2.Body.Close()
	if _, role, _ := st.Authenticate(ctx, res2.Token); role != api.RoleDevice {
		t.Fatalf("asking for admin gave role %q", role)
	}
	if status, _, e := postEnroll(t, ts.URL, code, "pc9"); status != http.StatusForbidden || e.Code != api.CodeEnrollUsedUp || !strings.Contains(e.Message, "förbrukad") {
		t.Fatalf("used up: %d %+v", status, e)
	}
	// Neither the code nor a token reaches the server's log.
	if strings.Contains(logBuf.String(), code) || strings.Contains(logBuf.String(), res.Token) {
		t.Fatalf("a secret in the log:\n%s", logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "ekonomi-pc-7") {
		t.Fatalf("the log does not name the enrolled device:\n%s", logBuf.String())
	}
}

func TestEnrollRateLimitsFailuresPerAddress(t *testing.T) {
	st, _, _ := newStore(t)
	ts := httptest.NewServer(&Handler{Store: st})
	defer ts.Close()
	good, _, _ := st.AddEnrollCode(context.Background(), "rl-", 5, time.Now().Add(time.Hour))
	// Successes do not count.
	for range 2 {
		if status, _, _ := postEnroll(t, ts.URL, good, "pc"); status != 200 {
			t.Fatalf("good code: %d", status)
		}
	}
	for i := range EnrollFailLimit {
		if status, _, e := postEnroll(t, ts.URL, "kve-2222-3333", "pc"); status != http.StatusForbidden || e.Code != api.CodeEnrollUnknown {
			t.Fatalf("failure %d: %d %+v", i, status, e)
		}
	}
	status, _, e := postEnroll(t, ts.URL, good, "pc")
	if status != http.StatusTooManyRequests || e.Code != api.CodeRateLimited {
		t.Fatalf("after %d failures: %d %+v", EnrollFailLimit, status, e)
	}
	// The window passes.
	var l failLimiter
	now := time.Now()
	for range EnrollFailLimit {
		l.fail("192.0.2.1", now)
	}
	if !l.blocked("192.0.2.1", now) || l.blocked("192.0.2.2", now) || l.blocked("192.0.2.1", now.Add(EnrollFailWindow)) {
		t.Fatal("the limiter counts per address and window")
	}
}

func TestSanitizeComputerName(t *testing.T) {
	for in, want := range map[string]string{
		"PC-0142":               "pc-0142",
		"Kontor Dator 3":        "kontor-dator-3",
		"åsa's pc":              "sas-pc",
		"":                      "dator",
		"---":                   "dator",
		"a\nb":                  "a-b",
		strings.Repeat("x", 80): strings.Repeat("x", 50),
	} {
		if got := SanitizeComputerName(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
