// Package pnr recognises Swedish personnummer and samordningsnummer and
// masks them, so that they stay out of everything kuvert writes in the
// clear: log entries, archive names, e-mail subjects.
//
// A candidate counts only if its date is a real date (samordningsnummer:
// day + 60) and its Luhn check digit is right; Luhn alone would pass about
// one random 10-digit string in ten. The package never returns or logs a
// full number, only masked forms such as 19850312-****.
package pnr

import (
	"regexp"
	"strconv"
	"time"
)

// candidate matches 10 or 12 digits with an optional - or + before the
// last four, not inside a longer run of digits.
var candidate = regexp.MustCompile(`(?:^|[^0-9])((?:19|20)?[0-9]{6})([-+]?)([0-9]{4})(?:[^0-9]|$)`)

// Match is one number found in a text.
type Match struct {
	Start, End   int    // byte offsets of the number in the text
	Masked       string // e.g. 19850312-**** or 850312-****
	Coordination bool   // samordningsnummer (day + 60)
}

// Valid reports whether s is a personnummer or samordningsnummer in one
// of the forms YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYYYMMDD-NNNC,
// YYYYMMDDNNNC.
func Valid(s string) bool {
	m := candidate.FindStringSubmatchIndex(s)
	if m == nil || m[2] != 0 || m[7] != len(s) {
		return false
	}
	_, ok := check(s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]])
	return ok
}

// FindAll returns every valid number in text, in order.
func FindAll(text string) []Match {
	var out []Match
	for pos := 0; pos < len(text); {
		m := candidate.FindStringSubmatchIndex(text[pos:])
		if m == nil {
			break
		}
		date, sep, tail := text[pos+m[2]:pos+m[3]], text[pos+m[4]:pos+m[5]], text[pos+m[6]:pos+m[7]]
		if coord, ok := check(date, sep, tail); ok {
			sepOut := sep
			if sepOut == "" {
				sepOut = "-"
			}
			out = append(out, Match{Start: pos + m[2], End: pos + m[7], Masked: date + sepOut + "****", Coordination: coord})
		}
		// Continue after the date part: the match consumed one delimiter
		// on each side, which may start the next number.
		pos += m[3]
	}
	return out
}

// Mask replaces every valid number in text by its masked form.
func Mask(text string) string {
	ms := FindAll(text)
	if len(ms) == 0 {
		return text
	}
	var b []byte
	last := 0
	for _, m := range ms {
		b = append(b, text[last:m.Start]...)
		b = append(b, m.Masked...)
		last = m.End
	}
	return string(append(b, text[last:]...))
}

// check validates the date (YYMMDD or YYYYMMDD) and the Luhn digit over
// the 10-digit form.
func check(date, sep, tail string) (coordination, ok bool) {
	ten := date + tail
	if len(ten) == 12 {
		ten = ten[2:]
	}
	year, _ := strconv.Atoi(date[:len(date)-4])
	month, _ := strconv.Atoi(date[len(date)-4 : len(date)-2])
	day, _ := strconv.Atoi(date[len(date)-2:])
	if day > 60 {
		day -= 60
		coordination = true
	}
	if len(date) == 6 {
		// Two-digit year: any century will do for the date check, but
		// 29 February needs a leap year in one of them.
		if !validDate(1900+year, month, day) && !validDate(2000+year, month, day) {
			return false, false
		}
	} else if !validDate(year, month, day) {
		return false, false
	}
	if sep == "+" && len(date) == 8 {
		return false, false // + only marks age 100+ in the 10-digit form
	}
	return coordination, luhn(ten)
}

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return t.Day() == d && t.Month() == time.Month(m)
}

// luhn checks a 10-digit string with weights 2,1,2,1,…
func luhn(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[i] - '0')
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
