package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// relayedSealings appends n sealings by pc1, each with a long note and
// its password relayed by the server: the relay's record of the SMS (as
// Relay.Send writes it, before the device shipped anything) and the
// sealing with the device's own record, shipped after. It returns
// the seal entries.
func relayedSealings(t testing.TB, s *Store, n int) []auditlog.Entry {
	ctx := context.Background()
	var seals []auditlog.Entry
	for i := range n {
		seal := entry(auditlog.ActionSeal, "KS 2026/900")
		seal.Note = fmt.Sprintf("note-%03d-", i) + strings.Repeat("x", 2000)
		seal.Archive = &auditlog.FileRef{Name: fmt.Sprintf("lista-%03d.zip", i), Size: 1000, SHA256: strings.Repeat("ab", 32)}
		ref, id := fmt.Sprintf("R%03d", i), fmt.Sprintf("SM%03d", i)
		seal.Delivery = &auditlog.Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 67", Ref: ref, Status: auditlog.StatusPending}
		relayed := s.ownEntry(auditlog.Entry{Action: auditlog.ActionSMS, Refers: seal.ID, Case: seal.Case, Operator: "pc1",
			Event:    auditlog.NewEvent(auditlog.CodeRelayed, "device", "pc1"),
			Delivery: &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Ref: ref, MessageID: id, Status: auditlog.StatusQueued}})
		if _, _, err := s.Append(ctx, ServerDevice, []auditlog.Entry{relayed}); err != nil {
			t.Fatal(err)
		}
		own := entry(auditlog.ActionSMS, seal.Case)
		own.Refers = seal.ID
		own.Delivery = &auditlog.Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 67", ToTag: "tag", Ref: ref, MessageID: id, Status: auditlog.StatusQueued}
		if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{seal, own}); err != nil {
			t.Fatal(err)
		}
		seals = append(seals, seal)
	}
	return seals
}

// The registrar's search sends each entry once, and a relayed SMS as
// one row: the sealings carry only their state, by id.
func TestSearchSendsEachEntryOnce(t *testing.T) {
	s, _, _ := newStore(t)
	const n = 20
	seals := relayedSealings(t, s, n)
	srv := httptest.NewServer(&Handler{Store: s})
	defer srv.Close()
	tok, err := s.AddToken(context.Background(), "reg", api.RoleRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ts: srv, tokens: map[string]string{"reg": tok}}
	code, body := f.do(t, "GET", "/api/v1/log/entries", "reg", nil)
	if code != 200 {
		t.Fatalf("search: %d %s", code, body)
	}
	t.Logf("%d sealings with a relayed SMS: the answer is %d bytes (%d per sealing)", n, len(body), len(body)/n)
	for _, seal := range seals {
		if c := strings.Count(string(body), seal.Note[:9]); c != 1 {
			t.Errorf("sealing %s is sent %d times", seal.ID, c)
		}
	}
	var res api.EntriesResponse
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Sealings) != n || len(res.Entries) != 2*n {
		t.Fatalf("%d sealings and %d rows, want %d and %d (each sealing and its one text)", len(res.Sealings), len(res.Entries), n, 2*n)
	}
	for i, sl := range res.Sealings {
		row := rowOf(&res, sl.ID)
		if row == nil || row.Action != auditlog.ActionSeal || sl.State != auditlog.StatusQueued.Swedish() || sl.Texts != 1 {
			t.Errorf("sealing %d: %+v, row %+v", i, sl, row)
		}
	}
	for _, r := range res.Entries {
		if r.Action == auditlog.ActionSMS && (r.Device != "pc1" || len(r.Folded) != 1 || r.Delivery.Provider != "kuvert-server/twilio" || r.State != auditlog.StatusQueued.Swedish()) {
			t.Errorf("the SMS row: %+v", r)
		}
	}
}

// A text the server relayed with the demo provider is a demo on the
// page and in the export, never "sent".
func TestDemoRelayIsNeverSent(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	seal := entry(auditlog.ActionSeal, "KS 2026/901")
	seal.Delivery = &auditlog.Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 67", Ref: "D1", Status: auditlog.StatusPending}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{seal}); err != nil {
		t.Fatal(err)
	}
	relayed := s.ownEntry(auditlog.Entry{Action: auditlog.ActionSMS, Refers: seal.ID, Case: seal.Case, Operator: "pc1",
		Delivery: &auditlog.Delivery{Provider: "console", To: "+46 70-*** ** 67", Ref: "D1", MessageID: "demo-1", Status: auditlog.StatusDemo}})
	own := entry(auditlog.ActionSMS, seal.Case)
	own.Refers = seal.ID
	own.Delivery = &auditlog.Delivery{Provider: "kuvert-server", To: "+46 70-*** ** 67", Ref: "D1", MessageID: "demo-1", Status: auditlog.StatusDemo}
	if _, _, err := s.Append(ctx, ServerDevice, []auditlog.Entry{relayed}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{own}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, Search{Case: "KS 2026/901"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sealings) != 1 || res.Sealings[0].State != "demo (ej skickat)" || res.Sealings[0].StateEn != "demo (not sent)" {
		t.Errorf("sealings: %+v", res.Sealings)
	}
	var b strings.Builder
	auditlog.ExportCSV(&b, res.Entries, nil)
	if strings.Contains(strings.ReplaceAll(b.String(), "ej skickat", ""), "skicka") || strings.Count(b.String(), "demo (ej skickat)") != 2 {
		t.Errorf("export:\n%s", b.String())
	}
}

// The log holds events as codes; the registrar's page and the export
// show them in the catalog's two languages, and an older entry's prose
// as it is.
func TestEventsWordedForTheRegistrar(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	coded := entry(auditlog.ActionSuperseded, "KS 2026/902")
	coded.Refers = "20260101-0000000000000001"
	coded.Event = auditlog.NewEvent(auditlog.CodeSupersededBy, "entry", "20260101-0000000000000002")
	old := entry(auditlog.ActionSuperseded, "KS 2026/902")
	old.Refers = "20260101-0000000000000003"
	old.Details = "ersatt av / superseded by 20260101-0000000000000004"
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{coded, old}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&Handler{Store: s})
	defer srv.Close()
	tok, err := s.AddToken(ctx, "reg", api.RoleRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ts: srv, tokens: map[string]string{"reg": tok}}
	want := []string{"ersatt av / superseded by 20260101-0000000000000002", "ersatt av / superseded by 20260101-0000000000000004"}
	code, body := f.do(t, "GET", "/api/v1/log/entries?case=KS+2026%2F902", "reg", nil)
	var res api.EntriesResponse
	if err := json.Unmarshal(body, &res); code != 200 || err != nil {
		t.Fatalf("search: %d %v %s", code, err, body)
	}
	var got []string
	for _, r := range res.Entries {
		got = append(got, r.Details)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the page's details %q, want %q", got, want)
	}
	code, body = f.do(t, "GET", "/api/v1/log/export.csv?case=KS+2026%2F902", "reg", nil)
	for _, w := range want {
		if code != 200 || !strings.Contains(string(body), w) {
			t.Errorf("export (%d) lacks %q:\n%s", code, w, body)
		}
	}
	// What the log holds is the code, never the words.
	all, err := s.Search(ctx, Search{Case: "KS 2026/902"})
	if err != nil || len(all.Entries) != 2 || all.Entries[0].Details != "" || all.Entries[0].Event == nil || all.Entries[0].Event.Code != auditlog.CodeSupersededBy {
		t.Errorf("stored: %v %+v", err, all.Entries)
	}
}
