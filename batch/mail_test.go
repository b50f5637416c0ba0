package batch

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gomail "github.com/emersion/go-message/mail"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/mailrelay"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
	"github.com/kuvert-app/kuvert/sms"
)

func email(i int) string { return fmt.Sprintf("anstalld%d@example.se", i) }

// writeMailManifest makes n payslips and a manifest with an e-mail column.
func writeMailManifest(t testing.TB, dir string, n int) string {
	var b strings.Builder
	b.WriteString("fil;mobil;namn;diarienummer;epost\n")
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("lönespec_%03d.pdf", i)
		os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{byte(i)}, 2000+i), 0o644)
		fmt.Fprintf(&b, "%s;0%s;Anställd %d;KS 2026/%d;%s\n", name, number(i)[3:], i, i, email(i))
	}
	p := filepath.Join(dir, "lönekörning.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

func startRelay(t *testing.T) (*relaytest.Server, *mailrelay.Relay) {
	s, err := relaytest.NewServer(relaytest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	r, err := mailrelay.Parse("smtp://"+strings.Replace(relaytest.User, "@", "%40", 1)+"@"+s.Addr, relaytest.Password)
	if err != nil {
		t.Fatal(err)
	}
	r.TLS = &tls.Config{RootCAs: s.Roots}
	return s, r
}

func (e *env) runMail(m *Manifest, r Mailer) (*Summary, error) {
	return Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), Sender: e.tw, Log: e.log, From: "Lön", Jobs: 2,
		Mail: MailSend, Mailer: r, MailFrom: "lon@kommun.example", OpenerURL: "https://kommun.example/oppna"})
}

// mailParts reads a message: its headers, its text and its attachment.
func mailParts(t *testing.T, raw []byte) (*gomail.Header, string, string, []byte) {
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text, name string
	var att []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			text += string(b)
		case *gomail.AttachmentHeader:
			name, _ = h.Filename()
			att = b
		}
	}
	return &mr.Header, text, name, att
}

// The e-mail step through a real SMTP relay on loopback (STARTTLS, AUTH
// PLAIN): every row's mail arrives once, with its archive byte for byte
// and its reference, never a password; the SMS follows the mail; a second
// run sends nothing again.
func TestMailSendThroughRelay(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	m, err := Load(writeMailManifest(t, e.dir, 3), LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || !m.HasEmail {
		t.Fatalf("%v %v", err, m.Problems)
	}
	sum, err := e.runMail(m, r)
	if err != nil || sum.Done != 3 || !sum.Delivered() {
		t.Fatalf("%v %+v", err, sum)
	}
	msgs := relay.Messages()
	if len(msgs) != 3 || len(e.fake.Messages()) != 3 {
		t.Fatalf("%d mails, %d SMS", len(msgs), len(e.fake.Messages()))
	}
	var passwords []string
	for _, row := range sum.Rows {
		sms, ok := e.fake.LastTo(number(row.Row - 1))
		if !ok {
			t.Fatalf("row %d: no SMS", row.Row)
		}
		passwords = append(passwords, sms.Body[strings.LastIndex(sms.Body, ": ")+2:])
		if row.Mail != mailSent || row.Ref == "" || !strings.Contains(sms.Body, row.Ref) || row.Email != "a***@example.se" {
			t.Fatalf("row %d: %+v", row.Row, row)
		}
	}
	for _, row := range sum.Rows {
		i := row.Row - 1
		var got []relaytest.Message
		for _, msg := range msgs {
			if len(msg.To) == 1 && msg.To[0] == email(i) {
				got = append(got, msg)
			}
		}
		if len(got) != 1 || !got[0].TLS || got[0].From != "lon@kommun.example" {
			t.Fatalf("row %d: %d mails to %s (%+v)", row.Row, len(got), email(i), got)
		}
		h, text, name, att := mailParts(t, got[0].Data)
		archive, _ := os.ReadFile(row.Archive)
		if len(archive) == 0 || !bytes.Equal(att, archive) || name != filepath.Base(row.Archive) {
			t.Fatalf("row %d: attachment %q (%d bytes) is not the archive (%d bytes)", row.Row, name, len(att), len(archive))
		}
		subject, _ := h.Subject()
		if subject != "Krypterad bilaga (ref "+row.Ref+")" || h.Get("X-Unsent") != "" || h.Get("Message-Id") == "" {
			t.Fatalf("row %d: subject %q, X-Unsent %q", row.Row, subject, h.Get("X-Unsent"))
		}
		if !strings.Contains(text, "referensen "+row.Ref) || !strings.Contains(text, "https://kommun.example/oppna") {
			t.Fatalf("row %d: text:\n%s", row.Row, text)
		}
		// No password anywhere in any mail: raw, decoded, or base64.
		for _, pw := range passwords {
			for _, msg := range msgs {
				_, text, _, _ := mailParts(t, msg.Data)
				if bytes.Contains(msg.Data, []byte(pw)) || strings.Contains(text, pw) || bytes.Contains(msg.Data, []byte(base64.StdEncoding.EncodeToString([]byte(pw)))) {
					t.Fatal("a password in a mail")
				}
			}
		}
		// The archive opens with the SMS's password.
		if _, err := crypt.Verify(context.Background(), row.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: passwords[row.Row-2]}}); err != nil {
			t.Fatalf("row %d: %v", row.Row, err)
		}
	}
	// Logged: seal, mail sending, mail sent, sms per row; no password, no
	// relay password, no full address.
	if res, err := e.log.Verify(""); err != nil || res.Entries != 12 {
		t.Fatalf("log: %+v %v", res, err)
	}
	logText := readLogText(t, e)
	for _, secret := range append(passwords, relaytest.Password, email(1)) {
		if strings.Contains(logText, secret) {
			t.Fatalf("the log holds %q", secret)
		}
	}
	if strings.Count(logText, `"action":"mail"`) != 6 {
		t.Fatal("mail entries missing from the log")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "ut", ".pending")); !os.IsNotExist(err) {
		t.Fatalf("the kept passwords were not removed: %v", err)
	}

	// Again: nothing is mailed or texted twice.
	sum, err = e.runMail(m, r)
	if err != nil || sum.AlreadyDone != 3 || len(relay.Messages()) != 3 || len(e.fake.Messages()) != 3 {
		t.Fatalf("re-run: %v %+v, %d mails, %d SMS", err, sum, len(relay.Messages()), len(e.fake.Messages()))
	}
}

