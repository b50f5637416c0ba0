package sms_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// TestConformance: every provider sends one message, returns a provider
// name, an id and a status, and can report that status later.
func TestConformance(t *testing.T) {
	fake := twiliotest.NewServer()
	defer fake.Close()
	tw, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	var console bytes.Buffer
	outbox := filepath.Join(t.TempDir(), "outbox.jsonl")
	for _, s := range []sms.Sender{&sms.Console{W: &console}, &sms.Outbox{Path: outbox}, tw} {
		t.Run(s.Name(), func(t *testing.T) {
			m := sms.Message{To: "+46701234567", Body: "Lösenord till krypterad bilaga från Kommunen, ref abc234: k7pq-x3mh-b9rt-w4nd-c8fz"}
			r, err := s.Send(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if r.Provider != s.Name() || r.ID == "" || r.Status == "" || r.Status.Failed() {
				t.Fatalf("receipt %+v", r)
			}
			st, err := s.Status(context.Background(), r.ID)
			if err != nil || st.ID != r.ID || st.Provider != s.Name() {
				t.Fatalf("status %+v %v", st, err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := s.Send(ctx, m); err == nil {
				t.Fatal("sent with a cancelled context")
			}
		})
	}
	if !strings.Contains(console.String(), "inget sms skickades") || !strings.Contains(console.String(), "+46 70-*** ** 67") || strings.Contains(console.String(), "+46701234567") {
		t.Fatalf("console output:\n%s", console.String())
	}
	recs, _ := sms.ReadOutbox(outbox)
	if len(recs) != 1 || recs[0].To != "+46701234567" {
		t.Fatalf("outbox %+v", recs)
	}
	if len(fake.Messages()) != 1 {
		t.Fatalf("fake got %d", len(fake.Messages()))
	}
}

func TestParseMobile(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"070-123 45 67", "+46701234567", ""},
		{"0701234567", "+46701234567", ""},
		{"0046701234567", "+46701234567", ""},
		{"+46 70 123 45 67", "+46701234567", ""},
		{"+46 (0)70-123 45 67", "+46701234567", ""},
		{"073-987 65 43", "+46739876543", ""},
		{"+47 412 34 567", "+4741234567", ""},    // Norwegian mobile
		{"+358 40 1234567", "+358401234567", ""}, // Finnish mobile
		{"08-123 456 78", "", "landline"},
		{"031-123 45 67", "", "landline"},
		{"020-123 456", "", "toll-free"},
		{"0900-123 45 67", "", "premium-rate"},
		{"070-123", "", "not a valid"},
		{"hej", "", "not a phone number"},
		{"", "", "no mobile number"},
	} {
		got, err := sms.ParseMobile(c.in)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: err %v, want %q", c.in, err, c.err)
		}
	}
}

func TestMaskNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+46701234567":  "+46 70-*** ** 67",
		"+4741234567":   "+47 4*****67",
		"+358401234567": "+358 4******67",
	} {
		if got := sms.MaskNumber(in); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestTemplates(t *testing.T) {
	longest := strings.Repeat("Å", sms.MaxOrganisation)
	for lang, tmpl := range sms.Templates {
		n, err := sms.CheckTemplate(tmpl, longest, sms.GeneratedLength)
		if err != nil || n > 160 {
			t.Errorf("%s: %d %v", lang, n, err)
		}
		// Says who, what to expect, never to reply with it; no link, no
		// "kuvert", the password last, and a reference batch can find.
		body, _ := sms.Render(tmpl, map[string]string{"org": "Sundsvalls kommun", "sender": "x", "ref": "k7pq2x", "password": "h4mt8-2bqx9-rk3nd-w7vfc"})
		if !strings.Contains(body, "Sundsvalls kommun") || !strings.HasSuffix(body, ": h4mt8-2bqx9-rk3nd-w7vfc") || !sms.HasRef(body, "k7pq2x") ||
			strings.Contains(strings.ToLower(body), "kuvert") || strings.Contains(body, "http") || strings.Contains(body, "!") {
			t.Errorf("%s: %q", lang, body)
		}
		if !strings.Contains(body, map[string]string{"sv": "e-post", "en": "e-mail"}[lang]) || !strings.Contains(body, map[string]string{"sv": "Svara aldrig med lösenordet", "en": "Never reply with the password"}[lang]) {
			t.Errorf("%s: %q does not say what to expect and never to reply", lang, body)
		}
	}
	for lang, tmpl := range sms.TestTemplate {
		body, err := sms.Render(tmpl, map[string]string{"org": "Sundsvalls kommun"})
		if err != nil || !strings.Contains(body, "Sundsvalls kommun") || strings.Contains(body, "kuvert") {
			t.Errorf("test text %s: %q %v", lang, body, err)
		}
	}
	for _, c := range []struct{ tmpl, err string }{
		{"Lösenord: {password} ’", "GSM-7"},
		{"Lösenord {password} 😀", "GSM-7"},
		{"Lösenord {pasword}", "no {password}"},
		{"Lösenord {password} {datum}", "unknown placeholder {datum}"},
		{strings.Repeat("lång text ", 14) + "{password}", "one SMS holds 160"},
	} {
		if _, err := sms.CheckTemplate(c.tmpl, "X", 23); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%q: %v, want %q", c.tmpl, err, c.err)
		}
	}
	// Extension characters cost two septets.
	if n, _ := sms.Septets("€[]"); n != 6 {
		t.Errorf("septets %d", n)
	}
	if n, _ := sms.Septets("åäöÅÄÖ"); n != 6 {
		t.Errorf("septets %d", n)
	}
	if sms.Segments(160) != 1 || sms.Segments(161) != 2 || sms.Segments(306) != 2 || sms.Segments(307) != 3 {
		t.Error("segments")
	}
}

