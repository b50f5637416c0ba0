package personnummer

import (
	"strings"
	"testing"
)

// Test numbers: Skatteverket's published test personnummer have valid
// check digits; 811218-9876 and 19850312-XXXX forms below are computed.
func TestValid(t *testing.T) {
	for _, c := range []struct {
		s  string
		ok bool
	}{
		{"811218-9876", true},
		{"8112189876", true},
		{"19811218-9876", true},
		{"198112189876", true},
		{"811218+9876", true},  // 100 years or older
		{"811278-9873", true},  // samordningsnummer: day 18 + 60
		{"811218-9875", false}, // wrong check digit
		{"811318-9870", false}, // month 13
		{"810230-9876", false}, // 30 February
		{"19811218+9876", false},
		{"070-1234567", false},
		{"0701234567", false}, // a phone number: month 01, day 23 but Luhn fails
		{"12345", false},
	} {
		if got := Valid(c.s); got != c.ok {
			t.Errorf("Valid(%q) = %v, want %v", c.s, got, c.ok)
		}
	}
}

func TestFindAndMask(t *testing.T) {
	text := "lönelista_19811218-9876.xlsx och 8112189876, ordernr 1234567890123, tel 070-123 45 67, datum 2026-03-12"
	ms := FindAll(text)
	if len(ms) != 2 {
		t.Fatalf("found %d: %+v", len(ms), ms)
	}
	got := Mask(text)
	want := "lönelista_19811218-****.xlsx och 811218-****, ordernr 1234567890123, tel 070-123 45 67, datum 2026-03-12"
	if got != want {
		t.Fatalf("Mask = %q", got)
	}
	if strings.Contains(got, "9876") {
		t.Fatal("digits left unmasked")
	}
	// Adjacent numbers separated by one character are both found.
	if n := len(FindAll("811218-9876,811218-9876")); n != 2 {
		t.Fatalf("adjacent: %d", n)
	}
}

// People write the number with other separators in file names and notes;
// each of these used to reach the compliance log unmasked.
func TestSeparatorsAsTyped(t *testing.T) {
	for _, in := range []string{
		"lista_19811218_9876.txt", "lista 19811218 9876.txt", "lista_19811218–9876.txt",
		"lista_811218 9876.txt", "pnr 811218_9876", "KS 19811218.9876", "811218\u00a09876", "811218−9876",
		"Anna 811218\u20109876 lön.pdf", "Anna 811218\u20119876 lön.pdf", "811218\u20129876", "811218\u20149876", "811218\ufe639876", "811218\uff0d9876",
	} {
		got := Mask(in)
		if strings.Contains(got, "9876") {
			t.Errorf("Mask(%q) = %q", in, got)
		}
		if len(FindAll(in)) != 1 {
			t.Errorf("FindAll(%q) = %v", in, FindAll(in))
		}
	}
	// Not a personnummer: a wrong check digit, or too many digits after.
	for _, in := range []string{"811218 9875", "811218_98761", "20261123 1200"} {
		if ms := FindAll(in); len(ms) != 0 {
			t.Errorf("FindAll(%q) = %v", in, ms)
		}
	}
}
