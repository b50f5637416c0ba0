package personnummer

import "testing"

func TestRemove(t *testing.T) {
	for in, want := range map[string]string{
		"intyg_811218-9876":            "intyg",
		"811218-9876_intyg":            "intyg",
		"intyg 811218-9876 Andersson":  "intyg Andersson",
		"a 811218-9876 b 8112189876 c": "a b c",
		"811218-9876":                  "",
		"tel 070-123 45 67":            "tel 070-123 45 67",
	} {
		if got := Remove(in); got != want {
			t.Errorf("Remove(%q) = %q, want %q", in, got, want)
		}
	}
}
