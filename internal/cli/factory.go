package cli

import (
	"os"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/settings"
)

// Factory is what a command needs from the machine, built once by [Main]
// from the real process and handed to every command constructor, as the
// GitHub CLI's cmdutil.Factory is. Commands read no environment and no
// keyring themselves, so tests build a Factory from a map and fakes and
// run in parallel instead of setting the process's environment.
type Factory struct {
	IOStreams *IOStreams
	// Getenv reads the environment: the settings, and per-command
	// inputs such as KUVERT_PASSWORD.
	Getenv func(string) string
	// Keyring is the OS keyring: the secrets the settings read, and
	// where `kuvert config secret` writes. Nil reads and writes none.
	Keyring secretStore
	// Now is the clock.
	Now func() time.Time

	once     sync.Once // the settings are resolved at first use, once
	settings *settings.Settings
	err      error
}

// secretStore is the OS keyring, read and written.
type secretStore interface {
	settings.Keyring
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// systemFactory is the Factory of the real process.
func systemFactory() *Factory {
	return &Factory{IOStreams: systemStreams(), Getenv: os.Getenv, Keyring: osKeyring{}, Now: time.Now}
}

// Settings resolves every setting (package settings) from config.json,
// the environment and the keyring, once: the one place the CLI reads its
// settings. Secrets are read from the keyring when first used.
func (f *Factory) Settings() (*settings.Settings, error) {
	f.once.Do(func() {
		var kr settings.Keyring
		if f.Keyring != nil {
			kr = f.Keyring
		}
		f.settings, f.err = settings.Resolve(settings.Sources{Getenv: f.Getenv, Keyring: kr})
	})
	return f.settings, f.err
}

// App is the application layer over the settings, with the log in
// --log-dir when given.
func (f *Factory) App(g *globalOptions) (*app.App, error) {
	st, err := f.Settings()
	if err != nil {
		return nil, err
	}
	a := &app.App{Settings: st, Tool: "kuvert " + Version}
	if g != nil {
		a.LogDir = g.LogDir
	}
	return a, nil
}

// openLog opens the compliance log: --log-dir, else $KUVERT_HOME/log. The
// signing key always lives in $KUVERT_HOME/keys.
func (f *Factory) openLog(g *globalOptions) (*auditlog.Log, *settings.Settings, error) {
	a, err := f.App(g)
	if err != nil {
		return nil, nil, err
	}
	return a.OpenLog()
}
