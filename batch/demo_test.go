package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
	"github.com/kuvert-app/kuvert/sms"
)

// With the demo (console) provider nothing is reported as sent: not in
// the rows, the summary or report.csv, and not when the run is repeated.
func TestDemoIsNotSent(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 3, "file;phone;name;case", ";")
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	var console bytes.Buffer
	out := filepath.Join(e.dir, "ut")
	for attempt := 1; attempt <= 2; attempt++ {
		sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: &sms.Console{W: &console}, Log: e.log, Jobs: 2})
		// A demo run delivered nothing: never success (exit 8).
		if !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "DEMO") || sum.Delivered() {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		for _, r := range sum.Rows {
			if r.Result != ResultDemo || r.SMSStatus != string(sms.StatusDemo) {
				t.Fatalf("attempt %d, row %d: result %q, sms %q", attempt, r.Row, r.Result, r.SMSStatus)
			}
		}
		if sum.Demo != 3 || sum.Done != 0 || sum.AlreadyDone != 0 || sum.Skipped != 0 {
			t.Fatalf("attempt %d: %+v", attempt, sum)
		}
		report, _ := os.ReadFile(filepath.Join(out, "report.csv"))
		if bytes.Contains(report, []byte(";sent;")) || bytes.Contains(report, []byte(";"+ResultDone+";")) || bytes.Count(report, []byte(";"+ResultDemo+";")) != 3 {
			t.Fatalf("attempt %d: report:\n%s", attempt, report)
		}
	}
	if n := strings.Count(console.String(), "DEMO: inget sms skickades"); n != 3 {
		t.Fatalf("%d demo messages shown, want 3 (none again on the second run)", n)
	}
}

// The clerk tries a batch with the demo provider (the texts only shown),
// then sets up a real provider and runs the same manifest again: nobody
// has a password yet, so every texted row is sealed again with a new
// password, the old archive replaced and the log saying why, and texted
// exactly once; a row with an age recipient was handed over without an
// SMS and is done. A third run sends nothing.
func TestDemoThenRealProvider(t *testing.T) {
	for _, tc := range []struct {
		name           string
		demoMail, mail string
	}{
		{"no mail", MailNone, MailNone},
		{"drafts", MailDraft, MailDraft},
		{"drafts, then sent", MailDraft, MailSend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			id, _ := age.GenerateX25519Identity()
			var b strings.Builder
			b.WriteString("fil;mobil;namn;diarienummer;epost;mottagare\n")
			for i := 1; i <= 3; i++ {
				name := fmt.Sprintf("lönespec_%03d.pdf", i)
				os.WriteFile(filepath.Join(e.dir, name), bytes.Repeat([]byte{byte(i)}, 2000+i), 0o644)
				rcpt := ""
				if i == 3 {
					rcpt = id.Recipient().String()
				}
				fmt.Fprintf(&b, "%s;0%s;Anställd %d;KS 2026/%d;%s;%s\n", name, number(i)[3:], i, i, email(i), rcpt)
			}
			p := filepath.Join(e.dir, "lönekörning.csv")
			os.WriteFile(p, []byte(b.String()), 0o644)
			m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
			if err != nil || len(m.Problems) > 0 {
				t.Fatalf("%v %v", err, m.Problems)
			}
			out := filepath.Join(e.dir, "ut")
			var console bytes.Buffer
			sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: &sms.Console{W: &console}, Log: e.log, Jobs: 2, Mail: tc.demoMail})
			if !errors.Is(err, ErrPartial) || sum.Demo != 2 || sum.Done != 1 {
				t.Fatalf("demo run: %v %+v", err, sum)
			}
			demoSHA := map[int]string{}
			for _, r := range sum.Rows {
				demoSHA[r.Row] = r.SHA256
			}

			var relay *relaytest.Server
			o := Options{OutDir: out, Sender: e.tw, Log: e.log, From: "Lön", Jobs: 2, Mail: tc.mail}
			if tc.mail == MailSend {
				var r Mailer
				relay, r = startRelay(t)
				o.Mailer, o.MailFrom = r, "lon@kommun.example"
			}
			sum, err = Run(context.Background(), m, o)
			if err != nil || !sum.Delivered() || sum.Done != 2 || sum.AlreadyDone != 1 || sum.Demo != 0 {
				t.Fatalf("real run: %v %+v", err, sum)
			}
			if n := len(e.fake.Messages()); n != 2 {
				t.Fatalf("real run: %d SMS, want 2", n)
			}
			for _, row := range sum.Rows {
				if row.Row == 4 {
					if row.Result != ResultDone || row.SHA256 != demoSHA[4] {
						t.Fatalf("age row: %+v", row)
					}
					continue
				}
				if row.Result != ResultSent || row.SHA256 == demoSHA[row.Row] {
					t.Fatalf("row %d: %+v", row.Row, row)
				}
				msg, ok := e.fake.LastTo(number(row.Row - 1))
				if !ok {
					t.Fatalf("row %d: no SMS", row.Row)
				}
				pw := msg.Body[strings.LastIndex(msg.Body, ": ")+2:]
				if _, err := crypt.Verify(context.Background(), row.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}); err != nil {
					t.Fatalf("row %d: the archive does not open with the SMS's password: %v", row.Row, err)
				}
				archive, _ := os.ReadFile(row.Archive)
				switch tc.mail {
				case MailDraft:
					raw, err := os.ReadFile(filepath.Join(out, DraftDir, filepath.Base(row.Archive)+".eml"))
					if err != nil {
						t.Fatal(err)
					}
					_, text, _, att := mailParts(t, raw)
					if !bytes.Equal(att, archive) || !strings.Contains(text, row.Ref) {
						t.Fatalf("row %d: the draft is not the new archive's", row.Row)
					}
				case MailSend:
					var got [][]byte
					for _, msg := range relay.Messages() {
						if msg.To[0] == email(row.Row-1) {
							got = append(got, msg.Data)
						}
					}
					if len(got) != 1 {
						t.Fatalf("row %d: %d mails", row.Row, len(got))
					}
					if _, _, _, att := mailParts(t, got[0]); !bytes.Equal(att, archive) {
						t.Fatalf("row %d: the mail is not the new archive's", row.Row)
					}
				}
			}
			report, _ := os.ReadFile(filepath.Join(out, "report.csv"))
			if bytes.Count(report, []byte(";"+ResultSent+";;")) != 2 || bytes.Contains(report, []byte(";"+ResultDemo+";")) {
				t.Fatalf("report:\n%s", report)
			}
			if _, err := e.log.Verify(""); err != nil {
				t.Fatal(err)
			}
			// The log says why each demo sealing was replaced.
			es, _ := e.log.Entries()
			removed := map[int]int{}
			for _, en := range es {
				if en.Action == auditlog.ActionSealFailed && strings.Contains(en.Details, "demo") {
					removed[en.Row]++
				}
			}
			if removed[2] != 1 || removed[3] != 1 || removed[4] != 0 {
				t.Fatalf("demo sealings replaced on record: %v", removed)
			}
			if n := strings.Count(console.String(), "DEMO: inget sms skickades"); n != 2 {
				t.Fatalf("%d demo messages", n)
			}

			// A third run: nothing twice.
			sum, err = Run(context.Background(), m, o)
			if err != nil || sum.AlreadyDone != 3 || len(e.fake.Messages()) != 2 {
				t.Fatalf("third run: %v %+v, %d SMS", err, sum, len(e.fake.Messages()))
			}
			if relay != nil && len(relay.Messages()) != 2 {
				t.Fatalf("third run: %d mails", len(relay.Messages()))
			}
		})
	}
}

