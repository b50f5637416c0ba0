package cli

import (
	"context"
	"errors"
	"sync"

	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/settings"
)

// serverEnv is where the CLI's settings come from and where an enrolled
// token goes: the process's environment and the one keyring
// (systemSecrets), read and written alike.
func serverEnv() (clientenv.Env, error) {
	src, err := settingsSources()
	return clientenv.Env{Sources: src, Keyring: systemSecrets}, err
}

// serverSession is one command's use of the configured server: the
// enrollment (when needed) and the settings fetch happen at most once per
// command, whichever part of it needs the server first (the SMS relay,
// log sync, shipping in passing).
type serverSession struct {
	once sync.Once
	st   *settings.Settings
	c    *client.Client
	err  error
}

var (
	sessionMu sync.Mutex
	session   = &serverSession{}
)

// newServerSession starts a command's session (Run calls it).
func newServerSession() {
	sessionMu.Lock()
	session = &serverSession{}
	sessionMu.Unlock()
}

// ensureServer runs [clientenv.Ensure] once for this command: the
// settings with the server's part, and the client (nil when no server is
// configured).
func ensureServer(ctx context.Context) (*settings.Settings, *client.Client, error) {
	sessionMu.Lock()
	ss := session
	sessionMu.Unlock()
	ss.once.Do(func() {
		env, err := serverEnv()
		if err != nil {
			ss.err = err
			return
		}
		ss.st, ss.c, ss.err = clientenv.Ensure(context.WithoutCancel(ctx), env)
	})
	return ss.st, ss.c, ss.err
}

// withServerSettings is cfg with the organisation's settings from the
// configured server (fetched once per command; the cache when offline)
// and a token enrolled if one was needed. needServer says whether the
// caller cannot do without the server: then a failed enrollment is the
// answer; otherwise cfg stands.
func withServerSettings(ctx context.Context, cfg *settings.Settings, needServer bool) (*settings.Settings, error) {
	if cfg.ServerURL.Value == "" {
		return cfg, nil
	}
	st, _, err := ensureServer(ctx)
	if err != nil {
		if needServer && !errors.Is(err, clientenv.ErrNoEnrollment) {
			return nil, err
		}
		if st == nil {
			return cfg, nil
		}
	}
	return st, nil
}
