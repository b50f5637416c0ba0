package sms

import "strings"

// IsMasked reports whether s is a phone number as [MaskNumber] writes it
// (+46 70-*** ** 67, +47 9*****12, +46 ***, ***): at most four digits
// shown after the country code, the rest hidden. A full or barely hidden
// number is not: the central log refuses an entry whose delivery holds
// one, since a record of sent mail is public and must not hold numbers.
func IsMasked(s string) bool {
	rest := s
	if strings.HasPrefix(s, "+") {
		cc, r, ok := strings.Cut(s[1:], " ")
		if !ok || len(cc) < 1 || len(cc) > 3 || strings.Trim(cc, "0123456789") != "" {
			return false
		}
		rest = r
	}
	digits, stars := 0, 0
	for _, c := range rest {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '*':
			stars++
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	return digits <= 4 && stars >= 3
}
