// Package providers turns the settings file, the environment and a
// command's or a form's overrides into the one SMS policy kuvert uses
// ([Build]). It is the only place that knows every provider and how the
// organisation name, the language and the template are chosen, so the
// CLI, batch and the desktop app text the same way (issue 12).
//
// It never reads or returns a password, and never puts the auth token
// anywhere but into the Twilio provider.
package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/relay"
	"github.com/kuvert-app/kuvert/sms/twilio"
)

// Credentials supply the Twilio account SID and auth token from somewhere
// other than the environment (the desktop app's OS keyring). May be nil.
type Credentials func() (accountSID, authToken string)

// Options override the settings for one command or form; the zero value
// takes everything from config.json and the environment.
type Options struct {
	// Provider: twilio, console, outbox:FILE or kuvert-server. Default:
	// KUVERT_SMS_PROVIDER, else kuvert-server when a server is configured
	// (KUVERT_SERVER_URL or server_url: the organisation's one SMS
	// account, no Twilio token on this computer), else sms.provider, else
	// twilio when TWILIO_ACCOUNT_SID is set, else the console demo.
	Provider string
	// Organisation: the name the recipient knows (--sender). Default:
	// organisation, else sms.sender.
	Organisation string
	// Lang: sv or en (--sms-lang). Default: sms.language, else sv.
	Lang string
	// Template: a custom text. Default: sms.template when Lang is the
	// configured language (sms.template is written in it), else the
	// built-in template of Lang.
	Template string
	// Console receives the demo provider's texts; nil discards them.
	Console io.Writer
	// Credentials, if set, supply Twilio's SID and token when the
	// environment does not.
	Credentials Credentials
	// ServerToken, if set, supplies the kuvert server's token when
	// KUVERT_SERVER_TOKEN does not (the OS keyring).
	ServerToken clientenv.TokenSource
}

// Build resolves the SMS policy: the provider (its sender) and the words
// (template, language, organisation). It checks that a generated password
// fits one GSM-7 segment with the template and that a real provider has
// an organisation name ([sms.ErrNoOrganisation] otherwise), so a shell can
// refuse before sealing anything.
func Build(cfg *config.Config, o Options) (*sms.Policy, error) {
	p, name, err := resolve(cfg, o)
	if err != nil {
		return nil, err
	}
	if p.Sender, err = selectByName(name, cfg, o); err != nil {
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
func Preview(cfg *config.Config, o Options) (text string, septets int, err error) {
	p, name, err := resolve(cfg, o)
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
func resolve(cfg *config.Config, o Options) (*sms.Policy, string, error) {
	if cfg == nil {
		cfg = &config.Config{}
	}
	name := o.Provider
	if name == "" {
		name = providerName(cfg)
	}
	cfgLang := cfg.SMS.Language
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
	tmpl := o.Template
	if tmpl == "" && lang == cfgLang {
		tmpl = cfg.SMS.Template
	}
	if tmpl == "" {
		tmpl = sms.Templates[lang]
		if cfg.OpenerURL != "" {
			tmpl = sms.LinkTemplates[lang]
		}
	}
	org := strings.TrimSpace(o.Organisation)
	if org == "" {
		org = strings.TrimSpace(cfg.Organisation)
	}
	if org == "" {
		org = strings.TrimSpace(cfg.SMS.Sender)
	}
	if cfg.OpenerURL != "" {
		if _, err := sms.CheckOpenerURL(cfg.OpenerURL); err != nil {
			return nil, "", err
		}
	}
	return &sms.Policy{Template: tmpl, Lang: lang, Organisation: org, OpenerURL: cfg.OpenerURL}, name, nil
}

func providerName(cfg *config.Config) string {
	name := os.Getenv("KUVERT_SMS_PROVIDER")
	if name == "" && clientenv.URL(cfg) != "" {
		name = relay.ProviderName
	}
	if name == "" && cfg != nil {
		name = cfg.SMS.Provider
	}
	if name == "" && os.Getenv("TWILIO_ACCOUNT_SID") != "" {
		name = "twilio"
	}
	if name == "" {
		name = "console"
	}
	return name
}

// Select returns the provider alone, chosen as in [Options.Provider]; the
// console writes to w. For commands that only ask a provider about
// messages it already sent (`kuvert sms status`); to send, use [Build].
func Select(cfg *config.Config, w io.Writer, o Options) (sms.Sender, error) {
	if cfg == nil {
		cfg = &config.Config{}
	}
	o.Console = w
	name := o.Provider
	if name == "" {
		name = providerName(cfg)
	}
	return selectByName(name, cfg, o)
}

// ByName returns the provider called name (twilio, console or
// outbox:FILE), as [Select] does after choosing one.
func ByName(name string, cfg config.SMS, w io.Writer, creds Credentials) (sms.Sender, error) {
	return selectByName(name, &config.Config{SMS: cfg}, Options{Console: w, Credentials: creds})
}

func selectByName(name string, cfg *config.Config, o Options) (sms.Sender, error) {
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
		u := clientenv.URL(cfg)
		if u == "" {
			return nil, errors.New("kuvert-server: no server is configured (KUVERT_SERVER_URL or server_url in config.json)")
		}
		c, err := clientenv.Dial(u, o.ServerToken)
		if err != nil {
			return nil, err
		}
		return &relay.Sender{Client: c}, nil
	case name == "twilio":
		tc := twilio.ConfigFromEnv()
		if tc.From == "" {
			tc.From = cfg.SMS.From
		}
		if tc.MessagingServiceSID == "" {
			tc.MessagingServiceSID = cfg.SMS.MessagingServiceSID
		}
		if (tc.AccountSID == "" || tc.AuthToken == "") && o.Credentials != nil {
			tc.AccountSID, tc.AuthToken = o.Credentials()
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
