package server

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
)

// A device may not change the state the registrar sees of another
// device's sealing: a "removed", "superseded" or delivery entry that
// refers to it from another device is its own entry, not a follow-up.
func TestForeignFollowUpDoesNotChangeSealing(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	seal := entry(auditlog.ActionSeal, "KS 2026/77")
	seal.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 50", Status: auditlog.StatusDelivered, Ref: "abc234"}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{seal}); err != nil {
		t.Fatal(err)
	}
	failed := entry(auditlog.ActionSealFailed, "KS 2026/77")
	failed.Refers = seal.ID
	sms := entry(auditlog.ActionSMS, "KS 2026/77")
	sms.Refers = seal.ID
	sms.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 99", Status: auditlog.StatusFailed}
	if _, _, err := s.Append(ctx, "pc2", []auditlog.Entry{failed, sms}); err != nil {
		t.Fatal(err)
	}
	// The relay's entry for pc2 (the server texted for pc2 with pc1's
	// sealing as its refers) does not fold either.
	relayed := s.ownEntry(auditlog.Entry{Action: auditlog.ActionSMS, Refers: seal.ID, Case: "KS 2026/77", Operator: "pc2",
		Delivery: &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 98", Status: auditlog.StatusFailed}})
	if _, _, err := s.Append(ctx, ServerDevice, []auditlog.Entry{relayed}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, Search{Case: "KS 2026/77"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sealings) != 1 {
		t.Fatalf("sealings: %+v", res.Sealings)
	}
	sl := res.Sealings[0]
	if row := rowOf(res, seal.ID); sl.State != auditlog.StatusDelivered.Swedish() || sl.Removed || row == nil || row.Delivery == nil || row.Delivery.To != "+46 70-*** ** 50" {
		b, _ := json.Marshal(res)
		t.Errorf("pc2's entries changed pc1's sealing: %s", b)
	}
	for _, e := range res.Entries {
		if e.ID == seal.ID && (e.Delivery == nil || e.Delivery.Status != auditlog.StatusDelivered) {
			t.Errorf("pc1's sealing as listed: %+v", e.Delivery)
		}
	}
	// What a client folds from the listed entries agrees.
	for _, sl := range auditlog.Sealings(auditlog.Entries(res.Entries)) {
		if sl.Entry.ID == seal.ID && sl.Removed {
			t.Errorf("pc1's sealing folded by a client shows as removed")
		}
	}
}

// The relay's own entry for a device's sealing still folds onto it.
func TestRelayFollowUpFoldsOntoOwnDevicesSealing(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	seal := entry(auditlog.ActionSeal, "KS 2026/78")
	seal.Delivery = &auditlog.Delivery{Provider: "kuvert-server", Status: auditlog.StatusPending}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{seal}); err != nil {
		t.Fatal(err)
	}
	relayed := s.ownEntry(auditlog.Entry{Action: auditlog.ActionSMS, Refers: seal.ID, Case: "KS 2026/78", Operator: "pc1",
		Delivery: &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 50", Status: auditlog.StatusSent}})
	if _, _, err := s.Append(ctx, ServerDevice, []auditlog.Entry{relayed}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Search(ctx, Search{Case: "KS 2026/78"})
	if err != nil {
		t.Fatal(err)
	}
	if row := rowOf(res, seal.ID); len(res.Sealings) != 1 || res.Sealings[0].State != auditlog.StatusSent.Swedish() || row == nil || row.Delivery.Status != auditlog.StatusSent {
		b, _ := json.Marshal(res)
		t.Fatalf("the relay's SMS did not fold onto pc1's sealing: %s", b)
	}
}

// rowOf is the row of a search answer with the given id.
func rowOf(res *api.EntriesResponse, id string) *auditlog.Row {
	for i := range res.Entries {
		if res.Entries[i].ID == id {
			return &res.Entries[i]
		}
	}
	return nil
}
