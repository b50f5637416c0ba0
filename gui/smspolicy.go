package gui

import (
	"io"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

// smsSetup is how the app texts: the provider and the message.
type smsSetup struct {
	Sender sms.Sender  // the provider; the Seal view may wrap it
	Policy *sms.Policy // the words: template, language, organisation
	// Demo: the provider only shows the message (the console demo).
	Demo bool
}

// resolveSMS is the desktop app's SMS policy: providers.Build, the one
// shared with the CLI and batch, over the settings resolved from cfg, the
// environment and the keyring (Twilio's credentials, the server's token).
// The Seal view and the Settings test SMS call it; the Settings preview
// calls providers.Preview, which needs no credentials.
func (u *UI) resolveSMS(cfg *config.Config, kr Keyring) (smsSetup, error) {
	if kr == nil {
		kr = u.deps.Keyring
	}
	s, err := u.resolveWith(cfg, kr)
	if err != nil {
		return smsSetup{}, err
	}
	pol, err := providers.Build(s, providers.Options{Console: io.Discard})
	if err != nil {
		return smsSetup{}, err
	}
	return smsSetup{Sender: pol.Sender, Policy: pol, Demo: sms.IsDemo(pol.Sender)}, nil
}

// policy is the policy with the (possibly wrapped) sender.
func (s smsSetup) policy() *sms.Policy {
	p := *s.Policy
	p.Sender = s.Sender
	return &p
}

// testBody is the harmless test message with the organisation in it.
func (s smsSetup) testBody() (string, error) {
	return s.Policy.TestText()
}
