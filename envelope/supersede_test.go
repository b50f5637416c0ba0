package envelope

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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

// Two resends of one sealing at the same moment, each through its own
// handle on the log (two processes, as two `kuvert resend` runs are):
// exactly one is recorded, leaves an archive and texts its password; the
// others get a *SupersededError, leave no archive and send nothing. The
// supersede check and the recording happen under the log's lock, so the
// outcome does not depend on timing; without that all went through.
func TestSealSupersedesOnce(t *testing.T) {
	l, so, dir := setup(t)
	box := filepath.Join(dir, "outbox.jsonl")
	p := &sms.Policy{Sender: &sms.Outbox{Path: box}, Organisation: "Lön"}
	first, err := Seal(context.Background(), l, Request{Seal: so, SMS: &SMS{Policy: p, To: "0701234567"}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		h, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys")})
		if err != nil {
			t.Fatal(err)
		}
		o := so
		o.Output = filepath.Join(dir, fmt.Sprintf("ny-%d.zip", i))
		o.Password, _ = crypt.Generate(crypt.GenOptions{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Seal(context.Background(), h, Request{Seal: o, SMS: &SMS{Policy: p, To: "0701234567"}, Supersedes: first.Entry.ID})
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		_, statErr := os.Stat(filepath.Join(dir, fmt.Sprintf("ny-%d.zip", i)))
		var se *SupersededError
		switch {
		case err == nil:
			if won >= 0 {
				t.Fatalf("resends %d and %d both went through", won, i)
			}
			won = i
			if statErr != nil {
				t.Errorf("the recorded resend's archive is missing: %v", statErr)
			}
		case errors.As(err, &se):
			if se.ID != first.Entry.ID || se.By == "" {
				t.Errorf("resend %d: %+v", i, se)
			}
			if statErr == nil {
				t.Errorf("resend %d was refused but left its archive", i)
			}
		default:
			t.Fatalf("resend %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no resend went through")
	}
	recs, _ := sms.ReadOutbox(box)
	if len(recs) != 2 {
		t.Fatalf("%d texts, want 2 (the first sealing and one resend)", len(recs))
	}
	es, _ := l.Entries()
	seals, marks := 0, 0
	for _, e := range es {
		switch e.Action {
		case auditlog.ActionSeal:
			seals++
		case auditlog.ActionSuperseded:
			marks++
		}
	}
	if seals != 2 || marks != 1 {
		t.Fatalf("%d seal and %d superseded entries, want 2 and 1: %+v", seals, marks, es)
	}
	ss := auditlog.Sealings(es)
	// The log says it in a code and the new sealing's ID, no prose (the
	// shells' words for it: internal/catalog's TestDetails).
	mark := es[len(es)-2]
	if ss[0].SupersededBy != ss[1].Entry.ID || mark.Details != "" || mark.Event == nil || mark.Event.Code != auditlog.CodeSupersededBy || mark.Event.Fields["entry"] != ss[1].Entry.ID {
		t.Fatalf("the marker does not name the new sealing: %+v", es)
	}
	if _, err := l.Verify(l.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}
