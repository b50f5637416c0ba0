package sms

import "testing"

func TestIsMasked(t *testing.T) {
	// Every form MaskNumber writes is masked.
	for _, n := range []string{"+46701234567", "+4687654321", "+4790012345", "+358401234567", "+12025550123", "+4612", "not a number"} {
		if m := MaskNumber(n); !IsMasked(m) {
			t.Errorf("MaskNumber(%s) = %q, not taken as masked", n, m)
		}
	}
	for _, s := range []string{
		"+46701234567", "+46 70-123 45 67", "070-123 45 67", "0701234567",
		"+46 70-1** ** 67", "+46 70-*** *4 67", "+47 90**1**12", "+46 ", "", "+46 70-*** ** 67\n",
		"+4670 ***", "+46 70-*** ** 67 personnummer 19850312-1234",
	} {
		if IsMasked(s) {
			t.Errorf("%q taken as a masked number", s)
		}
	}
}