func newTwilio(t *testing.T, fake *twiliotest.Server, mod func(*twilio.Config)) *twilio.Sender {
	cfg := twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From,
		BaseURL: fake.URL, Timeout: 300 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond }}
	if mod != nil {
		mod(&cfg)
	}
	s, err := twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var msg = sms.Message{To: "+46701234567", Body: "Lösenord till krypterad bilaga från Kommunen, ref abc234: k7pq-x3mh-b9rt-w4nd-c8fz"}

func TestTwilioRetriesAndNoDuplicates(t *testing.T) {
	for _, c := range []struct {
		name      string
		script    []twiliotest.Behaviour
		wantPosts int
		wantErr   string
	}{
		{"ok", nil, 1, ""},
		{"429 then ok", []twiliotest.Behaviour{{Status: 429, Code: 20429}}, 2, ""},
		{"502 html then ok", []twiliotest.Behaviour{{Status: 502, HTML: true}}, 2, ""},
		{"503 json then ok", []twiliotest.Behaviour{{Status: 503, Code: 20500}}, 2, ""},
		{"hang then ok", []twiliotest.Behaviour{{Hang: 2 * time.Second}}, 2, ""},
		{"accepted then hang", []twiliotest.Behaviour{{AcceptThenHang: true, Hang: 2 * time.Second}}, 1, ""},
		{"always 429", []twiliotest.Behaviour{{Status: 429, Code: 20429}, {Status: 429, Code: 20429}, {Status: 429, Code: 20429}, {Status: 429, Code: 20429}}, 4, "limiting the rate"},
		{"unverified", []twiliotest.Behaviour{{Status: 400, Code: 21608}}, 1, "not verified"},
		{"unroutable", []twiliotest.Behaviour{{Status: 400, Code: 21612}}, 1, "cannot send from this sender"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := twiliotest.NewServer()
			defer fake.Close()
			fake.Script(c.script...)
			r, err := newTwilio(t, fake, nil).Send(context.Background(), msg)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.Is(err, sms.ErrNotDelivered) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if fake.Posts() != c.wantPosts {
				t.Fatalf("%d POSTs, want %d", fake.Posts(), c.wantPosts)
			}
			if c.wantErr == "" {
				ms := fake.Messages()
				if len(ms) != 1 || ms[0].SID != r.ID || ms[0].Body != msg.Body || ms[0].To != msg.To || ms[0].From != twiliotest.From {
					t.Fatalf("messages %+v, receipt %+v", ms, r)
				}
			}
		})
	}
}

func TestTwilioErrorsInPlainWords(t *testing.T) {
	fake := twiliotest.NewServer()
	defer fake.Close()
	s := newTwilio(t, fake, func(c *twilio.Config) { c.AuthToken = "ffffffffffffffffffffffffffffffff" })
	_, err := s.Send(context.Background(), msg)
	var pe *sms.ProviderError
	if !errors.As(err, &pe) || pe.Code != 20003 || !strings.Contains(err.Error(), "auth token") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "ffffffff") || strings.Contains(err.Error(), "k7pq") {
		t.Fatal("token or password in the error")
	}
	if fake.Posts() != 0 {
		t.Fatal("an unauthenticated POST was counted as a message")
	}
	fake.RefuseNumber("+46701234567", 21211)
	_, err = newTwilio(t, fake, nil).Send(context.Background(), msg)
	if !errors.As(err, &pe) || pe.Code != 21211 || strings.Contains(err.Error(), "+46701234567") {
		t.Fatalf("err = %v", err)
	}
}

func TestTwilioMessagingServiceAndStatus(t *testing.T) {
	fake := twiliotest.NewServer()
	defer fake.Close()
	fake.FinalStatus(msg.To, "undelivered")
	s := newTwilio(t, fake, func(c *twilio.Config) { c.From = ""; c.MessagingServiceSID = twiliotest.ServiceSID })
	r, err := s.Send(context.Background(), msg)
	if err != nil || r.Status != sms.StatusAccepted {
		t.Fatalf("%+v %v", r, err)
	}
	if fake.Messages()[0].MessagingServiceSID != twiliotest.ServiceSID {
		t.Fatal("service sid not sent")
	}
	var st sms.Receipt
	for i := 0; i < 3; i++ {
		st, _ = s.Status(context.Background(), r.ID)
	}
	if st.Status != sms.StatusUndelivered || !st.Status.Failed() || st.ErrorCode != 30003 {
		t.Fatalf("%+v", st)
	}
}

func TestTwilioConfig(t *testing.T) {
	if _, err := twilio.New(twilio.Config{AccountSID: "AC1"}); err == nil {
		t.Fatal("missing token accepted")
	}
	if _, err := twilio.New(twilio.Config{AccountSID: "AC1", AuthToken: "x"}); err == nil || !strings.Contains(err.Error(), "sender") {
		t.Fatalf("missing sender: %v", err)
	}
	if _, err := twilio.New(twilio.Config{AccountSID: "AC1", AuthToken: "x", From: "kuvert", BaseURL: "not a url"}); err == nil {
		t.Fatal("bad base url accepted")
	}
}
