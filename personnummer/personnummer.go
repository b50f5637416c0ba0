// Package personnummer recognises Swedish personnummer and samordningsnummer and
// masks them, so that they stay out of everything kuvert writes in the
// clear: log entries, archive names, e-mail subjects.
//
// A candidate counts only if its date is a real date (samordningsnummer:
// day + 60) and its Luhn check digit is right; Luhn alone would pass about
// one random 10-digit string in ten. The package never returns or logs a
// full number, only masked forms such as 19850312-****.
package personnummer

import (
	"strings"
	"time"
)

// Match is one number found in a text.
type Match struct {
	Start, End   int    // byte offsets of the number in the text
	Masked       string // e.g. 19850312-**** or 850312-****
	Coordination bool   // samordningsnummer (day + 60)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// separator reads what may stand between the date and the last four
// digits as people write them: - or + (the official forms), and a space,
// _, . or one of [dashes] (file names and notes as typed). It returns '+' for +, '-' for every other one, and the
// separator's width in bytes (0: none).
func separator(b []byte) (byte, int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch b[0] {
	case '+':
		return '+', 1
	case '-', ' ', '_', '.':
		return '-', 1
	}
	for _, s := range dashes {
		if len(b) >= len(s) && string(b[:len(s)]) == s {
			return '-', len(s)
		}
	}
	return 0, 0
}

// dashes are the other characters word processors and phones put where
// people type a hyphen: hyphen, non-breaking hyphen, figure dash, en and
// em dash, minus sign, small and full-width hyphen-minus, and a no-break
// space.
var dashes = []string{"\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\ufe63", "\uff0d", "\u00a0"}

// find calls fn for each candidate: a run of 10 or 12 digits, or a run of
// 6 or 8 digits, then a separator ([separator]), then a run of exactly 4
// digits. Runs that
// touch further digits never match, so order numbers and long ids do not.
// It is a byte scanner, not a regexp: it runs at memory speed.
func find(b []byte, fn func(start, end int, date []byte, sep byte, tail []byte)) {
	n := len(b)
	for i := 0; i < n; {
		if !isDigit(b[i]) {
			i++
			continue
		}
		j := i + 1
		for j < n && isDigit(b[j]) {
			j++
		}
		run := j - i
		switch {
		case run == 10 || run == 12:
			fn(i, j, b[i:j-4], 0, b[j-4:j])
		case run == 6 || run == 8:
			sep, w := separator(b[j:])
			if w == 0 {
				break
			}
			k := j + w
			m := k
			for m < n && isDigit(b[m]) {
				m++
			}
			if m-k == 4 {
				fn(i, m, b[i:j], sep, b[k:m])
				j = m
			}
		}
		i = j
	}
}

// Valid reports whether s is a personnummer or samordningsnummer in one
// of the forms YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYYYMMDD-NNNC,
// YYYYMMDDNNNC.
func Valid(s string) bool {
	ok := false
	find([]byte(s), func(start, end int, date []byte, sep byte, tail []byte) {
		if start == 0 && end == len(s) {
			_, ok = check(date, sep, tail)
		}
	})
	return ok
}

// FindAll returns every valid number in text, in order.
func FindAll(text string) []Match { return FindAllBytes([]byte(text)) }

// FindAllBytes is [FindAll] on bytes, without copying them.
func FindAllBytes(b []byte) []Match {
	var out []Match
	find(b, func(start, end int, date []byte, sep byte, tail []byte) {
		if coord, ok := check(date, sep, tail); ok {
			s := byte('-')
			if sep != 0 {
				s = sep
			}
			out = append(out, Match{Start: start, End: end, Masked: string(date) + string(s) + "****", Coordination: coord})
		}
	})
	return out
}

// Count returns how many valid numbers b holds, allocating nothing.
func Count(b []byte) int {
	n := 0
	find(b, func(start, end int, date []byte, sep byte, tail []byte) {
		if _, ok := check(date, sep, tail); ok {
			n++
		}
	})
	return n
}

// Mask replaces every valid number in text by its masked form
// (19850312-****).
func Mask(text string) string { return MaskWith(text, "****") }

// MaskWith is [Mask] with another mask, e.g. "xxxx" for file names, where
// Windows does not allow '*'.
func MaskWith(text, mask string) string {
	ms := FindAll(text)
	if len(ms) == 0 {
		return text
	}
	var b []byte
	last := 0
	for _, m := range ms {
		b = append(b, text[last:m.Start]...)
		b = append(b, strings.TrimSuffix(m.Masked, "****")+mask...)
		last = m.End
	}
	return string(append(b, text[last:]...))
}

// Remove takes every valid number out of text whole: no masked form is
// left, because the birth date is personal data too. The
// separators (space, _, -, .) that joined a number to its neighbours are
// merged into one, and none is left dangling at either end of a gap, so
// "intyg_811218-9876" becomes "intyg" and "intyg 811218-9876 Andersson"
// "intyg Andersson". For names that travel in the clear, such as archive
// names.
func Remove(text string) string {
	ms := FindAll(text)
	if len(ms) == 0 {
		return text
	}
	const seps = " _-."
	out := text[:ms[0].Start]
	for i, m := range ms {
		next := text[m.End:]
		if i+1 < len(ms) {
			next = text[m.End:ms[i+1].Start]
		}
		left, right := strings.TrimRight(out, seps), strings.TrimLeft(next, seps)
		var join string
		switch {
		case left == "" || right == "":
		case len(out) > len(left):
			join = out[len(left) : len(left)+1]
		case len(next) > len(right):
			join = next[:1]
		}
		out = left + join + right
	}
	return out
}

// check validates the date (YYMMDD or YYYYMMDD, century 19 or 20) and the
// Luhn digit over the 10-digit form.
func check(date []byte, sep byte, tail []byte) (coordination, ok bool) {
	if len(date) == 8 {
		if !(date[0] == '1' && date[1] == '9' || date[0] == '2' && date[1] == '0') {
			return false, false
		}
		if sep == '+' {
			return false, false // + marks age 100+ only in the 10-digit form
		}
	}
	num := func(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }
	d := len(date)
	month, day := num(date[d-4:d-2]), num(date[d-2:])
	if day > 60 {
		day -= 60
		coordination = true
	}
	if d == 6 {
		// Two-digit year: any century will do for the date check, but
		// 29 February needs a leap year in one of them.
		y := num(date[:2])
		if !validDate(1900+y, month, day) && !validDate(2000+y, month, day) {
			return false, false
		}
	} else if !validDate(num(date[:2])*100+num(date[2:4]), month, day) {
		return false, false
	}
	return coordination, luhn(date[d-6:], tail)
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && t.Month() == time.Month(m)
}

// luhn checks the 10 digits YYMMDD+NNNC with weights 2,1,2,1,…
func luhn(date6, tail []byte) bool {
	sum := 0
	for i := 0; i < 10; i++ {
		var c byte
		if i < 6 {
			c = date6[i]
		} else {
			c = tail[i-6]
		}
		d := int(c - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
