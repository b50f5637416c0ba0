package mailrelay

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/net/idna"
)

// ErrAddress is a recipient address kuvert will not mail to.
var ErrAddress = errors.New("not an address kuvert mails to")

// Address checks a recipient's address and returns the form that goes on
// the wire: ASCII only, with an internationalised domain in its IDNA
// (punycode) form, because the relay is spoken to without SMTPUTF8
// (RFC 6531) and raw UTF-8 in RCPT TO is undefined there. It refuses
//   - anything but a bare address (no display name, no comments);
//   - a local part that is not ASCII (it has no ASCII form);
//   - invisible characters (Unicode category Cf: zero-width, bidi
//     controls), which make two different addresses look the same;
//   - an IP-literal domain (user@[192.0.2.1]): mail for a person goes to
//     a name, never straight to a machine;
//   - a domain label that mixes scripts beyond what Unicode TS 39
//     "highly restrictive" allows (Latin with Cyrillic or Greek — the
//     look-alikes of "kommun.se" written with Cyrillic letters), or that
//     IDNA 2008 (UTS 46, transitional processing off) refuses.
//
// The errors wrap [ErrAddress] and do not repeat the address.
func Address(addr string) (string, error) {
	if strings.IndexFunc(addr, func(c rune) bool { return unicode.Is(unicode.Cf, c) }) >= 0 {
		return "", fmt.Errorf("%w: it holds invisible characters (zero-width or direction marks)", ErrAddress)
	}
	if at := strings.LastIndexByte(addr, '@'); at >= 0 && strings.HasPrefix(addr[at+1:], "[") {
		return "", fmt.Errorf("%w: the domain is an IP address, not a name", ErrAddress)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", fmt.Errorf("%w: not a plain address (name@example.se)", ErrAddress)
	}
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	for _, c := range local {
		if c > unicode.MaxASCII {
			return "", fmt.Errorf("%w: the part before @ is not plain ASCII, and kuvert's mail relay takes no other", ErrAddress)
		}
	}
	uni, err := idnaProfile.ToUnicode(domain)
	if err != nil {
		return "", fmt.Errorf("%w: the domain is not a valid internationalised name", ErrAddress)
	}
	labels := strings.Split(uni, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%w: the domain has no dot", ErrAddress)
	}
	for _, l := range labels {
		if !singleScript(l) {
			return "", fmt.Errorf("%w: the domain mixes alphabets (e.g. Latin and Cyrillic letters that look alike)", ErrAddress)
		}
	}
	ascii, err := idnaProfile.ToASCII(uni)
	if err != nil {
		return "", fmt.Errorf("%w: the domain is not a valid internationalised name", ErrAddress)
	}
	return local + "@" + ascii, nil
}

// idnaProfile is IDNA 2008 as browsers and mail programs look names up
// (UTS 46 mapping, bidi and joiner rules, STD3 host names).
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true),
	idna.StrictDomainName(true), idna.Transitional(false))

// scriptTables are the scripts kuvert tells apart; letters of any other
// script count as one script "other", which mixes with none of these.
var scriptTables = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
	{"Armenian", unicode.Armenian}, {"Han", unicode.Han}, {"Hiragana", unicode.Hiragana},
	{"Katakana", unicode.Katakana}, {"Hangul", unicode.Hangul}, {"Bopomofo", unicode.Bopomofo},
	{"Arabic", unicode.Arabic}, {"Hebrew", unicode.Hebrew}, {"Georgian", unicode.Georgian},
	{"Cherokee", unicode.Cherokee}, {"Thai", unicode.Thai}, {"Devanagari", unicode.Devanagari},
}

// singleScript reports whether a label's letters come from one script, or
// from one of the combinations Unicode TS 39 section 5.2 ("highly
// restrictive") allows: Latin + Han + Hiragana + Katakana, Latin + Han +
// Bopomofo, Latin + Han + Hangul. Digits, "-" and marks (Common,
// Inherited) belong to every script.
func singleScript(label string) bool {
	seen := map[string]bool{}
	for _, c := range label {
		if !unicode.IsLetter(c) {
			continue
		}
		name := "other" // a script not in the table: never mixed with one that is
		for _, s := range scriptTables {
			if unicode.Is(s.table, c) {
				name = s.name
				break
			}
		}
		seen[name] = true
	}
	if len(seen) <= 1 {
		return true
	}
	for _, allowed := range [][]string{{"Latin", "Han", "Hiragana", "Katakana"}, {"Latin", "Han", "Bopomofo"}, {"Latin", "Han", "Hangul"}} {
		ok := true
		for s := range seen {
			if !slices.Contains(allowed, s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
