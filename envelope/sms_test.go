package envelope

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// The SMS policy's length is the generator's: if crypt.Generate changes
// shape, every template check must change with it.
func TestGeneratedLengthIsTheGenerators(t *testing.T) {
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pw.Value) != sms.GeneratedLength || strings.Count(pw.Value, "-") != 3 {
		t.Fatalf("generated %d characters (%d groups), sms.GeneratedLength is %d", len(pw.Value), strings.Count(pw.Value, "-")+1, sms.GeneratedLength)
	}
}

// A bad number keeps its type through envelope, so a shell can explain
// it in its own words (%v lost it).
func TestNumberErrorKeepsItsType(t *testing.T) {
	l, so, _ := setup(t)
	_, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: pol(&failingSender{}), To: "08-123 456 78"}})
	var ne *sms.NumberError
	if !errors.As(err, &ne) || ne.Problem != sms.NumberNotMobile || !errors.Is(err, crypt.ErrInput) {
		t.Fatalf("err = %#v: want crypt.ErrInput wrapping *sms.NumberError", err)
	}
	_, err = SendPassword(context.Background(), l, pol(&failingSender{}), PasswordSMS{To: "hej", Password: so.Password.Value})
	if !errors.As(err, &ne) || ne.Problem != sms.NumberUnreadable {
		t.Fatalf("SendPassword: err = %v", err)
	}
}

// trickyPasswords are made of every GSM-7 character (in runs that fit one
// SMS) and of text that looks like the template's placeholders.
func trickyPasswords() []string {
	pws := []string{"{ref}", "{password}", "{sender}", "{org}", "{x}", "{", "}", "}{", "{ref}{password}{", "ab{ref}cd-{org}}", "{{password}}", "$1 \\1 %s %v"}
	all := []rune(sms.GSM7)
	for i := 0; i < len(all); i += 14 {
		pws = append(pws, string(all[i:min(i+14, len(all))]))
	}
	return pws
}

type received func(t *testing.T, to string) string

// TestPasswordArrivesExactly sends each tricky password through every
// provider and checks the text that arrives holds exactly that password
// after "ref REF: " (11 of 15 texts were empty and 4
// carried the reference inside the password).
func TestPasswordArrivesExactly(t *testing.T) {
	fake := twiliotest.NewServer()
	defer fake.Close()
	tw, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	var console bytes.Buffer
	box := filepath.Join(t.TempDir(), "outbox.jsonl")
	for _, c := range []struct {
		s    sms.Sender
		last received
	}{
		{&sms.Console{W: &console}, func(t *testing.T, to string) string {
			// The console's box prints the body on the line after "to:".
			out := console.String()
			i := strings.LastIndex(out, "│ till / to: ")
			line := out[i:]
			line = line[strings.Index(line, "\n│ ")+len("\n│ "):]
			return line[:strings.Index(line, "\n└─")]
		}},
		{&sms.Outbox{Path: box}, func(t *testing.T, to string) string {
			recs, err := sms.ReadOutbox(box)
			if err != nil || len(recs) == 0 {
				t.Fatalf("outbox: %v", err)
			}
			return recs[len(recs)-1].Body
		}},
		{tw, func(t *testing.T, to string) string {
			m, ok := fake.LastTo(to)
			if !ok {
				t.Fatal("nothing reached the fake Twilio")
			}
			return m.Body
		}},
	} {
		t.Run(c.s.Name(), func(t *testing.T) {
			l, _, _ := setup(t)
			for _, pw := range trickyPasswords() {
				d, err := SendPassword(context.Background(), l, pol(c.s), PasswordSMS{To: "0701234567", Password: pw})
				if err != nil {
					t.Fatalf("password %q: %v", pw, err)
				}
				body := c.last(t, "+46701234567")
				want := "Lösenord till krypterad bilaga i e-post från Sundsvalls kommun. Svara aldrig med lösenordet. Ref " + d.Ref + ": " + pw
				if body != want {
					t.Fatalf("password %q arrived as\n%q\nwant\n%q", pw, body, want)
				}
				if n, err := sms.Septets(body); err != nil || n > sms.SingleSegment {
					t.Fatalf("password %q: %d septets, %v", pw, n, err)
				}
			}
			es, _ := l.Entries()
			if len(es) != len(trickyPasswords()) {
				t.Fatalf("%d log entries for %d texts", len(es), len(trickyPasswords()))
			}
			for _, e := range es {
				if e.Action != auditlog.ActionSMS || e.Delivery == nil || e.Delivery.Status == "failed" || e.Delivery.Error != "" {
					t.Fatalf("entry %+v", e)
				}
			}
		})
	}
}

