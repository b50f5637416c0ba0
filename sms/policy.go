package sms

import (
	"errors"
	"fmt"
	"strings"
)

// GeneratedLength is the length of kuvert's generated password (four
// groups of five: xxxxx-xxxxx-xxxxx-xxxxx, crypt.Generate's default); every
// template must fit one segment with it. envelope's tests hold it to the
// generator.
const GeneratedLength = 23

// Policy is everything kuvert needs to text a password: the provider and
// the words. It is built once, from the settings and a command's or a
// form's overrides, by providers.Build; the CLI, batch and the desktop app
// all use that one policy. Sending and
// logging live in envelope.SendPassword.
type Policy struct {
	// Sender is the provider. Wrappers (a rate limiter) may implement
	// Unwrap() Sender so that [IsDemo] and [RateLimit] still see it.
	Sender Sender
	// Template is the text with {org}, {ref} and {password}; empty means
	// the default of Lang.
	Template string
	// Lang is "sv" or "en": the language of the text and of the e-mail
	// draft; empty means "sv".
	Lang string
	// Organisation is the name the recipient knows, shown in every text.
	// Empty is allowed only with a demo provider, which shows
	// [DemoOrganisation] instead.
	Organisation string
	// OpenerURL is the recipient page's public address (config
	// opener_url); when set, the default text says the attachment opens
	// there.
	OpenerURL string
}

// template is the policy's template, or its language's default (the one
// with the recipient page's address when there is one), with {url}
// already filled in: the address was checked ([CheckOpenerURL]) and
// holds no placeholder, and the password is not involved yet.
func (p *Policy) template() (string, error) {
	lang := p.Lang
	if lang == "" {
		lang = "sv"
	}
	t := p.Template
	if t == "" {
		var ok bool
		if t, ok = Templates[lang]; !ok {
			return "", fmt.Errorf("unknown SMS language %q (use sv or en)", p.Lang)
		}
		if p.OpenerURL != "" {
			t = LinkTemplates[lang]
		}
	}
	if !strings.Contains(t, "{url}") {
		return t, nil
	}
	if p.OpenerURL == "" {
		return "", errors.New("the SMS template has {url}, but no address of the recipient page is set (opener_url)")
	}
	shown, err := CheckOpenerURL(p.OpenerURL)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(t, "{url}", shown), nil
}

// Org is the organisation name the texts show: the policy's, or with a
// demo provider [DemoOrganisation]. It fails with [ErrNoOrganisation]
// for a real provider without one.
func (p *Policy) Org() (string, error) {
	org := strings.TrimSpace(p.Organisation)
	if org == "" && (p.Sender == nil || !IsDemo(p.Sender)) {
		return "", ErrNoOrganisation
	}
	if org == "" {
		return DemoOrganisation, nil
	}
	if err := CheckOrganisation(org); err != nil {
		return "", err
	}
	return org, nil
}

// Check checks the policy before there is a password: the organisation,
// and that the template renders to one GSM-7 segment with a password of
// pwLen characters. Use it to refuse a batch or a form early; [Policy.Text]
// checks again with the real password.
func (p *Policy) Check(pwLen int) error {
	org, err := p.Org()
	if err != nil {
		return err
	}
	tmpl, err := p.template()
	if err != nil {
		return err
	}
	_, err = CheckTemplate(tmpl, org, pwLen)
	return err
}

// Text renders the password SMS: one pass over the template (the password
// is never interpreted), GSM-7 only, one segment. Its errors never contain
// the password. kuvert renders the text before it seals anything, so a
// text that cannot be sent stops the sealing.
func (p *Policy) Text(ref, password string) (string, error) {
	if password == "" {
		return "", errors.New("no password to text")
	}
	org, err := p.Org()
	if err != nil {
		return "", err
	}
	tmpl, err := p.template()
	if err != nil {
		return "", err
	}
	// The template and the name alone (placeholders, GSM-7); the length
	// is counted below with the real password.
	if _, err := CheckTemplate(tmpl, org, 0); err != nil {
		return "", err
	}
	body, err := Render(tmpl, textVars(org, ref, password))
	if err != nil {
		return "", err
	}
	if _, err := Septets(password); err != nil {
		return "", errors.New("the password has a character an SMS cannot carry in GSM-7 (typographic quotes, dashes, emoji or letters outside å ä ö); choose another or give it another way")
	}
	n, err := Septets(body)
	if err != nil {
		return "", fmt.Errorf("the SMS text cannot be sent in GSM-7") // not quoted: it holds the password
	}
	if n > SingleSegment {
		return "", fmt.Errorf("the SMS text is %d characters with the password; one SMS holds %d: use kuvert's default password (not --words, not a long own password), or shorten the template or the organisation name", n, SingleSegment)
	}
	return body, nil
}

// TestText is the harmless text of `kuvert sms test` in the policy's
// language.
func (p *Policy) TestText() (string, error) {
	org, err := p.Org()
	if err != nil {
		return "", err
	}
	lang := p.Lang
	if _, ok := TestTemplate[lang]; !ok {
		lang = "sv"
	}
	return Render(TestTemplate[lang], textVars(org, "", ""))
}

// Preview renders the text with a sample reference and a password shaped
// like a generated one, for a settings screen: the text, its GSM-7 length
// and its segments. The error says what is wrong (a missing organisation,
// an unknown placeholder, a character outside GSM-7).
func (p *Policy) Preview() (text string, septets int, err error) {
	text, err = p.Text("k7pq2x", "h4mt8-2bqx9-rk3nd-w7vfc")
	if err != nil {
		return "", 0, err
	}
	n, _ := Septets(text)
	return text, n, nil
}

// Demo is implemented by providers that send nothing: their "sent" is a
// demonstration and must be shown as one.
type Demo interface{ Demo() bool }

// RateLimiter is implemented by providers with a sending rate: messages
// per second a bulk send must not exceed (Twilio long codes: 1).
type RateLimiter interface{ RateLimit() float64 }

// unwrapper is a wrapper around a provider (a batch's rate limiter).
type unwrapper interface{ Unwrap() Sender }

// IsDemo reports whether s sends nothing (the console demo). The CLI,
// batch and the desktop app ask it to name a demo as a demo before and
// after "sending".
func IsDemo(s Sender) bool {
	for s != nil {
		if d, ok := s.(Demo); ok {
			return d.Demo()
		}
		u, ok := s.(unwrapper)
		if !ok {
			return false
		}
		s = u.Unwrap()
	}
	return false
}

// RateLimit is the provider's own limit in messages per second, 0 for
// none. Batch asks it instead of comparing provider names.
func RateLimit(s Sender) float64 {
	for s != nil {
		if r, ok := s.(RateLimiter); ok {
			return r.RateLimit()
		}
		u, ok := s.(unwrapper)
		if !ok {
			return 0
		}
		s = u.Unwrap()
	}
	return 0
}
