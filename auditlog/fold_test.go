package auditlog

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// relayed is a sealing by device pc1 whose password the central server
// relayed, in the central log's order: the relay's record (written while
// the device waited for the answer, before it shipped anything), the
// sealing and the device's own record of the same text, then a status
// check by the device.
func relayed() []Entry {
	return []Entry{
		{Seq: 1, ID: "relay", Device: CentralServerDevice, Operator: "pc1", Action: ActionSMS, Refers: "seal", Case: "KS 1",
			Delivery: &Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Ref: "K7Q2", MessageID: "SM1", Status: StatusQueued}},
		{Seq: 2, ID: "seal", Device: "pc1", Operator: "anna", Action: ActionSeal, Case: "KS 1",
			Delivery: &Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 67", Ref: "K7Q2", Status: StatusPending}},
		{Seq: 3, ID: "own", Device: "pc1", Operator: "anna", Action: ActionSMS, Refers: "seal", Case: "KS 1",
			Delivery: &Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 67", ToTag: "tag", Ref: "K7Q2", MessageID: "SM1", Status: StatusQueued}},
		{Seq: 4, ID: "status", Device: "pc1", Operator: "anna", Action: ActionSMSStatus, Refers: "seal",
			Delivery: &Delivery{Provider: "kuvert-server", To: "-", MessageID: "SM1", Status: StatusDelivered}},
	}
}

// A relayed SMS is one text: the device's and the relay's records (and
// a status check) fold into one delivery, shown as one row, in every
// view built from the fold.
func TestRelayedSMSIsOneText(t *testing.T) {
	all := relayed()
	ss := Sealings(all)
	if len(ss) != 1 || len(ss[0].Texts) != 1 {
		t.Fatalf("sealings %d, texts %+v; want one sealing with one text", len(ss), ss[0].Texts)
	}
	tx := ss[0].Texts[0]
	if tx.Entry != "own" || !slices.Equal(tx.Folded, []string{"relay", "status"}) {
		t.Errorf("text stands as %q, folded %q; want the device's record, the relay's and the status folded", tx.Entry, tx.Folded)
	}
	d := ss[0].Delivery
	if d.Status != StatusDelivered || d.Provider != "kuvert-server/twilio" || d.ToTag != "tag" || d.To != "+46 70-*** ** 67" || d.MessageID != "SM1" {
		t.Errorf("the sealing's delivery: %+v", d)
	}

	rows := View(all)
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, []string{"seal", "own"}) { // the relay's record folded away
		t.Fatalf("view rows %q, want seal and one SMS row", ids)
	}
	if rows[0].Delivery.Status != StatusDelivered || rows[1].Delivery.Status != StatusDelivered || !slices.Equal(rows[1].Folded, []string{"relay", "status"}) {
		t.Errorf("rows: %+v / %+v (folded %q)", rows[0].Delivery, rows[1].Delivery, rows[1].Folded)
	}
	// The recorded entries are left as they were.
	if all[2].Delivery.Status != StatusQueued || all[1].Delivery.Status != StatusPending {
		t.Errorf("View changed the entries it read")
	}

	var buf bytes.Buffer
	if err := ExportCSV(&buf, rows, nil); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(recs) != 3 {
		t.Fatalf("export has %d lines, want header, sealing and one SMS:\n%s", len(recs), buf.String())
	}
	col := func(name string) int { return slices.Index(recs[0], name) }
	if recs[2][col("id")] != "own" || recs[2][col("samma_sms")] != "relay | status" || recs[2][col("sms_status")] != "levererad" {
		t.Errorf("the SMS row: %q", recs[2])
	}
	// The number as Excel shows it, with no apostrophe in front: a string
	// constant (internal/excelcsv).
	if recs[1][col("mottagare")] != `="+46 70-*** ** 67"` || recs[2][col("mottagare")] != `="+46 70-*** ** 67"` {
		t.Errorf("the SMS row: %q", recs[2])
	}
}

