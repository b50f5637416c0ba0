// Package providers turns the resolved settings (package settings) and a
// command's or a form's overrides into the one SMS policy kuvert uses
// ([Build]). It is the only place that knows every provider and how the
// organisation name, the language and the template are chosen, so the
// CLI, batch, the desktop app and the server text the same way.
//
// It never reads or returns a password, and never puts the auth token
// anywhere but into the Twilio provider.
package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/relay"
	"github.com/kuvert-app/kuvert/sms/twilio"
)

// Options override the settings for one command or form; the zero value
// takes everything from the resolved settings.
type Options struct {
	// Provider: twilio, console, outbox:FILE or kuvert-server. Default:
	// the resolved sms.provider (see settings.Settings.SMSProvider).
	Provider string
	// Organisation: the name the recipient knows (--sender). Default:
	// the resolved organisation.
	Organisation string
	// Lang: sv or en (--sms-lang). Default: sms.language, else sv.
	Lang string
	// Template: a custom text. Default: sms.template when Lang is the
	// configured language (sms.template is written in it), else the
	// built-in template of Lang.
	Template string
	// OpenerURL, if set, replaces the resolved opener_url (a form's
	// unsaved value).
	OpenerURL string
	// Console receives the demo provider's texts; nil discards them.
	Console io.Writer
}

// Build resolves the SMS policy: the provider (its sender) and the words
// (template, language, organisation). It checks that a generated password
// fits one GSM-7 segment with the template and that a real provider has
// an organisation name ([sms.ErrNoOrganisation] otherwise), so a shell can
// refuse before sealing anything.
func Build(s *settings.Settings, o Options) (*sms.Policy, error) {
	p, name, err := resolve(s, o)
	if err != nil {
		return nil, err
	}
	if err := s.CheckProvider(name); err != nil {
		return nil, err
	}
	if p.Sender, err = selectByName(name, s, o); err != nil {
		return nil, err
	}
	if err := p.Check(sms.GeneratedLength); err != nil {
		return nil, err
	}
	return p, nil
}

// Preview renders the text Build's policy would send, with a sample
// reference and a password shaped like a generated one, without building
// the provider (no credentials needed): for the desktop app's settings,
// which pass the form's unsaved values in o. It returns the text, its
// GSM-7 length, and what is wrong with it, if anything.
func Preview(s *settings.Settings, o Options) (text string, septets int, err error) {
	p, name, err := resolve(s, o)
	if err != nil {
		return "", 0, err
	}
	if name == "console" {
		p.Sender = &sms.Console{W: io.Discard}
	} else {
		p.Sender = previewOnly(name)
	}
	return p.Preview()
}

// resolve picks the provider's name and the words.
func resolve(s *settings.Settings, o Options) (*sms.Policy, string, error) {
	name := o.Provider
	if name == "" {
		name = s.SMSProvider.Value
	}
	cfgLang := s.SMSLanguage.Value
	if cfgLang == "" {
		cfgLang = "sv"
	}
	lang := o.Lang
	if lang == "" {
		lang = cfgLang
	}
	if _, ok := sms.Templates[lang]; !ok {
		return nil, "", fmt.Errorf("unknown SMS language %q (use sv or en)", lang)
	}
	opener := s.OpenerURL.Value
	if o.OpenerURL != "" {
		opener = o.OpenerURL
	}
	// The server's page is only kuvert's suggestion (no opener_url of
	// the organisation's): an address too long for a text is left out.
	suggested := o.OpenerURL == "" && s.OpenerURL.Source == settings.FromOthers
	if _, err := sms.CheckOpenerURL(opener); suggested && err != nil {
		opener = ""
	}
	tmpl := o.Template
	if tmpl == "" && lang == cfgLang {
		tmpl = s.SMSTemplate.Value
	}
	if tmpl == "" {
		tmpl = sms.Templates[lang]
		if opener != "" {
			tmpl = sms.LinkTemplates[lang]
		}
	}
	org := strings.TrimSpace(o.Organisation)
	if err := s.Organisation.Check("the sender name given", org); err != nil {
		return nil, "", err
	}
	if org == "" {
		org = s.Organisation.Value
	}
	if opener != "" {
		if _, err := sms.CheckOpenerURL(opener); err != nil {
			return nil, "", err
		}
	}
	p := &sms.Policy{Template: tmpl, Lang: lang, Organisation: org, OpenerURL: opener}
	if suggested && opener != "" && o.Template == "" && s.SMSTemplate.Value == "" && p.Check(sms.GeneratedLength) != nil {
		// A text that does not fit one SMS with the suggested link goes
		// without it.
		p.Template, p.OpenerURL = sms.Templates[lang], ""
	}
	return p, name, nil
}

// Select returns the provider alone, chosen as in [Options.Provider]; the
// console writes to w. For commands that only ask a provider about
// messages it already sent (`kuvert sms status`); to send, use [Build].
func Select(s *settings.Settings, w io.Writer, o Options) (sms.Sender, error) {
	o.Console = w
	name := o.Provider
	if name == "" {
		name = s.SMSProvider.Value
	}
	return selectByName(name, s, o)
}

// Server returns the SMS provider of a `kuvert server`: the one named by
// s.SMSProvider when it was set (environment, or Twilio inferred from
// TWILIO_ACCOUNT_SID), nil when none was. The console demo is refused by
// the caller, which knows why.
func Server(s *settings.Settings) (sms.Sender, error) {
	if s.SMSProvider.Source == settings.FromDefault {
		return nil, nil
	}
	return selectByName(s.SMSProvider.Value, s, Options{})
}

func selectByName(name string, s *settings.Settings, o Options) (sms.Sender, error) {
	w := o.Console
	if w == nil {
		w = io.Discard
	}
	switch {
	case name == "console":
		return &sms.Console{W: w}, nil
	case strings.HasPrefix(name, "outbox:"):
		p := strings.TrimPrefix(name, "outbox:")
		if p == "" {
			return nil, fmt.Errorf("outbox: needs a file, e.g. outbox:/tmp/sms.jsonl")
		}
		return &sms.Outbox{Path: p}, nil
	case name == relay.ProviderName:
		c, err := clientenv.FromSettings(s)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, errors.New("kuvert-server: no server is configured (KUVERT_SERVER_URL or server_url in config.json)")
		}
		return &relay.Sender{Client: c}, nil
	case name == "twilio":
		tc := twilio.Config{
			AccountSID:          s.TwilioAccountSID.Reveal(),
			AuthToken:           s.TwilioAuthToken.Reveal(),
			From:                s.SMSFrom.Value,
			MessagingServiceSID: s.SMSMessagingServiceSID.Value,
			BaseURL:             s.TwilioAPIURL.Value,
			Timeout:             s.Timeout(),
		}
		return twilio.New(tc)
	}
	return nil, fmt.Errorf("unknown SMS provider %q (use twilio, console, outbox:FILE or kuvert-server)", name)
}

// previewOnly stands for a real provider in a preview; it sends nothing.
type previewOnly string

func (p previewOnly) Name() string { return string(p) }
func (p previewOnly) Send(context.Context, sms.Message) (sms.Receipt, error) {
	return sms.Receipt{}, errors.New("a preview sends nothing")
}
func (p previewOnly) Status(context.Context, string) (sms.Receipt, error) {
	return sms.Receipt{}, errors.New("a preview sends nothing")
}
