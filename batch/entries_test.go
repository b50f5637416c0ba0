package batch

import (
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
)

// Each kind of entry batch records about a row names the run, the row and
// the row's case number.
func TestRowEntriesNameTheirCase(t *testing.T) {
	m := &Manifest{ID: "run:lon-2026-11"}
	r := Row{Num: 7, Case: "KS 2026/7", Phone: "+46701234567"}
	for _, a := range []auditlog.Action{auditlog.ActionSealFailed, auditlog.ActionSMS, auditlog.ActionMail} {
		e := rowEntry(m, r, a, "s1", "x")
		if e.Action != a || e.Batch != m.ID || e.Row != r.Num || e.Case != r.Case || e.Refers != "s1" {
			t.Errorf("%s: %+v", a, e)
		}
	}
	if q := sealRequest(m, r, Options{Operator: "Lönekontoret"}, crypt.SealOptions{}, "n"); q.Batch != m.ID || q.Row != r.Num || q.Case != r.Case || q.Operator != "Lönekontoret" || q.Note != "n" {
		t.Errorf("seal: %+v", q)
	}
	if p := passwordSMS(m, r, "s1", "pw", "ref001", "x"); p.Batch != m.ID || p.Row != r.Num || p.Case != r.Case || p.Refers != "s1" || p.To != r.Phone || p.Ref != "ref001" {
		t.Errorf("sms: %+v", p)
	}
}

// Every entry a run writes, the seal-failed of a row interrupted before
// its password reached anyone and the SMS found at the provider after an
// interruption included, carries its row's case number: the log is
// searched by case.
func TestEveryRunEntryNamesItsCase(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 3, "file;phone;name;case", ";")
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	e.interrupt(m, 2) // row 2's SMS went out, row 3's did not
	before, _ := e.log.Entries()
	if _, err := e.run(t, m); err != nil {
		t.Fatal(err)
	}
	es, _ := e.log.Entries()
	cases := map[int]string{}
	for _, r := range m.Rows {
		cases[r.Num] = r.Case
	}
	kinds := map[string]bool{}
	for _, en := range es[len(before):] {
		kinds[string(en.Action)] = true
		if en.Batch != m.ID || en.Row == 0 || en.Case != cases[en.Row] {
			t.Errorf("%s entry of row %d: batch %q, case %q; want %q, %q", en.Action, en.Row, en.Batch, en.Case, m.ID, cases[en.Row])
		}
	}
	for _, k := range []auditlog.Action{auditlog.ActionSealFailed, auditlog.ActionSMS, auditlog.ActionSeal} {
		if !kinds[string(k)] {
			t.Errorf("no %s entry written; the test no longer covers it", k)
		}
	}
}
