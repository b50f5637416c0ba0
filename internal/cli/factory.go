package cli

import (
	"os"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/client"
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
	// where `kuvert config secret` writes; tests hand in a map.
	Keyring secretStore
	// Policy reads machine policy (settings.MachinePolicy); nil is none.
	Policy func() (settings.Layer, error)
	// Now is the clock.
	Now func() time.Time
	// Hostname names the computer when it enrolls; nil is os.Hostname.
	Hostname func() (string, error)

	once     sync.Once // the settings are resolved at first use, once
	settings *settings.Settings
	err      error

	serverOnce sync.Once // the server is enrolled with and asked once
	server     struct {
		st  *settings.Settings
		c   *client.Client
		err error
	}
}

// secretStore is the OS keyring, read and written.
type secretStore interface {
	settings.Keyring
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// systemFactory is the Factory of the real process.
func systemFactory() *Factory {
	return &Factory{IOStreams: systemStreams(), Getenv: os.Getenv, Keyring: osKeyring{}, Now: time.Now,
		Policy: func() (settings.Layer, error) { return settings.MachinePolicy(os.Getenv) }}
}

// resolve resolves every setting (package settings) once: machine
// policy, config.json, the environment and the keyring, each secret read
// when first used, and the organisation's settings last cached from its
// server (no network: [Factory.ensureServer] fetches them). It is the one
// place the CLI reads its settings.
func (f *Factory) resolve() (*settings.Settings, error) {
	f.once.Do(func() {
		e, err := f.serverEnv()
		if err != nil {
			f.err = err
			return
		}
		f.settings, f.err = e.Resolve()
	})
	return f.settings, f.err
}

// Settings is [Factory.resolve] for commands that act: an environment
// variable that tries to change what machine policy sets is refused, so
// nobody believes it took effect.
func (f *Factory) Settings() (*settings.Settings, error) {
	st, err := f.resolve()
	if err != nil {
		return nil, err
	}
	if len(st.Overrides) > 0 {
		return nil, lockedError(st.Overrides[0])
	}
	return st, nil
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
