package sms

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ParseMobile reads a phone number as staff type it ("070-123 45 67",
// "0046701234567", "+46 70 123 45 67") and returns it in E.164
// (+46701234567). Swedish is the default region; foreign numbers need
// their + prefix. Landlines, service numbers (020, 0900) and invalid
// numbers are refused with a message that shows what was understood.
func ParseMobile(s string) (string, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return "", &NumberError{Input: s, Problem: NumberEmpty}
	}
	if strings.HasPrefix(in, "00") {
		in = "+" + in[2:]
	}
	n, err := phonenumbers.Parse(in, "SE")
	if err != nil {
		return "", &NumberError{Input: s, Problem: NumberUnreadable}
	}
	region := phonenumbers.GetRegionCodeForNumber(n)
	intl := phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
	if region == "" || !phonenumbers.IsValidNumberForRegion(n, region) {
		return "", &NumberError{Input: s, Problem: NumberInvalid, ReadAs: intl}
	}
	switch t := phonenumbers.GetNumberType(n); t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	default:
		return "", &NumberError{Input: s, Problem: NumberNotMobile, ReadAs: intl, Kind: typeName(t)}
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NumberProblem says what is wrong with a number, so that a shell (the
// desktop app) can explain it in the user's language.
type NumberProblem int

const (
	NumberEmpty      NumberProblem = iota + 1 // nothing typed
	NumberUnreadable                          // not a phone number at all
	NumberInvalid                             // no such number (ReadAs says how it was read)
	NumberNotMobile                           // a real number, but not a mobile (Kind says what)
)

// NumberError is ParseMobile's refusal.
type NumberError struct {
	Input   string
	Problem NumberProblem
	ReadAs  string // the number as understood, international format
	Kind    string // for NumberNotMobile: landline, toll-free, premium-rate, …
}

func (e *NumberError) Error() string {
	switch e.Problem {
	case NumberEmpty:
		return "no mobile number given"
	case NumberUnreadable:
		return fmt.Sprintf("%q is not a phone number", e.Input)
	case NumberInvalid:
		return fmt.Sprintf("%q is not a valid phone number (read as %s)", e.Input, e.ReadAs)
	}
	return fmt.Sprintf("%q is a %s number (%s), not a mobile number: an SMS cannot reach it", e.Input, e.Kind, e.ReadAs)
}

func typeName(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.FIXED_LINE:
		return "landline"
	case phonenumbers.TOLL_FREE:
		return "toll-free"
	case phonenumbers.PREMIUM_RATE:
		return "premium-rate"
	case phonenumbers.SHARED_COST:
		return "shared-cost"
	case phonenumbers.VOIP:
		return "VoIP"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "company"
	case phonenumbers.VOICEMAIL:
		return "voicemail"
	}
	return "non-mobile"
}

// MaskNumber hides the middle of a number for logs and screens: Swedish
// mobiles as +46 70-*** ** 67, others as +47 9*****12.
func MaskNumber(e164 string) string {
	n, err := phonenumbers.Parse(e164, "SE")
	if err != nil {
		return "***"
	}
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	cc := fmt.Sprintf("+%d", n.GetCountryCode())
	if len(nsn) < 5 {
		return cc + " ***"
	}
	if cc == "+46" && len(nsn) == 9 {
		return fmt.Sprintf("%s %s-*** ** %s", cc, nsn[:2], nsn[7:])
	}
	return fmt.Sprintf("%s %s%s%s", cc, nsn[:1], strings.Repeat("*", len(nsn)-3), nsn[len(nsn)-2:])
}

// Region is the region (ISO 3166 code, "SE") of a number from
// [ParseMobile], or "" if it has none.
func Region(e164 string) string {
	n, err := phonenumbers.Parse(e164, "SE")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(n)
}
