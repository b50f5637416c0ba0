package cli

import (
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client"
)

// Factory is what a command needs from the machine, built once by [Main]
// from the real process and handed to every command constructor, as the
// GitHub CLI's cmdutil.Factory is. Commands read no environment and no
// keyring themselves, so tests build a Factory from a map and fakes and
// run in parallel instead of setting the process's environment.
type Factory struct {
	IOStreams *IOStreams
	// Getenv reads the environment: settings, and per-command inputs
	// such as KUVERT_PASSWORD.
	Getenv func(string) string
	// Keyring reads the OS keyring (the desktop app's saved tokens and
	// passwords); nil reads none.
	Keyring Keyring
	// Now is the clock.
	Now func() time.Time

	once sync.Once // settings and app are resolved at first use, once
	st   *settings
	app  *app.App
	err  error
}

// Keyring reads a secret from the OS keyring; a secret that is not there
// is an error.
type Keyring interface {
	Get(service, user string) (string, error)
}

type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// systemFactory is the Factory of the real process.
func systemFactory() *Factory {
	return &Factory{IOStreams: systemStreams(), Getenv: os.Getenv, Keyring: osKeyring{}, Now: time.Now}
}

// secret reads service/user from the keyring; "" when it is not there.
func (f *Factory) secret(service, user string) string {
	if f.Keyring == nil {
		return ""
	}
	s, _ := f.Keyring.Get(service, user)
	return s
}

// settings is every setting the CLI takes from the environment and the
// keyring, read in this one place.
type settings struct {
	Home         string
	ServerURL    string                 // KUVERT_SERVER_URL; "" leaves config.json's server_url
	ServerToken  func() (string, error) // KUVERT_SERVER_TOKEN, else the keyring's
	SMTPURL      string                 // KUVERT_SMTP_URL
	SMTPPassword func() string          // KUVERT_SMTP_PASSWORD, else the keyring's
	MailFrom     string                 // KUVERT_MAIL_FROM
}

// settings resolves the settings once.
func (f *Factory) settings() (*settings, error) {
	f.once.Do(func() {
		f.st, f.err = f.resolve()
		if f.err == nil {
			f.app = &app.App{Home: f.st.Home, Tool: "kuvert " + Version, ServerURL: f.st.ServerURL, ServerToken: f.st.ServerToken}
		}
	})
	return f.st, f.err
}

func (f *Factory) resolve() (*settings, error) {
	home, err := config.HomeFrom(f.Getenv)
	if err != nil {
		return nil, err
	}
	return &settings{
		Home:      home,
		ServerURL: strings.TrimSpace(f.Getenv("KUVERT_SERVER_URL")),
		ServerToken: func() (string, error) {
			if tok := strings.TrimSpace(f.Getenv("KUVERT_SERVER_TOKEN")); tok != "" {
				return tok, nil
			}
			if f.Keyring == nil {
				return "", nil
			}
			return f.Keyring.Get(client.KeyringService, client.KeyringUser)
		},
		SMTPURL: f.Getenv("KUVERT_SMTP_URL"),
		// The relay's password: the keyring's entry the desktop app uses
		// too (service "kuvert", account "smtp-password"; Windows
		// Credential Manager, macOS Keychain, Secret Service), so a
		// scheduled job need not keep it in its environment.
		SMTPPassword: func() string {
			if pw := f.Getenv("KUVERT_SMTP_PASSWORD"); pw != "" {
				return pw
			}
			return f.secret("kuvert", "smtp-password")
		},
		MailFrom: f.Getenv("KUVERT_MAIL_FROM"),
	}, nil
}

// App is the application layer over this process's settings, built once.
func (f *Factory) App() (*app.App, error) {
	_, err := f.settings()
	return f.app, err
}

// appFor is [Factory.App] with the log in --log-dir, when given.
func (f *Factory) appFor(g *globalOptions) (*app.App, error) {
	a, err := f.App()
	if err != nil || g == nil || g.LogDir == "" {
		return a, err
	}
	c := *a
	c.LogDir = g.LogDir
	return &c, nil
}

// openLog opens the compliance log: --log-dir, else $KUVERT_HOME/log. The
// signing key always lives in $KUVERT_HOME/keys.
func (f *Factory) openLog(g *globalOptions) (*auditlog.Log, *config.Config, error) {
	a, err := f.appFor(g)
	if err != nil {
		return nil, nil, err
	}
	return a.OpenLog()
}

// loadConfig reads config.json in $KUVERT_HOME.
func (f *Factory) loadConfig() (string, *config.Config, error) {
	a, err := f.App()
	if err != nil {
		return "", nil, err
	}
	cfg, err := a.Config()
	return a.Home, cfg, err
}

// serverToken is the kuvert server's token (KUVERT_SERVER_TOKEN, else
// the keyring's), for the SMS relay provider.
func (f *Factory) serverToken() (string, error) {
	st, err := f.settings()
	if err != nil {
		return "", err
	}
	return st.ServerToken()
}
