package auditlog

import (
	"errors"
	"testing"
)

// A resend's new sealing refers to the old one and an ActionSuperseded
// entry marks the old one; a new sealing that was removed again (its SMS
// failed) supersedes nothing.
func TestSealingsSuperseded(t *testing.T) {
	d := &Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Ref: "abc234", Status: StatusQueued}
	all := []Entry{
		{Seq: 1, ID: "old", Action: ActionSeal, Delivery: d},
		{Seq: 2, ID: "new", Action: ActionSeal, Refers: "old", Delivery: d},
		{Seq: 3, ID: "m", Action: ActionSuperseded, Refers: "old"},
		{Seq: 4, ID: "x", Action: ActionSeal, Delivery: d},
		{Seq: 5, ID: "y", Action: ActionSeal, Refers: "x", Delivery: d},
		{Seq: 6, ID: "m2", Action: ActionSuperseded, Refers: "x"},
		{Seq: 7, ID: "f", Action: ActionSealFailed, Refers: "y"},
	}
	ss := Sealings(all)
	if len(ss) != 4 {
		t.Fatalf("%d sealings, want 4", len(ss))
	}
	if ss[0].SupersededBy != "new" {
		t.Errorf("old: SupersededBy = %q, want new", ss[0].SupersededBy)
	}
	if ss[1].SupersededBy != "" || ss[1].Removed {
		t.Errorf("new: %+v", ss[1])
	}
	if ss[2].SupersededBy != "" {
		t.Errorf("x is superseded by a removed sealing: SupersededBy = %q, want empty", ss[2].SupersededBy)
	}
	if ActionSuperseded.Swedish() != "ersatt" {
		t.Errorf("Swedish = %q", ActionSuperseded.Swedish())
	}
}

// AppendIf shows its check every entry on record and writes its group
// (with the ids the caller chose) only when the check passes.
func TestAppendIf(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 3)
	refused := errors.New("refused")
	seen := 0
	if _, err := l.AppendIf(func(all []Entry) error { seen = len(all); return refused }, sealEntry(9)); err != refused {
		t.Fatalf("err = %v, want the check's own error", err)
	}
	if es, _ := l.Entries(); seen != 3 || len(es) != 3 {
		t.Fatalf("check saw %d entries, log has %d; want 3 and 3", seen, len(es))
	}
	id := l.NewID()
	a := sealEntry(10)
	a.ID = id
	b := Entry{Action: ActionSuperseded, Refers: "x", Details: "by " + id}
	w, err := l.AppendIf(func(all []Entry) error { seen = len(all); return nil }, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if seen != 3 || len(w) != 2 || w[0].ID != id || w[0].Seq != 4 || w[1].Seq != 5 {
		t.Fatalf("seen %d, written %+v", seen, w)
	}
	if _, err := l.Verify(l.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}
