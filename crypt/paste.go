package crypt

import (
	"errors"
	"strings"
	"unicode"
)

// MaxPasteCandidates bounds how many readings of a pasted password are
// tried: an age archive costs a second of scrypt per try.
const MaxPasteCandidates = 4

// PasteCandidates returns the passwords to try for what a recipient typed
// or pasted, in order: the input exactly as given, then — only where the
// input holds the shape of a password kuvert generates — that password as
// kuvert wrote it. A phone's paste adds a space at either end, capitalises
// the first letter, puts spaces where the dashes were or drops them, or
// pastes the whole SMS; none of that is what was sealed.
//
// The shape is a run of 17 to [MaxLength] characters of [Alphabet] (17 is
// the fewest that give [MinGeneratedBits]), in any case, with dashes,
// spaces or nothing between them; it is written back in groups of
// [DefaultGroupSize] joined by dashes. A password the user chose is never
// altered: an input without the shape gives only itself.
func PasteCandidates(input string) []string {
	out := []string{input}
	add := func(c string) {
		for _, o := range out {
			if o == c {
				return
			}
		}
		if len(out) < MaxPasteCandidates {
			out = append(out, c)
		}
	}
	for _, run := range alphabetRuns(input) {
		add(regroup(run))
	}
	return out
}

// alphabetRuns finds the passwords of generated shape in s, lower-cased,
// with the separators a paste may leave between groups taken out. A
// character outside the alphabet (o, i, l, 0, 1, å, a colon …) ends a
// run, so most words of an SMS around the password do not join it; where
// words of alphabet letters do ("Ref abc234 k7pq2 x3mhb …"), the longest
// stretch of five-letter groups is the password.
func alphabetRuns(s string) []string {
	var runs []string
	var tokens []string
	var cur strings.Builder
	endToken := func() {
		if cur.Len() > 0 {
			tokens = append(tokens, cur.String())
			cur.Reset()
		}
	}
	endRun := func() {
		endToken()
		if r, ok := passwordIn(tokens); ok {
			runs = append(runs, r)
		}
		tokens = tokens[:0]
	}
	for _, r := range s {
		lr := unicode.ToLower(r)
		switch {
		case lr < unicode.MaxASCII && strings.ContainsRune(Alphabet, lr):
			cur.WriteRune(lr)
		case isPasteSeparator(r):
			endToken()
		default:
			endRun()
		}
	}
	endRun()
	return runs
}

// passwordIn picks the password out of a run's tokens: one token of the
// right length (the dashes dropped), or the longest stretch of tokens
// that are groups of five (the last may be shorter) and long enough.
func passwordIn(tokens []string) (string, bool) {
	fits := func(n int) bool { return n >= 17 && n <= MaxLength }
	if len(tokens) == 1 {
		return tokens[0], fits(len(tokens[0]))
	}
	best := ""
	for i := range tokens {
		joined := ""
		for j := i; j < len(tokens); j++ {
			t := tokens[j]
			if len(t) > DefaultGroupSize || j > i && len(tokens[j-1]) != DefaultGroupSize {
				break
			}
			joined += t
			if fits(len(joined)) && len(joined) > len(best) {
				best = joined
			}
		}
	}
	return best, best != ""
}

// isPasteSeparator: what stands between groups after a paste: the dash,
// the dashes a phone's keyboard substitutes, spaces of every kind.
func isPasteSeparator(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '−':
		return true
	}
	return unicode.IsSpace(r)
}

// regroup writes a run as [Generate] does: groups of five joined by dashes.
func regroup(run string) string {
	var b strings.Builder
	for i, r := range run {
		if i > 0 && i%DefaultGroupSize == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TryPasted calls open with each of [PasteCandidates] of password in turn
// until one is not the wrong password, and returns its result: the exact
// input first, so a password that works as typed is the one used. An
// empty password is tried as it is (an age key may be all there is).
func TryPasted(password string, open func(password string) error) error {
	var err error
	for _, pw := range PasteCandidates(password) {
		if err = open(pw); !errors.Is(err, ErrWrongPassword) {
			return err
		}
	}
	return err
}
