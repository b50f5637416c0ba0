package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/opener"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// fixture is a server on a fresh database with a fake Twilio and a
// captured access/error log.
type fixture struct {
	st     *Store
	url    string // database
	key    string // the signing key
	ts     *httptest.Server
	tw     *twiliotest.Server
	relay  *Relay
	logBuf *syncBuffer
	tokens map[string]string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T, lim Limits) *fixture {
	t.Helper()
	st, url, key := newStore(t)
	tw := twiliotest.NewServer()
	t.Cleanup(tw.Close)
	sender, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: tw.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, url: url, key: key, tw: tw, logBuf: &syncBuffer{}, tokens: map[string]string{}}
	f.relay = &Relay{Store: st, Sender: sender, Limits: lim, Policy: testPolicy}
	h := &Handler{Store: st, Relay: f.relay, Log: slog.New(slog.NewTextHandler(f.logBuf, nil))}
	f.relay.Log = h.Log
	f.ts = httptest.NewServer(h)
	t.Cleanup(f.ts.Close)
	for name, role := range map[string]string{"pc1": "device", "pc2": "device", "reg": "registrar", "adm": "admin"} {
		tok, err := st.AddToken(context.Background(), name, role)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[name] = tok
	}
	return f
}

// do sends a request as who ("" for no token) and returns the status and
// body.
func (f *fixture) do(t *testing.T, method, path, who string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.ts.URL+path, rd)
	if who != "" {
		tok := f.tokens[who]
		if tok == "" {
			tok = who // a raw token
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestEveryRequestAuthenticated(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	e := entry(auditlog.ActionSeal, "KS 1")
	if code, b := f.do(t, "POST", "/api/v1/entries", "pc1", api.AppendRequest{Entries: []auditlog.Entry{e}}); code != 200 {
		t.Fatalf("device append: %d %s", code, b)
	}
	endpoints := []struct{ method, path string }{
		{"POST", "/api/v1/entries"}, {"POST", "/api/v1/sms"}, {"GET", "/api/v1/sms/status?id=x"},
		{"GET", "/api/v1/log/head"}, {"GET", "/api/v1/log/proof?old=0"}, {"GET", "/api/v1/log/key"},
		{"GET", "/api/v1/log/entries"}, {"GET", "/api/v1/log/export.csv"}, {"GET", "/api/v1/log/verify"},
	}
	for _, ep := range endpoints {
		for _, who := range []string{"", "kvt_notarealtoken", "Basic x"} {
			if code, b := f.do(t, ep.method, ep.path, who, nil); code != 401 || !strings.Contains(string(b), api.CodeUnauthorized) {
				t.Errorf("%s %s as %q: %d %s, want 401", ep.method, ep.path, who, code, b)
			}
		}
	}
	// A device reads no entries: not the list, the export or verify.
	for _, p := range []string{"/api/v1/log/entries?case=KS%201", "/api/v1/log/export.csv", "/api/v1/log/verify"} {
		code, b := f.do(t, "GET", p, "pc1", nil)
		if code != 403 || strings.Contains(string(b), "KS 1") {
			t.Errorf("device on %s: %d %s, want 403", p, code, b)
		}
	}
	// A registrar appends nothing and texts nobody.
	if code, _ := f.do(t, "POST", "/api/v1/entries", "reg", api.AppendRequest{Entries: []auditlog.Entry{entry(auditlog.ActionSeal, "")}}); code != 403 {
		t.Errorf("registrar append: %d, want 403", code)
	}
	if code, _ := f.do(t, "POST", "/api/v1/sms", "reg", api.SMSRequest{Key: "k", To: "+46701740650", Password: testPassword, Ref: "ab2cd3"}); code != 403 {
		t.Errorf("registrar SMS: %d, want 403", code)
	}
	// A device may not append another device's entry ID.
	if code, b := f.do(t, "POST", "/api/v1/entries", "pc2", api.AppendRequest{Entries: []auditlog.Entry{e}}); code != 403 {
		t.Errorf("pc2 appending pc1's entry: %d %s, want 403", code, b)
	}
	// The registrar reads; a revoked token is refused on the very next
	// request.
	if code, b := f.do(t, "GET", "/api/v1/log/entries?case=ks%201", "reg", nil); code != 200 || !strings.Contains(string(b), e.ID) {
		t.Fatalf("registrar search: %d %s", code, b)
	}
	if err := f.st.RevokeToken(context.Background(), "reg"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.do(t, "GET", "/api/v1/log/entries", "reg", nil); code != 401 {
		t.Errorf("revoked registrar: %d, want 401", code)
	}
	if err := f.st.RevokeToken(context.Background(), "pc1"); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.do(t, "POST", "/api/v1/entries", "pc1", api.AppendRequest{Entries: []auditlog.Entry{entry(auditlog.ActionSeal, "")}}); code != 401 {
		t.Errorf("revoked device: %d, want 401", code)
	}
	// No token ever reaches the server's log.
	for _, tok := range f.tokens {
		if strings.Contains(f.logBuf.String(), tok) {
			t.Fatal("a token is in the server's log")
		}
	}
	// A status query needs a message id.
	if code, _ := f.do(t, "GET", "/api/v1/sms/status?id=", "adm", nil); code != 400 {
		t.Errorf("status without an id: %d, want 400", code)
	}
	// The health check needs no token.
	if code, b := f.do(t, "GET", "/healthz", "", nil); code != 200 {
		t.Fatalf("healthz: %d %s", code, b)
	}
}

func TestBadInputClearErrors(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	for _, tc := range []struct {
		body any
		want string
	}{
		{"not an object", "not valid JSON"},
		{api.AppendRequest{}, "1 to 500"},
		{api.AppendRequest{Entries: []auditlog.Entry{{Action: auditlog.ActionSeal}}}, "no valid id"},
		{api.AppendRequest{Entries: []auditlog.Entry{{ID: "a b", Action: auditlog.ActionSeal}}}, "no valid id"},
		{api.AppendRequest{Entries: []auditlog.Entry{{ID: "x1", Pruned: true, Action: auditlog.ActionSeal}}}, "pruned"},
	} {
		code, b := f.do(t, "POST", "/api/v1/entries", "pc1", tc.body)
		var e api.Error
		json.Unmarshal(b, &e)
		if code != 400 || e.Code != api.CodeBadRequest || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%v: %d %s, want 400 with %q", tc.body, code, b, tc.want)
		}
	}
	hd, _ := f.st.Head(context.Background())
	if hd.Size != 0 {
		t.Fatalf("bad requests added entries: %d", hd.Size)
	}
}

const testPassword = "Kanel-Hund-Mossa-Fyra-Tall"

// testPolicy is the test relay's words.
var testPolicy = &sms.Policy{Organisation: "Sundsvalls kommun"}

func TestSMSRelayOncePerKeyAndPasswordNeverStored(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	body, err := (&sms.Policy{Organisation: "Sundsvalls kommun", Sender: mustTwilio(t, f.tw)}).Text("ab2cd3", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	req := api.SMSRequest{Key: "20261123-0000000000000001/ab2cd3", To: "070-174 06 50", Password: testPassword, Ref: "ab2cd3", Refers: "20261123-0000000000000001", Case: "KS 2026/7"}
	code, b := f.do(t, "POST", "/api/v1/sms", "pc1", req)
	if code != 200 {
		t.Fatalf("sms: %d %s", code, b)
	}
	var rc api.SMSResponse
	json.Unmarshal(b, &rc)
	if rc.ID == "" || rc.Provider != "twilio" {
		t.Fatalf("receipt: %+v", rc)
	}
	// The retry of a request whose answer was lost gets the same receipt
	// and sends nothing.
	code, b = f.do(t, "POST", "/api/v1/sms", "pc1", req)
	var rc2 api.SMSResponse
	json.Unmarshal(b, &rc2)
	if code != 200 || rc2.ID != rc.ID {
		t.Fatalf("retry: %d %s", code, b)
	}
	// Another device cannot use pc1's key.
	if code, _ := f.do(t, "POST", "/api/v1/sms", "pc2", req); code != 403 {
		t.Fatalf("pc2 with pc1's key: %d", code)
	}
	if n := len(f.tw.Messages()); n != 1 {
		t.Fatalf("texts sent: %d, want 1", n)
	}
	if m := f.tw.Messages()[0]; m.Body != body || m.To != "+46701740650" {
		t.Fatalf("provider got %q to %s", m.Body, m.To)
	}
	// The relay logged the delivery, masked, in the central log.
	res, err := f.st.Search(context.Background(), Search{Ref: "AB2CD3"})
	if err != nil || len(res.Entries) != 1 || res.Entries[0].Delivery.To == "+46701740650" || res.Entries[0].Device != ServerDevice {
		t.Fatalf("relay's log entry: %+v %v", res, err)
	}
	// A text the provider refused (a bad number) can be tried again with
	// the same key; the refusal is a clear 502.
	f.tw.RefuseNumber("+46701740651", 21211)
	bad := api.SMSRequest{Key: "k2", To: "070-174 06 51", Password: testPassword, Ref: "zz9zz9"}
	code, b = f.do(t, "POST", "/api/v1/sms", "pc1", bad)
	if code != 502 || strings.Contains(string(b), testPassword) {
		t.Fatalf("refused: %d %s", code, b)
	}
	if code, _ := f.do(t, "POST", "/api/v1/sms", "pc1", bad); code != 502 {
		t.Fatalf("retry after refusal: %d, want 502 again (sent again)", code)
	}
	// A server killed while the provider had the text leaves the key
	// "sending": the outcome is unknown, so the key is spent and the
	// next try is refused rather than texting twice.
	if _, err := f.st.pool.Exec(context.Background(), "INSERT INTO sms_sends (key, device, state) VALUES ('k3', 'pc1', 'sending')"); err != nil {
		t.Fatal(err)
	}
	sent := len(f.tw.Messages())
	code, b = f.do(t, "POST", "/api/v1/sms", "pc1", api.SMSRequest{Key: "k3", To: "070-174 06 52", Password: testPassword, Ref: "zz8zz8"})
	if code != 409 || !strings.Contains(string(b), api.CodeAlreadySent) || len(f.tw.Messages()) != sent {
		t.Fatalf("retry after unknown outcome: %d %s, want 409 already_sent and nothing sent", code, b)
	}

	// The password is nowhere in the database or the server's log.
	dump, err := cluster.Dump(pgtest.DBName(f.url))
	if err != nil {
		t.Fatal(err)
	}
	if len(dump) < 1000 || !bytes.Contains(dump, []byte("sms_sends")) {
		t.Fatalf("pg_dump looks empty: %d bytes", len(dump))
	}
	for _, secret := range []string{testPassword, "Kanel-Hund", "070-174 06 50", "+46701740650", f.tokens["pc1"]} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("pg_dump holds %q", secret)
		}
		if strings.Contains(f.logBuf.String(), secret) {
			t.Errorf("the server's log holds %q", secret)
		}
	}
}

func TestSMSRateLimits(t *testing.T) {
	f := newFixture(t, Limits{PerDevice: 2, PerAccount: 3})
	send := func(who string, i int) int {
		code, _ := f.do(t, "POST", "/api/v1/sms", who, api.SMSRequest{Key: fmt.Sprintf("%s-%d", who, i), To: "070-174 06 50", Password: testPassword, Ref: "ab2cd3"})
		return code
	}
	if send("pc1", 1) != 200 || send("pc1", 2) != 200 {
		t.Fatal("within the device limit refused")
	}
	if c := send("pc1", 3); c != 429 {
		t.Fatalf("over the device limit: %d", c)
	}
	if send("pc2", 1) != 200 {
		t.Fatal("another device refused")
	}
	if c := send("pc2", 2); c != 429 {
		t.Fatalf("over the account limit: %d", c)
	}
	if n := len(f.tw.Messages()); n != 3 {
		t.Fatalf("texts: %d, want 3", n)
	}
	// Concurrent requests from two server processes cannot overshoot.
	g := newFixture(t, Limits{PerDevice: 5})
	h2 := httptest.NewServer(&Handler{Store: openStoreSame(t, g), Relay: &Relay{Store: g.st, Sender: mustTwilio(t, g.tw), Limits: Limits{PerDevice: 5}, Policy: testPolicy}})
	defer h2.Close()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			base := g.ts.URL
			if i%2 == 1 {
				base = h2.URL
			}
			b, _ := json.Marshal(api.SMSRequest{Key: fmt.Sprint("c", i), To: "070-174 06 50", Password: testPassword, Ref: "ab2cd3"})
			req, _ := http.NewRequest("POST", base+"/api/v1/sms", bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+g.tokens["pc1"])
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}(i)
	}
	wg.Wait()
	if n := len(g.tw.Messages()); n != 5 {
		t.Fatalf("concurrent texts through two servers: %d, want the limit 5", n)
	}
}

func openStoreSame(t *testing.T, f *fixture) *Store {
	return openStore(t, f.url, f.key)
}

func mustTwilio(t *testing.T, tw *twiliotest.Server) *twilio.Sender {
	s, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: tw.URL, Retries: 0})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestServesOpenerPage(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	resp, err := http.Get(f.ts.URL + "/" + opener.FileName)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sum := sha256.Sum256(b)
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != opener.SHA256() {
		t.Fatalf("opener page: %d, sha256 %x, want %s", resp.StatusCode, sum, opener.SHA256())
	}
	// Only GET and HEAD outside the API.
	if resp, err := http.Post(f.ts.URL+"/", "text/plain", strings.NewReader("x")); err != nil || resp.StatusCode != 405 {
		t.Fatalf("POST /: %v %v", resp.StatusCode, err)
	}
}
