package sms

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Default message templates. No file name, no case number, no
// personnummer: an SMS can be read on a locked screen.
var Templates = map[string]string{
	"sv": "Lösenord till krypterad bilaga från {sender}, ref {ref}: {password}",
	"en": "Password for the encrypted attachment from {sender}, ref {ref}: {password}",
}

// TestTemplate is the harmless text of `kuvert sms test`.
var TestTemplate = map[string]string{
	"sv": "Test från kuvert ({sender}): sms till detta nummer fungerar. Inget lösenord i detta meddelande.",
	"en": "Test from kuvert ({sender}): SMS to this number works. No password in this message.",
}

// gsm7Basic is the GSM 03.38 basic character set (one septet each).
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7Ext costs two septets each (escape + character).
const gsm7Ext = "^{}\\[~]|€\f"

// SingleSegment is what fits one SMS in GSM-7.
const SingleSegment = 160

// Septets counts the GSM-7 length of s, or returns an error naming the
// first character that would turn the message into UCS-2 (70 characters a
// segment, and some phones show it badly).
func Septets(s string) (int, error) {
	n := 0
	for i, r := range s {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			n++
		case strings.ContainsRune(gsm7Ext, r):
			n += 2
		default:
			return 0, fmt.Errorf("the character %q at position %d is not in the GSM-7 alphabet (typographic quotes, dashes and emoji are not)", r, utf8.RuneCountInString(s[:i])+1)
		}
	}
	return n, nil
}

// Segments is how many SMS a GSM-7 text of n septets costs.
func Segments(n int) int {
	if n <= SingleSegment {
		return 1
	}
	return (n + 152) / 153
}

// Render fills in a template. Unknown placeholders are an error, so a
// typo cannot send "{pasword}" to a recipient.
func Render(tmpl string, vars map[string]string) (string, error) {
	out := tmpl
	for k, v := range vars {
		out = strings.ReplaceAll(out, "{"+k+"}", v)
	}
	if i := strings.IndexByte(out, '{'); i >= 0 {
		if j := strings.IndexByte(out[i:], '}'); j > 0 {
			return "", fmt.Errorf("unknown placeholder %s in the SMS template (use {sender}, {ref}, {password})", out[i:i+j+1])
		}
	}
	return out, nil
}

// CheckTemplate renders tmpl with a sender name and a worst-case password
// of pwLen characters and checks that the result is GSM-7 and one
// segment. kuvert runs this before sealing anything.
func CheckTemplate(tmpl, sender string, pwLen int) (septets int, err error) {
	if !strings.Contains(tmpl, "{password}") {
		return 0, fmt.Errorf("the SMS template has no {password}")
	}
	body, err := Render(tmpl, map[string]string{"sender": sender, "ref": strings.Repeat("x", 6), "password": strings.Repeat("x", pwLen)})
	if err != nil {
		return 0, err
	}
	n, err := Septets(body)
	if err != nil {
		return 0, fmt.Errorf("the SMS text: %v", err)
	}
	if n > SingleSegment {
		return n, fmt.Errorf("the SMS text is %d characters with the password; one SMS holds %d: shorten the template or the sender name", n, SingleSegment)
	}
	return n, nil
}
