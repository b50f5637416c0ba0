package crypt

import (
	"slices"
	"testing"
)

// What phones and people do to a pasted password, and what kuvert tries:
// the input first, then the generated password it holds. A password the
// user chose is never altered.
func TestPasteCandidates(t *testing.T) {
	const pw = "k7pq2-x3mhb-9rtw4-ndc8f"
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"exact", pw, []string{pw}},
		{"trailing space", pw + " ", []string{pw + " ", pw}},
		{"leading space and newline", " " + pw + "\n", []string{" " + pw + "\n", pw}},
		{"capital first letter", "K7pq2-x3mhb-9rtw4-ndc8f", []string{"K7pq2-x3mhb-9rtw4-ndc8f", pw}},
		{"spaces for dashes", "k7pq2 x3mhb 9rtw4 ndc8f", []string{"k7pq2 x3mhb 9rtw4 ndc8f", pw}},
		{"no dashes", "k7pq2x3mhb9rtw4ndc8f", []string{"k7pq2x3mhb9rtw4ndc8f", pw}},
		{"en dashes from autocorrect", "k7pq2–x3mhb–9rtw4–ndc8f", []string{"k7pq2–x3mhb–9rtw4–ndc8f", pw}},
		{"spaced dashes", "k7pq2 - x3mhb - 9rtw4 - ndc8f", []string{"k7pq2 - x3mhb - 9rtw4 - ndc8f", pw}},
		{"the whole Swedish SMS", "Lösenord till krypterad bilaga i e-post från Sundsvalls kommun. Svara aldrig med lösenordet. Ref abc234: " + pw,
			[]string{"Lösenord till krypterad bilaga i e-post från Sundsvalls kommun. Svara aldrig med lösenordet. Ref abc234: " + pw, pw}},
		{"the whole SMS without the colon", "Ref abc234 K7PQ2 X3MHB 9RTW4 NDC8F", []string{"Ref abc234 K7PQ2 X3MHB 9RTW4 NDC8F", pw}},
		{"a longer generated one", "  ABCDE fghjk mnpqr stuvw xyz23 456", []string{"  ABCDE fghjk mnpqr stuvw xyz23 456", "abcde-fghjk-mnpqr-stuvw-xyz23-456"}},
		// The user's own passwords: left as they are.
		{"own password with spaces", " Sommar i Sundsvall 2026! ", []string{" Sommar i Sundsvall 2026! "}},
		{"own password of alphabet letters, too short", "Hemligt-Ord-23", []string{"Hemligt-Ord-23"}},
		{"words passphrase", "correct-horse-battery-staple-ninja-cloud-river", []string{"correct-horse-battery-staple-ninja-cloud-river"}},
		{"empty", "", []string{""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := PasteCandidates(c.in); !slices.Equal(got, c.want) {
				t.Fatalf("%q:\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

// However much is pasted, few passwords are tried.
func TestPasteCandidatesBounded(t *testing.T) {
	in := ""
	for range 20 {
		in += "abcde fghjk mnpqr stuvw : "
	}
	if n := len(PasteCandidates(in)); n > MaxPasteCandidates {
		t.Fatalf("%d candidates", n)
	}
}

// Every password kuvert generates is found again in its mangled forms.
func TestGeneratedSurvivesPaste(t *testing.T) {
	for _, n := range []int{17, 20, 23, 40, MaxLength} {
		p, err := Generate(GenOptions{Length: n})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []string{" " + p.Value + " ", toUpperFirst(p.Value), stripDashes(p.Value)} {
			if got := PasteCandidates(in); !slices.Contains(got, p.Value) {
				t.Fatalf("length %d: %q gave %q", n, in, got)
			}
		}
	}
}

func toUpperFirst(s string) string {
	b := []byte(s)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

func stripDashes(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			out = append(out, s[i])
		}
	}
	return string(out)
}