// The relay's record arriving after the device's, two refused sends
// before one that went, and a device that lost the relay's answer: one
// text per send, the relay's word on the outcome.
func TestTextsPairRecordsOfOneSend(t *testing.T) {
	seal := Entry{ID: "seal", Device: "pc1", Action: ActionSeal, Delivery: &Delivery{Ref: "R", Status: StatusPending}}
	sms := func(id string, relay bool, msg string, st Status) Entry {
		e := Entry{ID: id, Device: "pc1", Action: ActionSMS, Refers: "seal", Delivery: &Delivery{Provider: "kuvert-server", Ref: "R", MessageID: msg, Status: st}}
		if relay {
			e.Device, e.Operator, e.Delivery.Provider = CentralServerDevice, "pc1", "twilio"
		}
		return e
	}
	for _, c := range []struct {
		name   string
		es     []Entry
		texts  [][]string // each text: its row, then what is folded in
		status Status
	}{
		{"device first", []Entry{seal, sms("d", false, "SM1", StatusQueued), sms("r", true, "SM1", StatusQueued)},
			[][]string{{"d", "r"}}, StatusQueued},
		{"refused twice, then sent", []Entry{seal, sms("r1", true, "", StatusFailed), sms("d1", false, "", StatusFailed),
			sms("r2", true, "", StatusFailed), sms("d2", false, "", StatusFailed), sms("r3", true, "SM3", StatusQueued), sms("d3", false, "SM3", StatusQueued)},
			[][]string{{"d1", "r1"}, {"d2", "r2"}, {"d3", "r3"}}, StatusQueued},
		{"answer lost", []Entry{seal, sms("r", true, "SM4", StatusSent), sms("d", false, "", StatusFailed)},
			[][]string{{"d", "r"}}, StatusSent},
		{"another device's entry", []Entry{seal, func() Entry { e := sms("x", false, "SM5", StatusDelivered); e.Device = "pc2"; return e }()},
			nil, StatusPending},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Sealings(c.es)[0]
			var got [][]string
			for _, tx := range s.Texts {
				got = append(got, append([]string{tx.Entry}, tx.Folded...))
			}
			if !slices.EqualFunc(got, c.texts, slices.Equal) {
				t.Errorf("texts %q, want %q", got, c.texts)
			}
			if s.Delivery.Status != c.status {
				t.Errorf("state %s, want %s", s.Delivery.Status, c.status)
			}
			if n := len(View(c.es)); n != len(c.es)-countFolded(c.texts) {
				t.Errorf("view has %d rows", n)
			}
		})
	}
}

func countFolded(texts [][]string) int {
	n := 0
	for _, t := range texts {
		n += len(t) - 1
	}
	return n
}

// A demo delivery is never called sent: not by its status's words, not
// when relayed, not in the export.
func TestDemoDeliveryIsNeverSent(t *testing.T) {
	for _, d := range []*Delivery{
		{Provider: "console", Status: StatusDemo},
		{Provider: "kuvert-server", Status: StatusDemo},
		{Provider: "kuvert-server/console", Status: StatusSent},
		{Provider: "console", Status: StatusQueued},
	} {
		sv, en := d.Words()
		if sv != "demo (ej skickat)" || en != "demo (not sent)" || d.Sent() {
			t.Errorf("%+v: %q / %q, sent %v", d, sv, en, d.Sent())
		}
	}
	if sv, en := StatusDemo.Swedish(), StatusDemo.English(); sv != "demo (ej skickat)" || en != "demo (not sent)" {
		t.Errorf("StatusDemo: %q / %q", sv, en)
	}
	if sv, en := (&Delivery{Provider: "twilio", Status: StatusSent}).Words(); sv != "skickad" || en != "sent" {
		t.Errorf("a real text: %q / %q", sv, en)
	}
	if sv, _ := (*Delivery)(nil).Words(); sv != "ingen sms" {
		t.Errorf("no delivery: %q", sv)
	}
	var buf bytes.Buffer
	ExportCSV(&buf, View([]Entry{
		{ID: "s", Action: ActionSeal, Delivery: &Delivery{Provider: "console", Ref: "R", Status: StatusPending}},
		{ID: "m", Action: ActionSMS, Refers: "s", Delivery: &Delivery{Provider: "console", Ref: "R", MessageID: "demo-1", Status: StatusDemo}},
	}), nil)
	if strings.Count(buf.String(), "demo (ej skickat)") != 2 || strings.Contains(strings.ReplaceAll(buf.String(), "ej skickat", ""), "skicka") {
		t.Errorf("export of a demo:\n%s", buf.String())
	}
}