func readLogText(t *testing.T, e *env) string {
	var b strings.Builder
	filepath.WalkDir(filepath.Join(e.dir, "log"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		return nil
	})
	return b.String()
}

// A mail the relay refuses: that row gets no SMS (its password is never
// texted for an archive that did not go out) and loses its archive; the
// other rows go on (exit 8). Fixed, the next run mails and texts that row
// once.
func TestMailRefusedNoSMS(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	relay.Refuse(email(2), true)
	m, _ := Load(writeMailManifest(t, e.dir, 3), LoadOptions{Format: crypt.FormatZip})
	sum, err := e.runMail(m, r)
	if !errors.Is(err, ErrPartial) || sum.Failed != 1 || sum.Done != 2 {
		t.Fatalf("%v %+v", err, sum)
	}
	bad := sum.Rows[1]
	if bad.Result != ResultFailed || !strings.Contains(bad.Error, "<a***@example.se>: no such mailbox") || bad.SMSID != "" {
		t.Fatalf("%+v", bad)
	}
	// The relay's answer named the address: the log keeps it masked.
	if logText := readLogText(t, e); strings.Contains(logText, email(2)) || !strings.Contains(logText, "failed: to a***@example.se") {
		t.Fatal("the refused address in the log, or the refusal not on record")
	}
	if _, ok := e.fake.LastTo(number(2)); ok {
		t.Fatal("a password was texted for an archive that did not go out")
	}
	if _, err := os.Stat(bad.Archive); !os.IsNotExist(err) {
		t.Fatalf("the archive of the refused row is still there: %v", err)
	}
	if len(relay.Messages()) != 2 || len(e.fake.Messages()) != 2 {
		t.Fatalf("%d mails, %d SMS", len(relay.Messages()), len(e.fake.Messages()))
	}
	relay.Refuse(email(2), false)
	sum, err = e.runMail(m, r)
	if err != nil || sum.Done != 1 || sum.AlreadyDone != 2 || len(relay.Messages()) != 3 || len(e.fake.Messages()) != 3 {
		t.Fatalf("%v %+v, %d mails, %d SMS", err, sum, len(relay.Messages()), len(e.fake.Messages()))
	}
	if _, err := e.log.Verify(""); err != nil {
		t.Fatal(err)
	}
}

