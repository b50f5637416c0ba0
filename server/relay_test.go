package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/serverproc"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/relay"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// post sends a raw JSON body to the SMS endpoint as pc1.
func (f *fixture) postRaw(t *testing.T, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.ts.URL+"/api/v1/sms", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.tokens["pc1"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// A stolen device token can no longer text prose in the organisation's
// name: no body, no other field, and no password, reference, case or
// number that carries words, a link or a number to call.
func TestRelayRefusesProse(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	for _, raw := range []string{
		`{"key":"p1","to":"+46701740650","body":"BankID: logga in på https://bank-id.example/x"}`,
		`{"key":"p2","to":"+46701740650","password":"Kanel-Hund","ref":"ab2cd3","body":"BankID"}`,
		`{"key":"p3","to":"+46701740650","password":"Kanel-Hund","ref":"ab2cd3","lang":"en"}`,
		`{"key":"p4","to":"+46701740650","password":"Kanel-Hund","ref":"ab2cd3"} {"key":"p5"}`,
	} {
		code, b := f.postRaw(t, raw)
		if code != 400 || !strings.Contains(string(b), api.CodeBadRequest) {
			t.Errorf("%s: %d %s, want 400", raw, code, b)
		}
	}
	base := api.SMSRequest{Key: "k", To: "070-174 06 50", Password: testPassword, Ref: "ab2cd3", Case: "KS 2026/7"}
	bad := map[string]func(*api.SMSRequest){
		"password with words":    func(m *api.SMSRequest) { m.Password = "Ditt BankID har gått ut" },
		"password with a link":   func(m *api.SMSRequest) { m.Password = "https://bankid-se.example/login" },
		"password with a host":   func(m *api.SMSRequest) { m.Password = "logga-in-pa-bankid-verify.se" },
		"password with www":      func(m *api.SMSRequest) { m.Password = "www.bankid-verify" },
		"password with a mail":   func(m *api.SMSRequest) { m.Password = "svara-till:hj@mail.com" },
		"password with newline":  func(m *api.SMSRequest) { m.Password = "x\nRing-oss" },
		"password is a number":   func(m *api.SMSRequest) { m.Password = "+46771123456" },
		"password with a number": func(m *api.SMSRequest) { m.Password = "ring-0771123456" },
		"password with dashes":   func(m *api.SMSRequest) { m.Password = "0771-12-34-56" },
		"password over 99 bytes": func(m *api.SMSRequest) { m.Password = strings.Repeat("k7pq-", 20) },
		"password not GSM-7":     func(m *api.SMSRequest) { m.Password = "lösen’ord" },
		"no password":            func(m *api.SMSRequest) { m.Password = "" },
		"ref with words":         func(m *api.SMSRequest) { m.Ref = "BankID" },
		"ref too long":           func(m *api.SMSRequest) { m.Ref = "ab2cd3ab2cd3" },
		"ref with a link":        func(m *api.SMSRequest) { m.Ref = "x.se/a" },
		"no ref":                 func(m *api.SMSRequest) { m.Ref = "" },
		"case with a link":       func(m *api.SMSRequest) { m.Case = "KS https://evil.example" },
		"case with a host":       func(m *api.SMSRequest) { m.Case = "se bankid-verify.se" },
		"case with newline":      func(m *api.SMSRequest) { m.Case = "KS 1\nRing oss" },
		"case too long":          func(m *api.SMSRequest) { m.Case = strings.Repeat("K", 65) },
		"refers with a slash":    func(m *api.SMSRequest) { m.Refers = "a/b" },
		"landline":               func(m *api.SMSRequest) { m.To = "08-123 456 78" },
		"foreign mobile":         func(m *api.SMSRequest) { m.To = "+47 412 34 567" },
	}
	for name, change := range bad {
		m := base
		m.Key = "bad/" + name
		change(&m)
		code, b := f.do(t, "POST", "/api/v1/sms", "pc1", m)
		if code != 400 {
			t.Errorf("%s: %d %s, want 400", name, code, b)
		}
		if m.Password != "" && strings.Contains(string(b), m.Password) {
			t.Errorf("%s: the answer quotes the password: %s", name, b)
		}
	}
	if n := len(f.tw.Messages()); n != 0 {
		t.Fatalf("%d texts went out for refused requests: %q", n, f.tw.Messages()[0].Body)
	}
	// Passwords kuvert makes pass: generated groups and joined words.
	for i, pw := range []string{"h4mt8-2bqx9-rk3nd-w7vfc", testPassword, "Sommar2026!Kaffe"} {
		m := base
		m.Key, m.Password = fmt.Sprint("good-", i), pw
		if code, b := f.do(t, "POST", "/api/v1/sms", "pc1", m); code != 200 {
			t.Errorf("password %d: %d %s", i, code, b)
		}
	}
	if n := len(f.tw.Messages()); n != 3 {
		t.Fatalf("texts: %d, want 3", n)
	}
	for _, m := range f.tw.Messages() {
		if !strings.HasPrefix(m.Body, "Lösenord till krypterad bilaga i e-post från Sundsvalls kommun.") {
			t.Errorf("not the organisation's text: %q", m.Body)
		}
	}
}

// The relayed text is byte for byte what the desktop composes for the
// same parts with the same policy: the desktop's own sealing path
// (envelope.SendPassword over relay.Sender) through the HTTP API.
func TestRelayTextMatchesDesktop(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	for i, words := range []sms.Policy{
		{Organisation: "Sundsvalls kommun, Lön"},
		{Organisation: "Sundsvall", Lang: "en", OpenerURL: "https://sundsvall.se/o"},
		{Organisation: "Lön", Template: "{org}: ref {ref} lösenord {password}"},
	} {
		server := words
		f.relay.Policy = &server
		c, err := client.New(f.ts.URL, f.tokens["pc1"])
		if err != nil {
			t.Fatal(err)
		}
		desk := words
		desk.Sender = &relay.Sender{Client: c}
		log, err := auditlog.Open(auditlog.Options{Dir: t.TempDir(), KeyDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		pw := fmt.Sprintf("k7pq%d-x3mhb-9rtw4-ndc8f", i+2)
		d, err := envelope.SendPassword(context.Background(), log, &desk, envelope.PasswordSMS{To: "070-174 06 5" + fmt.Sprint(i), Password: pw, Case: "KS 2026/7", Refers: fmt.Sprintf("20261123-00000000000000%02d", i)})
		if err != nil {
			t.Fatalf("policy %d: %v", i, err)
		}
		want, err := desk.Text(d.Ref, pw)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := f.tw.LastTo(fmt.Sprintf("+4670174065%d", i))
		if !ok || got.Body != want {
			t.Errorf("policy %d: relayed %q, the desktop composes %q", i, got.Body, want)
		}
	}
}

// Other countries only as --sms-countries allows, within their own limit.
func TestRelayCountriesAndForeignLimit(t *testing.T) {
	f := newFixture(t, Limits{PerDevice: 100, PerAccount: 100, PerForeign: 1})
	send := func(key, to string) int {
		code, _ := f.do(t, "POST", "/api/v1/sms", "pc1", api.SMSRequest{Key: key, To: to, Password: testPassword, Ref: "ab2cd3"})
		return code
	}
	if c := send("no-0", "+47 412 34 567"); c != 400 {
		t.Fatalf("Norwegian mobile without --sms-countries: %d, want 400", c)
	}
	f.relay.Countries = []string{"NO"}
	if c := send("no-1", "+47 412 34 567"); c != 200 {
		t.Fatalf("Norwegian mobile allowed: %d", c)
	}
	if c := send("no-2", "+47 412 34 568"); c != 429 {
		t.Fatalf("over the foreign limit: %d, want 429", c)
	}
	if c := send("dk-1", "+45 20 12 34 56"); c != 400 {
		t.Fatalf("Danish mobile not allowed: %d, want 400", c)
	}
	if c := send("se-1", "070-174 06 50"); c != 200 {
		t.Fatalf("Swedish mobile after the foreign limit: %d", c)
	}
	if n := len(f.tw.Messages()); n != 2 {
		t.Fatalf("texts: %d, want 2", n)
	}
	for _, bad := range [][]string{{"Norway"}, {"no"}, {"N0"}} {
		r := &Relay{Sender: f.relay.Sender, Policy: testPolicy, Countries: bad}
		if err := r.Check(); err == nil {
			t.Errorf("countries %q accepted", bad)
		}
	}
	if err := (&Relay{Sender: f.relay.Sender}).Check(); err == nil {
		t.Error("a relay without an organisation name passed its check")
	}
}

// failRecording makes the database refuse what the relay writes after
// the provider answered: the central log's insert of the server's own
// entries (as a broken group commit would), or the sms_sends update.
func (f *fixture) failRecording(t *testing.T, what string) (undo func()) {
	t.Helper()
	ctx := context.Background()
	var ddl string
	switch what {
	case "append":
		ddl = fmt.Sprintf(`CREATE FUNCTION fail_rec() RETURNS trigger AS $$ BEGIN IF NEW.device = '%s' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
			CREATE TRIGGER fail_rec BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION fail_rec()`, ServerDevice)
	case "update":
		ddl = `CREATE FUNCTION fail_rec() RETURNS trigger AS $$ BEGIN IF NEW.state <> 'sending' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
			CREATE TRIGGER fail_rec BEFORE UPDATE ON sms_sends FOR EACH ROW EXECUTE FUNCTION fail_rec()`
	}
	if _, err := f.st.pool.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := f.st.pool.Exec(ctx, "DROP TRIGGER fail_rec ON "+map[string]string{"append": "entries", "update": "sms_sends"}[what]+"; DROP FUNCTION fail_rec()"); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) relayEntries(t *testing.T, ref string) []auditlog.Entry {
	t.Helper()
	// Straight from the table: a search folds the relay's record into
	// the device's own SMS row.
	all, err := f.st.bodies(context.Background(), "SELECT body FROM entries WHERE body IS NOT NULL AND device = $1 ORDER BY seq", ServerDevice)
	if err != nil {
		t.Fatal(err)
	}
	var out []auditlog.Entry
	for _, e := range all {
		if e.Action == auditlog.ActionSMS && e.Delivery != nil && e.Delivery.Ref == ref {
			out = append(out, e)
		}
	}
	return out
}

// Once the provider accepted a text the server never answers 500, and
// the record it could not write is completed by the retry with the same
// key, which sends nothing.
func TestRelayRecordsEveryAcceptedText(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	req := api.SMSRequest{Key: "seal-1/ab2cd3", To: "070-174 06 50", Password: testPassword, Ref: "ab2cd3", Refers: "seal-1", Case: "KS 2026/7"}
	undo := f.failRecording(t, "append")
	code, b := f.do(t, "POST", "/api/v1/sms", "pc1", req)
	var rc api.SMSResponse
	json.Unmarshal(b, &rc)
	if code != 200 || rc.ID == "" || !rc.Unrecorded {
		t.Fatalf("the central log failed after the provider accepted: %d %s, want 200 with the receipt, unrecorded", code, b)
	}
	if n := len(f.relayEntries(t, "ab2cd3")); n != 0 {
		t.Fatalf("%d relay entries while the log refused them", n)
	}
	// Still failing: the retry sends nothing and still answers the receipt.
	code, b = f.do(t, "POST", "/api/v1/sms", "pc1", req)
	if code != 200 || !bytes.Contains(b, []byte(rc.ID)) {
		t.Fatalf("retry while the log fails: %d %s", code, b)
	}
	undo()
	code, b = f.do(t, "POST", "/api/v1/sms", "pc1", req)
	var rc2 api.SMSResponse
	json.Unmarshal(b, &rc2)
	if code != 200 || rc2.ID != rc.ID || rc2.Unrecorded {
		t.Fatalf("retry: %d %s, want the same receipt, recorded", code, b)
	}
	es := f.relayEntries(t, "ab2cd3")
	if len(es) != 1 || es[0].Delivery.MessageID != rc.ID || es[0].Delivery.Status == auditlog.StatusFailed || es[0].Refers != "seal-1" || es[0].Delivery.To == "+46701740650" {
		t.Fatalf("the completed record: %+v", es)
	}
	// Again: nothing more is added or sent.
	f.do(t, "POST", "/api/v1/sms", "pc1", req)
	if n := len(f.relayEntries(t, "ab2cd3")); n != 1 {
		t.Fatalf("relay entries after another retry: %d", n)
	}
	if n := len(f.tw.Messages()); n != 1 {
		t.Fatalf("texts: %d, want 1", n)
	}

	// The database refuses even the sms_sends update: still no 500; the
	// key is spent (the outcome is not on record), and once the provider
	// call is surely over the retry records that the text may have gone
	// out.
	undo = f.failRecording(t, "update")
	req2 := api.SMSRequest{Key: "seal-2/zz9zz9", To: "070-174 06 51", Password: testPassword, Ref: "zz9zz9"}
	code, b = f.do(t, "POST", "/api/v1/sms", "pc1", req2)
	if code != 200 || !bytes.Contains(b, []byte(`"unrecorded":true`)) {
		t.Fatalf("sms_sends update failed: %d %s", code, b)
	}
	undo()
	if code, b := f.do(t, "POST", "/api/v1/sms", "pc1", req2); code != 409 {
		t.Fatalf("retry right after: %d %s, want 409 already sent", code, b)
	}
	if n := len(f.relayEntries(t, "zz9zz9")); n != 0 {
		t.Fatalf("recorded while the first request might still be with the provider: %d", n)
	}
	later := time.Now().Add(staleSending + time.Minute)
	f.st.now = func() time.Time { return later }
	if code, b := f.do(t, "POST", "/api/v1/sms", "pc1", req2); code != 409 {
		t.Fatalf("retry later: %d %s, want 409 already sent", code, b)
	}
	es = f.relayEntries(t, "zz9zz9")
	if len(es) != 1 || !strings.Contains(es[0].Delivery.Error, "may have gone out") {
		t.Fatalf("the record of a text whose answer was lost: %+v", es)
	}
	if n := len(f.tw.Messages()); n != 2 {
		t.Fatalf("texts: %d, want 2", n)
	}
	if strings.Contains(f.logBuf.String(), testPassword) || strings.Contains(f.logBuf.String(), "+46701740650") {
		t.Fatal("the server's log holds the password or the number")
	}
}

// Two `kuvert server run` processes on one database relay as one: each
// writes the organisation's text, refuses prose, and a key spent on one
// is spent on the other.
func TestRelayTwoProcesses(t *testing.T) {
	tw := twiliotest.NewServer()
	defer tw.Close()
	env := append(serverEnv(t), "KUVERT_SMS_PROVIDER=twilio", "TWILIO_ACCOUNT_SID="+twiliotest.AccountSID, "TWILIO_AUTH_TOKEN="+twiliotest.AuthToken,
		"KUVERT_SMS_FROM="+twiliotest.From, "KUVERT_TWILIO_API_URL="+tw.URL, "KUVERT_ORGANISATION=Sundsvalls kommun")
	if _, errOut, code := kuvertCmd(t, env, "server", "key"); code != 0 {
		t.Fatalf("server key: %s", errOut)
	}
	out, errOut, code := kuvertCmd(t, env, "server", "token", "add", "pc1", "--role", "device")
	if code != 0 {
		t.Fatalf("token add: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := lines[len(lines)-1]
	p1, p2 := serverproc.Start(t, env), serverproc.Start(t, env)
	post := func(base, body string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/api/v1/sms", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, b := post(p1.URL, `{"key":"x","to":"+46701740650","body":"BankID: https://bank-id.example"}`); code != 400 {
		t.Fatalf("prose on server 1: %d %s", code, b)
	}
	if code, b := post(p2.URL, `{"key":"n","to":"+4741234567","password":"`+testPassword+`","ref":"ab2cd3"}`); code != 400 {
		t.Fatalf("a Norwegian number on server 2: %d %s", code, b)
	}
	good := `{"key":"seal-1/ab2cd3","to":"070-174 06 50","password":"` + testPassword + `","ref":"ab2cd3","case":"KS 2026/7"}`
	code1, b1 := post(p1.URL, good)
	code2, b2 := post(p2.URL, good)
	var r1, r2 api.SMSResponse
	json.Unmarshal([]byte(b1), &r1)
	json.Unmarshal([]byte(b2), &r2)
	if code1 != 200 || code2 != 200 || r1.ID == "" || r1.ID != r2.ID {
		t.Fatalf("one key through two servers: %d %s / %d %s", code1, b1, code2, b2)
	}
	want, _ := (&sms.Policy{Organisation: "Sundsvalls kommun"}).Text("ab2cd3", testPassword)
	if ms := tw.Messages(); len(ms) != 1 || ms[0].Body != want {
		t.Fatalf("texts: %d, want 1 with the organisation's words %q", len(ms), want)
	}
	for _, p := range []*serverproc.Proc{p1, p2} {
		if strings.Contains(p.Output(), testPassword) {
			t.Fatal("a server's log holds the password")
		}
	}
}