// Sealing with a password that looks like a template: the archive opens
// with exactly the text after "ref REF: ".
func TestSealTemplateLookingPassword(t *testing.T) {
	l, so, dir := setup(t)
	box := filepath.Join(dir, "outbox.jsonl")
	so.Password = crypt.Password{Value: "{ref}-Kastanj-{password}-Molnbank-4417}", Origin: "user", Bits: 70}
	res, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: pol(&sms.Outbox{Path: box}), To: "0701234567"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := sms.ReadOutbox(box)
	body := recs[0].Body
	got := body[strings.Index(body, "Ref "+res.Delivery.Ref+": ")+len("Ref "+res.Delivery.Ref+": "):]
	if got != so.Password.Value {
		t.Fatalf("the SMS carries %q", got)
	}
	if _, err := crypt.Verify(context.Background(), res.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: got}}); err != nil {
		t.Fatal(err)
	}
}

// A text that cannot be rendered or sent stops before sealing: no
// archive, no log entry, no SMS, and the password is not in the error.
func TestUnsendableTextSealsNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		pol  func(s sms.Sender) *sms.Policy
		pw   string
		want string
	}{
		{"unknown placeholder", func(s sms.Sender) *sms.Policy {
			return &sms.Policy{Sender: s, Organisation: "Lön", Template: "Lösenord {pasword} ref {ref}: {password}"}
		}, "Kastanj-Fyrverkeri-Molnbank-4417", "unknown placeholder {pasword}"},
		{"not GSM-7", pol, "Kastanj’Fyrverkeri’Molnbank’4417", "GSM-7"},
		{"too long", pol, strings.Repeat("Kastanj-Fyrverkeri-", 5), "one SMS holds 160"},
		{"no organisation", func(s sms.Sender) *sms.Policy { return &sms.Policy{Sender: s} }, "Kastanj-Fyrverkeri-Molnbank-4417", "no organisation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, so, _ := setup(t)
			so.Format = crypt.FormatAge
			so.Output = strings.TrimSuffix(so.Output, ".zip") + ".age"
			so.Password = crypt.Password{Value: c.pw, Origin: "user", Bits: 80}
			f := &failingSender{}
			_, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: c.pol(f), To: "0701234567"}})
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, crypt.ErrInput) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "Fyrverkeri") {
				t.Fatal("the password is in the error")
			}
			if _, err := os.Stat(so.Output); !os.IsNotExist(err) {
				t.Fatal("sealed although the SMS could not be sent")
			}
			if es, _ := l.Entries(); len(es) != 0 || f.sent != 0 {
				t.Fatalf("logged %d, sent %d", len(es), f.sent)
			}
		})
	}
}

// The demo names itself: a delivery through the console is marked, and a
// missing organisation shows the marked placeholder, never "kuvert".
func TestDemoDelivery(t *testing.T) {
	l, so, _ := setup(t)
	var out bytes.Buffer
	res, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: &sms.Policy{Sender: &sms.Console{W: &out}}, To: "0701234567"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivery.Demo || res.Delivery.Status != sms.StatusDemo {
		t.Fatalf("delivery %+v", res.Delivery)
	}
	if !strings.Contains(out.String(), "från "+sms.DemoOrganisation+".") || strings.Contains(out.String(), "kuvert") {
		t.Fatalf("console:\n%s", out.String())
	}
}

// SendPassword records a failure as a failed delivery and returns an
// error matching ErrSMS and the provider's error.
func TestSendPasswordFailureIsLogged(t *testing.T) {
	l, so, _ := setup(t)
	_, err := SendPassword(context.Background(), l, pol(&failingSender{}), PasswordSMS{To: "0701234567", Password: so.Password.Value, Case: "KS 1"})
	if !errors.Is(err, ErrSMS) || !errors.As(err, new(*sms.ProviderError)) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), so.Password.Value) {
		t.Fatal("password in the error")
	}
	es, _ := l.Entries()
	if len(es) != 1 || es[0].Action != auditlog.ActionSMS || es[0].Delivery.Status != "failed" || es[0].Case != "KS 1" {
		t.Fatalf("%+v", es)
	}
}

