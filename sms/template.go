package sms

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Default message templates (the SMS says who sends it and what
// to expect). Each names the organisation the recipient knows, says that
// an e-mail with an encrypted attachment comes from it, and warns never to
// reply with the password; no link, no urgency, no file name, no case
// number, no personnummer (an SMS is read on locked screens). With the
// longest organisation name ([MaxOrganisation]) and a generated password
// (23 characters) each is one GSM-7 segment. The password comes last so
// that a phone offers to copy it whole.
var Templates = map[string]string{
	"sv": "Lösenord till krypterad bilaga i e-post från {org}. Svara aldrig med lösenordet. Ref {ref}: {password}",
	"en": "Password for the encrypted attachment in an e-mail from {org}. Never reply with the password. Ref {ref}: {password}",
}

// LinkTemplates are the default texts when the organisation publishes the
// recipient page (config opener_url): they say where the attachment
// opens, still without urgency, and still one segment with a generated
// password when the organisation name and the address together are short
// enough (49 characters in Swedish, 46 in English; [Policy.Check] says so
// otherwise). The address keeps its https://: a phone turns an address
// without a scheme into http://, where anyone on the recipient's network
// could serve a look-alike page that collects the password.
var LinkTemplates = map[string]string{
	"sv": "Bilagan i e-post från {org} öppnar du på {url} Svara aldrig med lösenordet. Ref {ref}, lösenord: {password}",
	"en": "E-mail from {org}: open the attachment at {url} Never reply with the password. Ref {ref}, password: {password}",
}

// TestTemplate is the harmless text of `kuvert sms test`. It claims
// nothing the sender cannot know: only the phone that shows it proves the
// number works.
var TestTemplate = map[string]string{
	"sv": "Test från {org}: om du läser detta når sms fram till numret. Inget lösenord i detta meddelande.",
	"en": "Test from {org}: if you can read this, SMS reach this number. No password in this message.",
}

// Placeholders a template may use. {sender} is the older name of {org}
// and means the same, so templates written before kuvert named the
// organisation keep working.
var Placeholders = []string{"org", "sender", "ref", "password", "url"}

// CheckOpenerURL checks the recipient page's public address for use in an
// SMS and an e-mail and returns how the SMS shows it (https:// kept, a
// final / dropped). Only https: a recipient must not be sent to a page that
// anyone on the way could change. No user name, query or fragment; only
// characters an SMS carries in one septet each.
func CheckOpenerURL(raw string) (shown string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("the recipient page's address %q must be a plain https:// address (no user name, ? or #)", raw)
	}
	shown = "https://" + strings.TrimSuffix(u.Host+u.EscapedPath(), "/")
	for _, r := range shown {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(gsm7Ext+"{}", r) {
			return "", fmt.Errorf("the recipient page's address %q has a character an SMS cannot carry plainly", raw)
		}
	}
	if len(shown) > 68 {
		return "", fmt.Errorf("the recipient page's address is %d characters; at most 68 fit an SMS", len(shown))
	}
	return shown, nil
}

// MaxOrganisation is the longest organisation name, in GSM-7 characters,
// that goes into an SMS: "Ekonomienheten, Sundsvalls kommun" is 33 and
// too long, "Sundsvalls kommun, Lön" fits. With it the default texts stay
// one segment.
const MaxOrganisation = 32

// DemoOrganisation stands in for a missing organisation name in the demo
// provider only, visibly a placeholder.
const DemoOrganisation = "<organisation saknas>"

// ErrNoOrganisation is returned when a real provider would send a text
// without the name of the organisation behind it.
var ErrNoOrganisation = errors.New("no organisation name for the SMS: recipients must see who sends it")

// gsm7Basic is the GSM 03.38 basic character set (one septet each).
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsm7Ext costs two septets each (escape + character).
const gsm7Ext = "^{}\\[~]|€\f"

// GSM7 is every character an SMS can carry without switching to UCS-2:
// the basic set, then the extension set. Tests use it.
const GSM7 = gsm7Basic + gsm7Ext

// SingleSegment is what fits one SMS in GSM-7.
const SingleSegment = 160

// Septets counts the GSM-7 length of s, or returns an error naming the
// first character that would turn the message into UCS-2 (70 characters a
// segment, and some phones show it badly). Never call it on text that
// holds a password: the error quotes the character.
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

// Render fills in a template in one pass over the template: each
// {name} is replaced by its value, and the values are never read again, so
// a password that contains "{ref}" or "}" arrives exactly as it is (issue
// 13, item 5). An unknown placeholder is an error, so a typo cannot send
// "{pasword}" to a recipient. A brace that opens no placeholder ("{ x",
// a lone "}") is text.
func Render(tmpl string, vars map[string]string) (string, error) {
	var b strings.Builder
	rest := tmpl
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := strings.IndexAny(rest[i+1:], "{}")
		if j < 0 || rest[i+1+j] == '{' {
			// No placeholder starts here: keep the brace as text.
			b.WriteByte('{')
			rest = rest[i+1:]
			continue
		}
		name := rest[i+1 : i+1+j]
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("unknown placeholder {%s} in the SMS template (use {org}, {ref}, {password})", name)
		}
		b.WriteString(v)
		rest = rest[i+1+j+1:]
	}
}

// CheckOrganisation checks a name for the SMS: not empty, GSM-7, at most
// [MaxOrganisation] characters, one line, no braces and no web address
// (a text with a link looks like phishing; links belong in a template the
// organisation chose).
func CheckOrganisation(name string) error {
	if strings.TrimSpace(name) == "" {
		return ErrNoOrganisation
	}
	if strings.ContainsAny(name, "\r\n\f{}") {
		return fmt.Errorf("the organisation name %q must be one line without { }", name)
	}
	n, err := Septets(name)
	if err != nil {
		return fmt.Errorf("the organisation name: %v", err)
	}
	if n > MaxOrganisation {
		return fmt.Errorf("the organisation name %q is %d characters; at most %d fit in the SMS", name, n, MaxOrganisation)
	}
	l := strings.ToLower(name)
	if strings.Contains(l, "://") || strings.Contains(l, "www.") {
		return fmt.Errorf("the organisation name %q holds a web address; a text with a link looks like phishing", name)
	}
	return nil
}

// CheckTemplate renders tmpl with an organisation name and a worst-case
// password of pwLen characters and checks that the result is GSM-7 and one
// segment. kuvert runs this before sealing anything.
func CheckTemplate(tmpl, org string, pwLen int) (septets int, err error) {
	if !strings.Contains(tmpl, "{password}") {
		return 0, fmt.Errorf("the SMS template has no {password}")
	}
	body, err := Render(tmpl, textVars(org, strings.Repeat("x", 6), strings.Repeat("x", pwLen)))
	if err != nil {
		return 0, err
	}
	n, err := Septets(body)
	if err != nil {
		return 0, fmt.Errorf("the SMS text: %v", err)
	}
	if n > SingleSegment {
		return n, fmt.Errorf("the SMS text is %d characters with the password; one SMS holds %d: shorten the template, the organisation name or the recipient page's address (opener_url)", n, SingleSegment)
	}
	return n, nil
}

func textVars(org, ref, password string) map[string]string {
	return map[string]string{"org": org, "sender": org, "ref": ref, "password": password}
}

// HasRef reports whether an SMS text carries the reference ("ref REF",
// either case), so a resumed batch can find a text it sent.
func HasRef(body, ref string) bool {
	if ref == "" {
		return false
	}
	l := strings.ToLower(body)
	return strings.Contains(l, "ref "+strings.ToLower(ref))
}
