package gui

import (
	"io"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

// appLayer is the application layer the CLI calls too, over the settings
// resolved from cfg (config.json as just read), this window's environment
// and keyring: what a resend and the central log's check decide is
// decided there, the same for both shells.
func (u *UI) appLayer(cfg *config.Config) (*app.App, error) {
	st, err := u.settingsFor(cfg)
	if err != nil {
		return nil, err
	}
	return &app.App{Settings: st, Tool: "kuvert-gui"}, nil
}

// resendPolicy is the SMS policy a resend texts with, as the Seal view's
// (providers.Build over the same settings); the demo provider's printout
// goes nowhere.
func resendPolicy(st *settings.Settings) (*sms.Policy, error) {
	return providers.Build(st, providers.Options{Console: io.Discard})
}