// Every draft problem is found before sealing.
func TestDraftCheckedBeforeSealing(t *testing.T) {
	for _, c := range []struct {
		name  string
		draft Draft
		pre   func(archive string)
		want  string
	}{
		{"not an address", Draft{To: "not an address"}, nil, "not an e-mail address"},
		{"draft exists", Draft{To: "anna@example.se"}, func(a string) { os.WriteFile(DraftPath(a), []byte("mitt utkast"), 0o600) }, "already exists"},
		{"draft is a folder", Draft{To: "anna@example.se", Force: true}, func(a string) { os.Mkdir(DraftPath(a), 0o700) }, "folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, so, dir := setup(t)
			if c.pre != nil {
				c.pre(so.Output)
			}
			box := filepath.Join(dir, "outbox.jsonl")
			d := c.draft
			_, err := Seal(context.Background(), l, Request{Seal: so, Draft: &d, SMS: &SMS{Policy: pol(&sms.Outbox{Path: box}), To: "0701234567"}})
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, crypt.ErrInput) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if _, err := os.Stat(so.Output); !os.IsNotExist(err) {
				t.Fatal("sealed despite a bad draft")
			}
			if es, _ := l.Entries(); len(es) != 0 {
				t.Fatalf("logged %v", es)
			}
			if _, err := os.Stat(box); !os.IsNotExist(err) {
				t.Fatal("an SMS was sent")
			}
			if c.name == "draft exists" {
				if b, _ := os.ReadFile(DraftPath(so.Output)); string(b) != "mitt utkast" {
					t.Fatal("the existing draft was touched")
				}
			}
		})
	}
}

// A draft that fails after sealing (here: a file appears at its path
// while sealing): with a generated password that reached nobody the
// archive is removed and seal-failed is recorded; with the user's own
// password the archive stays.
func TestDraftFailureAfterSealing(t *testing.T) {
	for _, origin := range []string{"generated", "user"} {
		t.Run(origin, func(t *testing.T) {
			l, so, _ := setup(t)
			so.Password.Origin = origin
			so.Progress = func(int64) { os.WriteFile(DraftPath(so.Output), []byte("x"), 0o600) }
			res, err := Seal(context.Background(), l, Request{Seal: so, Draft: &Draft{To: "anna@example.se"}})
			// The words ("the e-mail draft could not be written", "the
			// archive was removed"): internal/catalog.
			want := map[string]fault.Code{"generated": CodeDraftFailedRemoved, "user": CodeDraftFailedKept}[origin]
			if f, ok := fault.As(err); !ok || res != nil || f.Code != want {
				t.Fatalf("err = %v", err)
			}
			_, statErr := os.Stat(so.Output)
			es, _ := l.Entries()
			if origin == "generated" {
				if !os.IsNotExist(statErr) {
					t.Fatalf("archive left: %v, %v", statErr, err)
				}
				if len(es) != 2 || es[1].Action != auditlog.ActionSealFailed || es[1].Refers != es[0].ID {
					t.Fatalf("log %+v", es)
				}
				return
			}
			if statErr != nil || !strings.Contains(err.Error(), "kept") || len(es) != 1 {
				t.Fatalf("own password: archive %v, err %v, %d entries", statErr, err, len(es))
			}
		})
	}
}

// The draft goes beside the archive, with the SMS reference and the
// policy's language.
func TestSealWritesDraft(t *testing.T) {
	l, so, dir := setup(t)
	p := pol(&sms.Outbox{Path: filepath.Join(dir, "outbox.jsonl")})
	p.Lang = "en"
	res, err := Seal(context.Background(), l, Request{Seal: so, Draft: &Draft{To: "anna@example.se"}, SMS: &SMS{Policy: p, To: "0701234567"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(res.Draft)
	if err != nil || res.Draft != DraftPath(res.Archive) {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Subject: Encrypted attachment (ref "+res.Delivery.Ref+")") || strings.Contains(string(b), so.Password.Value) {
		t.Fatalf("draft:\n%s", b)
	}
}
