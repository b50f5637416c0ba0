package gui

import (
	"context"
	"io"
	"time"

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

// resolveSMSToSend is resolveSMS for sealing and batch runs, which text:
// a computer given a server address and an enrollment code (machine
// policy or the environment) but no device token yet enrolls first, as
// the CLI does before it needs the server (clientenv.Ensure), so its
// first SMS through the relay does not fail for want of a token. Only
// then does the enrollment cost a call; views that only show the
// provider use resolveSMS and never reach the server.
func (u *UI) resolveSMSToSend(cfg *config.Config) (smsSetup, error) {
	if err := u.enrollIfNeeded(cfg); err != nil {
		return smsSetup{}, err
	}
	return u.resolveSMS(cfg, nil)
}

// enrollIfNeeded enrolls this computer when a server and an enrollment
// code are configured and no device token is stored; otherwise it does
// nothing.
func (u *UI) enrollIfNeeded(cfg *config.Config) error {
	s, err := u.settingsFor(cfg)
	if err != nil || s.ServerURL.Value == "" || s.ServerToken.Stored() || s.EnrollmentCode.Value == "" {
		return err
	}
	src, err := u.sources(cfg, u.deps.Keyring)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err = clientenv.Ensure(ctx, clientenv.Env{Sources: src, Keyring: u.deps.Keyring})
	return err
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