// A demo sealing whose archive was changed since (someone opened it in
// place, say): the run with a real provider replaces nothing it did not
// write and texts no password for it; the other rows are sealed anew.
func TestDemoThenRealProviderArchiveChanged(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(writeManifest(t, e.dir, 2, "file;phone;name;case", ";"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	sum, _ := Run(context.Background(), m, Options{OutDir: out, Sender: &sms.Console{W: &bytes.Buffer{}}, Log: e.log, Jobs: 1})
	if sum == nil || sum.Demo != 2 {
		t.Fatalf("demo run: %+v", sum)
	}
	changed := sum.Rows[0].Archive
	if err := os.WriteFile(changed, []byte("not the archive kuvert sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: e.tw, Log: e.log, From: "Lön", Jobs: 1})
	if !errors.Is(err, ErrPartial) || sum.Failed != 1 || sum.Done != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
	if got := sum.Rows[0].Err; !isFault(got, CodeShownChanged) {
		t.Fatalf("row 2: %v", got)
	}
	if b, _ := os.ReadFile(changed); string(b) != "not the archive kuvert sealed" {
		t.Fatal("the changed archive was replaced")
	}
	if _, ok := e.fake.LastTo(number(1)); ok || len(e.fake.Messages()) != 1 {
		t.Fatalf("%d SMS; row 2 texted: %v", len(e.fake.Messages()), ok)
	}
	if _, err := e.log.Verify(""); err != nil {
		t.Fatal(err)
	}
}

// After a demo run, --no-sms --password-out hands the passwords over by
// the file: the demo rows are sealed again, each with the password that
// the file holds for it.
func TestDemoThenPasswordFile(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(writeManifest(t, e.dir, 2, "file;phone;name;case", ";"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	if sum, _ := Run(context.Background(), m, Options{OutDir: out, Sender: &sms.Console{W: &bytes.Buffer{}}, Log: e.log, Jobs: 1}); sum == nil || sum.Demo != 2 {
		t.Fatalf("demo run: %+v", sum)
	}
	pwPath := filepath.Join(e.dir, "lösenord.csv")
	o := Options{OutDir: out, NoSMS: true, PasswordOut: pwPath, Log: e.log, Jobs: 1}
	sum, err := Run(context.Background(), m, o)
	if err != nil || sum.Done != 2 || sum.Demo != 0 {
		t.Fatalf("%v %+v", err, sum)
	}
	raw, _ := os.ReadFile(pwPath)
	for _, r := range sum.Rows {
		opened := false
		for _, line := range strings.Split(string(raw), "\n") {
			f := strings.Split(strings.TrimSpace(line), ";")
			if len(f) < 2 || !strings.Contains(line, filepath.Base(r.Archive)) {
				continue
			}
			pw := f[len(f)-1]
			if _, err := crypt.Verify(context.Background(), r.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}); err == nil {
				opened = true
			}
		}
		if r.Result != ResultSealed || !opened {
			t.Fatalf("row %d: %+v; file:\n%s", r.Row, r, raw)
		}
	}
	if sum, err := Run(context.Background(), m, o); err != nil || sum.AlreadyDone != 2 {
		t.Fatalf("again: %v %+v", err, sum)
	}
}
