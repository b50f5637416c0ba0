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
		{Search{Case: "2026/118"}, auditlog.Entry{Case: "SN 2026/118"}},
		{Search{Case: "SN2026/118"}, auditlog.Entry{Case: "SN 2026/118"}},
		{Search{Case: "sn 2026-11"}, auditlog.Entry{Case: "SN 2026/118"}},
		{Search{Case: "ÖS2026"}, auditlog.Entry{Case: "Ös 2026/3"}},
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
		for _, w := range pre.like {
			if !likeMatch(w, body) {
				t.Errorf("%+v: the pre-filter's pattern %q does not match the body %s", c.q, w, b)
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
	if _, pre, _ := (Search{Case: "KS 2026/8001"}).matcher(); len(pre.like) != 1 || pre.like[0] != `%"case":"%2%0%2%6%8%0%0%1%` {
		t.Errorf("pre-filter for a case number: %q", pre.like)
	}
	if _, _, err := (Search{Case: " / - "}).matcher(); err == nil {
		t.Error("a case search with nothing to find was accepted")
	}
}

// likeMatch is ILIKE on lower-cased text for patterns of literal text and
// %, as caseInOrder writes them.
func likeMatch(pattern, s string) bool {
	parts := strings.Split(strings.ToLower(pattern), "%")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// Case numbers are found by a part, spaces, dashes, slashes and letter
// case aside; what is not in the number is not found.
func TestCaseSearchMatches(t *testing.T) {
	for _, c := range []struct {
		caseNo, q string
		want      bool
	}{
		{"SN 2026/118", "2026/118", true},
		{"SN 2026/118", "SN2026/118", true},
		{"SN 2026/118", "sn-2026", true},
		{"SN 2026/118", "2026/119", false},
		{"SN 2026/118", "KS 2026/118", false},
		{"", "2026", false},
	} {
		match, _, err := (Search{Case: c.q}).matcher()
		if err != nil {
			t.Fatal(err)
		}
		if got := match(&auditlog.Entry{Case: c.caseNo}); got != c.want {
			t.Errorf("%q in %q: %v", c.q, c.caseNo, got)
		}
	}
}