// The SMS fails after the mail went out: the archive stays (it is out),
// and the next run sends only the SMS — never the mail again.
func TestSMSFailsAfterMail(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	e.fake.RefuseNumber(number(1), 21608)
	m, _ := Load(writeMailManifest(t, e.dir, 2), LoadOptions{Format: crypt.FormatZip})
	sum, err := e.runMail(m, r)
	if !errors.Is(err, ErrPartial) || sum.Rows[0].Result != ResultFailed || !strings.Contains(sum.Rows[0].Error, "e-mail is not sent again") {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if _, err := os.Stat(sum.Rows[0].Archive); err != nil {
		t.Fatal("the mailed archive was removed")
	}
	e.fake.RefuseNumber(number(1), 0)
	sum, err = e.runMail(m, r)
	if err != nil || sum.Rows[0].Result != ResultResumed || len(relay.Messages()) != 2 || len(e.fake.Messages()) != 2 {
		t.Fatalf("%v %+v, %d mails, %d SMS", err, sum.Rows, len(relay.Messages()), len(e.fake.Messages()))
	}
	sms, _ := e.fake.LastTo(number(1))
	pw := sms.Body[strings.LastIndex(sms.Body, ": ")+2:]
	if _, err := crypt.Verify(context.Background(), sum.Rows[0].Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sms.Body, sum.Rows[0].Ref) {
		t.Fatal("the SMS has another reference than the mail")
	}
}

// --mail draft: one draft per row in OUT/utkast (X-Unsent, the archive
// attached, the reference), each on record; the SMS follows.
func TestMailDrafts(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(writeMailManifest(t, e.dir, 2), LoadOptions{Format: crypt.FormatZip})
	sum, err := Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), Sender: e.tw, Log: e.log, From: "Lön", Jobs: 2, Mail: MailDraft})
	if err != nil || sum.Done != 2 {
		t.Fatalf("%v %+v", err, sum)
	}
	for _, row := range sum.Rows {
		raw, err := os.ReadFile(filepath.Join(e.dir, "ut", DraftDir, filepath.Base(row.Archive)+".eml"))
		if err != nil {
			t.Fatal(err)
		}
		h, text, _, att := mailParts(t, raw)
		archive, _ := os.ReadFile(row.Archive)
		if h.Get("X-Unsent") != "1" || !bytes.Equal(att, archive) || !strings.Contains(text, row.Ref) || row.Mail != mailDraft {
			t.Fatalf("row %d: draft wrong", row.Row)
		}
		to, _ := h.AddressList("To")
		if len(to) != 1 || to[0].Address != email(row.Row-1) {
			t.Fatalf("row %d: to %v", row.Row, to)
		}
	}
	if strings.Count(readLogText(t, e), `"action":"mail"`) != 2 {
		t.Fatal("drafts not on record")
	}
}

// A manifest's bad address is found in validation, before anything.
func TestMailAddressChecked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pdf"), []byte("x"), 0o644)
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte("fil;mobil;epost\na.pdf;070-123 45 67;inte en adress\na.pdf;070-123 45 68;Åsa <a@b.se>\na.pdf;070-123 45 69;\n"), 0o644)
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	if len(m.Problems) != 2 || m.Problems[0].Row != 2 || m.Problems[1].Row != 3 || !strings.Contains(m.Problems[0].Err.Error(), "not an address") || len(m.Rows) != 1 {
		t.Fatalf("%v", m.Problems)
	}
}

// A draft that cannot be written: the row's archive goes (its password
// reached nobody), no SMS is sent, and the row fails with why.
func TestDraftFails(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(writeMailManifest(t, e.dir, 1), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	os.MkdirAll(out, 0o700)
	os.WriteFile(filepath.Join(out, DraftDir), []byte("a file where the folder goes"), 0o600)
	sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: e.tw, Log: e.log, From: "Lön", Mail: MailDraft})
	if !errors.Is(err, ErrRowsFailed) || sum.Rows[0].Result != ResultFailed || !strings.Contains(sum.Rows[0].Error, "draft could not be written") {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if _, err := os.Stat(sum.Rows[0].Archive); !os.IsNotExist(err) || len(e.fake.Messages()) != 0 {
		t.Fatalf("archive left (%v) or %d SMS", err, len(e.fake.Messages()))
	}
	// Fixed: the next run does it.
	os.Remove(filepath.Join(out, DraftDir))
	sum, err = Run(context.Background(), m, Options{OutDir: out, Sender: e.tw, Log: e.log, From: "Lön", Mail: MailDraft})
	if err != nil || sum.Done != 1 || len(e.fake.Messages()) != 1 {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
}

// The demo provider sends nothing, so batch mails nothing real either.
func TestMailSendRefusedWithDemo(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	m, _ := Load(writeMailManifest(t, e.dir, 1), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	_, err := Run(context.Background(), m, Options{OutDir: out, Sender: &sms.Console{W: io.Discard}, Log: e.log, Mail: MailSend, Mailer: r, MailFrom: "lon@kommun.example"})
	if !errors.Is(err, crypt.ErrInput) || !strings.Contains(err.Error(), "demo") || len(relay.Messages()) != 0 {
		t.Fatalf("%v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("something was done")
	}
}
