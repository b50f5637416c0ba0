package gui

import (
	"io"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
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
// shared with the CLI and batch, with the keyring's
// Twilio credentials. The Seal view and the Settings test SMS call it; the
// Settings preview calls providers.Preview, which needs no credentials.
//
// With a kuvert server configured the provider is the server's relay and
// tok supplies its token (nil: KUVERT_SERVER_TOKEN only).
func resolveSMS(cfg *config.Config, console io.Writer, creds providers.Credentials, tok clientenv.TokenSource) (smsSetup, error) {
	pol, err := providers.Build(cfg, providers.Options{Console: console, Credentials: creds, ServerToken: tok})
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
