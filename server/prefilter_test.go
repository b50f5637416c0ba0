package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
)

// The search's pre-filter may only narrow: every string it asks the
// database for is in the body of each entry the search matches, written
// as encoding/json writes it, up to ASCII case.
func TestPrefilterNeverLeavesOutAMatch(t *testing.T) {
	day := time.Date(2026, 3, 5, 0, 0, 0, 0, Zone)
	for _, c := range []struct {
		q Search
		e auditlog.Entry
	}{
		{Search{Case: "KS 2026/8001"}, auditlog.Entry{Case: "ks 2026/8001"}},
		{Search{Case: "SN <2026> & \"x\""}, auditlog.Entry{Case: "sn <2026> & \"X\""}},
		{Search{Case: "KS 2026/1"}, auditlog.Entry{Case: "\u212AS 2026/1"}}, // Kelvin sign folds to k
		{Search{Case: "ös 2026/1"}, auditlog.Entry{Case: "ÖS 2026/1"}},
		{Search{Case: "100%_klart"}, auditlog.Entry{Case: "100%_KLART"}},
		{Search{Ref: "6H7MSE"}, auditlog.Entry{Delivery: &auditlog.Delivery{Ref: "6h7mse"}}},
		{Search{Sender: "ANNA"}, auditlog.Entry{Operator: "anna.berg"}},
		{Search{Sender: "isa"}, auditlog.Entry{Operator: "İsa Öberg"}},
		{Search{From: day, To: day}, auditlog.Entry{Time: "2026-03-04T23:30:00Z"}}, // 00:30 in Stockholm
		{Search{From: day, To: day}, auditlog.Entry{Time: "2026-03-06T08:00:00+14:00"}},
		{Search{From: day, To: day.AddDate(0, 0, 2), Case: "KS 2026/2"}, auditlog.Entry{Time: "2026-03-07T12:00:00+01:00", Case: "KS 2026/2"}},
	} {
		match, pre, err := c.q.matcher()
		if err != nil {
			t.Fatal(err)
		}
		if !match(&c.e) {
			t.Fatalf("%+v does not match %+v: the case is wrong", c.e, c.q)
		}
		b, _ := json.Marshal(c.e)
		body := strings.ToLower(string(b))
		for _, w := range pre.all {
			if !strings.Contains(body, strings.ToLower(w)) {
				t.Errorf("%+v: the pre-filter asks for %q, which the body %s lacks", c.q, w, b)
			}
		}
		if len(pre.any) > 0 {
			found := false
			for _, w := range pre.any {
				found = found || strings.Contains(string(b), w)
			}
			if !found {
				t.Errorf("%+v: none of the day prefixes %q is in %s", c.q, pre.any, b)
			}
		}
	}
	// And it narrows: a case search asks for more than nothing.
	if _, pre, _ := (Search{Case: "KS 2026/8001"}).matcher(); len(pre.all) == 0 || pre.all[0] != " 2026/8001" {
		t.Errorf("pre-filter for a case number: %q", pre.all)
	}
}
