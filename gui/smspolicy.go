package gui

import (
	"io"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

// smsSetup is how the app texts: the provider and the message.
type smsSetup struct {
	Sender   sms.Sender // nil when the provider could not be set up (see resolveSMS's error)
	Template string     // the password message: {sender}, {ref}, {password}
	Test     string     // the harmless test message: {sender}
	From     string     // the name shown in the text
	// Demo: the provider only shows the message (the console demo).
	Demo bool
}

// resolveSMS is the desktop app's whole SMS policy, and the only place in
// gui/ that has one: which provider (providers.Select, with the keyring's
// Twilio credentials), which template (the configured one, else the
// recipient language's) and which sender name (sms.sender, else the
// operator, else "kuvert"). The Seal view, the Settings preview and the
// Settings test SMS all call it.
//
// Issue 12 item 1 moves this policy below the shells into one function
// shared with the CLI and batch; when that lands, this function is the one
// to replace. The texts are filled in even when the provider cannot be set
// up, so the preview works before credentials are given.
func resolveSMS(cfg *config.Config, console io.Writer, creds providers.Credentials) (smsSetup, error) {
	lang := "sv"
	if cfg.SMS.Language == "en" {
		lang = "en"
	}
	s := smsSetup{Template: sms.Templates[lang], Test: sms.TestTemplate[lang]}
	if cfg.SMS.Template != "" {
		s.Template = cfg.SMS.Template
	}
	s.From = cfg.SMS.Sender
	if s.From == "" {
		s.From = cfg.Operator
	}
	if s.From == "" {
		s.From = "kuvert"
	}
	sender, err := providers.Select(cfg.SMS, console, creds)
	if err != nil {
		return s, err
	}
	s.Sender = sender
	_, s.Demo = sender.(*sms.Console)
	return s, nil
}

// testBody is the harmless test message with the sender's name in it.
func (s smsSetup) testBody() (string, error) {
	return sms.Render(s.Test, map[string]string{"sender": s.From})
}
