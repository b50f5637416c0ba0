package gui

import (
	"io"
	"os"
	"strings"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/sms"
)

// appLayer is the application layer the CLI calls too, over this window's
// home folder and keyring: what resend and the server check decide is
// decided there, the same for both shells.
func (u *UI) appLayer() *app.App {
	getenv := u.deps.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return &app.App{
		Home: u.deps.Home, Tool: "kuvert-gui",
		// As clientenv reads them: KUVERT_SERVER_URL before config.json's
		// server_url, KUVERT_SERVER_TOKEN before the keyring's token.
		ServerURL: getenv("KUVERT_SERVER_URL"),
		ServerToken: func() (string, error) {
			if tok := strings.TrimSpace(getenv("KUVERT_SERVER_TOKEN")); tok != "" {
				return tok, nil
			}
			return u.serverToken()
		},
	}
}

// smsPolicy is the SMS policy a resend texts with: the Seal view's.
func (u *UI) smsPolicy(cfg *config.Config) (*sms.Policy, error) {
	s, err := resolveSMS(cfg, io.Discard, u.seal.twilioCredentials, u.serverToken)
	if err != nil {
		return nil, err
	}
	return s.policy(), nil
}
