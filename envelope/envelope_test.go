package envelope

import (
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
)

type failingSender struct{ sent int }

func (f *failingSender) Name() string { return "failing" }
func (f *failingSender) Send(context.Context, sms.Message) (sms.Receipt, error) {
	f.sent++
	return sms.Receipt{}, &sms.ProviderError{Code: 21608, Message: "not verified"}
}
func (f *failingSender) Status(context.Context, string) (sms.Receipt, error) {
	return sms.Receipt{}, nil
}

func pol(s sms.Sender) *sms.Policy { return &sms.Policy{Sender: s, Organisation: "Sundsvalls kommun"} }

func setup(t *testing.T) (*auditlog.Log, crypt.SealOptions, string) {
	dir := t.TempDir()
	in := filepath.Join(dir, "lista.csv")
	os.WriteFile(in, []byte("a;b\n"), 0o644)
	ins, _, _ := crypt.CollectInputs([]string{in})
	pw, _ := crypt.Generate(crypt.GenOptions{})
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	return l, crypt.SealOptions{Inputs: ins, Output: filepath.Join(dir, "lista.zip"), Format: crypt.FormatZip, Password: pw}, dir
}

func TestSealWithOutbox(t *testing.T) {
	l, so, dir := setup(t)
	box := filepath.Join(dir, "outbox.jsonl")
	res, err := Seal(context.Background(), l, Request{Seal: so, Case: "KS 1", SMS: &SMS{Policy: &sms.Policy{Sender: &sms.Outbox{Path: box}, Organisation: "Lön"}, To: "070-123 45 67"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := sms.ReadOutbox(box)
	if len(recs) != 1 || !strings.HasSuffix(recs[0].Body, ": "+so.Password.Value) || !sms.HasRef(recs[0].Body, res.Delivery.Ref) {
		t.Fatalf("outbox %+v", recs)
	}
	if _, err := crypt.Verify(context.Background(), res.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: so.Password.Value}}); err != nil {
		t.Fatal(err)
	}
	es, _ := l.Entries()
	if len(es) != 2 || es[0].Action != "seal" || es[1].Action != "sms" || es[1].Refers != es[0].ID || es[1].Delivery.To != "+46 70-*** ** 67" {
		t.Fatalf("log %+v", es)
	}
}

func TestSMSFailureRemovesArchive(t *testing.T) {
	l, so, _ := setup(t)
	f := &failingSender{}
	_, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: pol(f), To: "0701234567"}})
	if !errors.Is(err, ErrSMS) || f.sent != 1 {
		t.Fatalf("err = %v, sent %d", err, f.sent)
	}
	if _, err := os.Stat(so.Output); !os.IsNotExist(err) {
		t.Fatal("archive kept although its password reached nobody")
	}
	var se *SMSError
	if !errors.As(err, &se) || se.Kept != "" || !errors.As(err, new(*sms.ProviderError)) {
		t.Fatalf("err = %#v: want an SMSError with nothing kept, wrapping the provider's error", err)
	}
	es, _ := l.Entries()
	if es[len(es)-1].Action != auditlog.ActionSealFailed {
		t.Fatalf("%+v", es)
	}
}

// With the sender's own password the archive stays, and the error says
// where, so the CLI and the desktop app need not guess.
func TestSMSFailureKeepsArchiveWithOwnPassword(t *testing.T) {
	l, so, _ := setup(t)
	so.Password.Origin = "user"
	_, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: pol(&failingSender{}), To: "0701234567"}})
	var se *SMSError
	if !errors.As(err, &se) || se.Kept != so.Output || !errors.Is(err, ErrSMS) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(so.Output); err != nil {
		t.Fatalf("the archive is gone: %v", err)
	}
	if !strings.Contains(err.Error(), so.Output+" was kept") {
		t.Errorf("message %q", err)
	}
	es, _ := l.Entries()
	if es[len(es)-1].Action != auditlog.ActionSMS || es[len(es)-1].Delivery.Status != "failed" {
		t.Fatalf("%+v", es[len(es)-1])
	}
}

func TestBadNumberSealsNothing(t *testing.T) {
	l, so, _ := setup(t)
	f := &failingSender{}
	_, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: pol(f), To: "08-123 456 78"}})
	if !errors.Is(err, crypt.ErrInput) || f.sent != 0 {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(so.Output); !os.IsNotExist(err) {
		t.Fatal("sealed despite a bad number")
	}
	if es, _ := l.Entries(); len(es) != 0 {
		t.Fatalf("logged %v", es)
	}
}

func TestNoLogNoArchive(t *testing.T) {
	l, so, dir := setup(t)
	// Make the log unwritable by replacing its entries file with a folder.
	os.RemoveAll(filepath.Join(dir, "log", "entries.jsonl"))
	os.MkdirAll(filepath.Join(dir, "log", "entries.jsonl"), 0o700)
	_, err := Seal(context.Background(), l, Request{Seal: so})
	// The words ("the archive was removed, …"): internal/catalog.
	if f, ok := fault.As(err); !ok || f.Code != CodeNotRecordedRemoved || !errors.Is(err, auditlog.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(so.Output); !os.IsNotExist(err) {
		t.Fatal("archive left without a record")
	}
}
