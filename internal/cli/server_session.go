package cli

import (
	"context"
	"errors"

	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/settings"
)

// serverEnv is where the command's settings come from and where an
// enrolled token goes: the Factory's environment, machine policy and
// keyring, read and written alike.
func (f *Factory) serverEnv() (clientenv.Env, error) {
	src := settings.Sources{Getenv: f.Getenv}
	e := clientenv.Env{Hostname: f.Hostname}
	if f.Keyring != nil {
		src.Keyring = f.Keyring
		src.KeyringMissing = clientenv.KeyringMissing
		e.Keyring = f.Keyring
	}
	if f.Policy != nil {
		pol, err := f.Policy()
		if err != nil {
			return e, err
		}
		src.Policy = pol
	}
	e.Sources = src
	return e, nil
}

// ensureServer runs [clientenv.Ensure] once per command (a Factory
// serves one command line): the enrollment, when needed, and the fetch of
// the organisation's settings happen at most once, whichever part of the
// command needs the server first (the SMS relay, log sync, shipping in
// passing). It returns the settings with the server's part and the
// client (nil when no server is configured).
func (f *Factory) ensureServer(ctx context.Context) (*settings.Settings, *client.Client, error) {
	f.serverOnce.Do(func() {
		e, err := f.serverEnv()
		if err != nil {
			f.server.err = err
			return
		}
		f.server.st, f.server.c, f.server.err = clientenv.Ensure(context.WithoutCancel(ctx), e)
	})
	return f.server.st, f.server.c, f.server.err
}

// withServerSettings is cfg with the organisation's settings from the
// configured server (fetched once per command; the cache when offline)
// and a token enrolled if one was needed. needServer says whether the
// caller cannot do without the server: then a failed enrollment is the
// answer; otherwise cfg stands.
func (f *Factory) withServerSettings(ctx context.Context, cfg *settings.Settings, needServer bool) (*settings.Settings, error) {
	if cfg.ServerURL.Value == "" {
		return cfg, nil
	}
	st, _, err := f.ensureServer(ctx)
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
