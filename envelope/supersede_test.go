package envelope

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// A sealing that supersedes another (kuvert resend) is on record — the
// seal entry referring to the old one and the superseded marker — before
// its SMS goes out: seal, seal, superseded, sms.
func TestSealSupersedes(t *testing.T) {
	l, so, dir := setup(t)
	box := filepath.Join(dir, "outbox.jsonl")
	p := &sms.Policy{Sender: &sms.Outbox{Path: box}, Organisation: "Lön"}
	first, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: p, To: "0701234567"}})
	if err != nil {
		t.Fatal(err)
	}
	so.Output = filepath.Join(dir, "ny.zip")
	so.Password, _ = crypt.Generate(crypt.GenOptions{})
	second, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: p, To: "0701234567"}, Supersedes: first.Entry.ID})
	if err != nil {
		t.Fatal(err)
	}
	es, _ := l.Entries()
	want := []auditlog.Action{auditlog.ActionSeal, auditlog.ActionSMS, auditlog.ActionSeal, auditlog.ActionSuperseded, auditlog.ActionSMS}
	if len(es) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(es), len(want), es)
	}
	for i, a := range want {
		if es[i].Action != a {
			t.Fatalf("entry %d is %s, want %s", i+1, es[i].Action, a)
		}
	}
	if es[2].Refers != first.Entry.ID || es[3].Refers != first.Entry.ID || es[4].Refers != second.Entry.ID {
		t.Fatalf("links: %+v", es)
	}
	ss := auditlog.Sealings(es)
	if ss[0].SupersededBy != second.Entry.ID {
		t.Fatalf("old sealing not superseded: %+v", ss[0])
	}
}
