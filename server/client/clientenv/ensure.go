package clientenv

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/settings"
)

// Keyring is the OS keyring an enrolled device token is kept in
// (Windows Credential Manager, macOS Keychain, Secret Service), under
// [settings.KeyringService] / [settings.ServerTokenKey].
type Keyring interface {
	settings.Keyring
	Set(service, user, secret string) error
}

// Env is what [Ensure] needs from its shell.
type Env struct {
	// Sources are the settings' sources; Sources.Server is filled in
	// here (the cached server settings).
	Sources settings.Sources
	// Keyring receives an enrolled token; usually the same keyring as
	// Sources.Keyring.
	Keyring Keyring
	// Hostname names the computer; nil is os.Hostname.
	Hostname func() (string, error)
	// FetchTimeout bounds the settings fetch; default 5 s (a command
	// waits for it; offline, the cache serves).
	FetchTimeout time.Duration
}

// Resolve resolves the settings with the organisation's settings last
// cached from the configured server (no network).
func (e Env) Resolve() (*settings.Settings, error) {
	src := e.Sources
	src.Server = nil
	s, err := settings.Resolve(src)
	if err != nil || s.ServerURL.Value == "" {
		return s, err
	}
	if l := CachedLayer(s.Home.Value, s.ServerURL.Value); l != nil {
		src.Server = l
		return settings.Resolve(src)
	}
	return s, nil
}

// KeyringMissing reports a keyring error that means only that there is
// no such entry (go-keyring's ErrNotFound), as opposed to a keyring that
// cannot be read: settings.Sources.KeyringMissing for the shells.
func KeyringMissing(err error) bool { return errors.Is(err, keyring.ErrNotFound) }

// ErrNoEnrollment: a server is configured, but neither a token nor an
// enrollment code.
var ErrNoEnrollment error = fault.New(CodeNotEnrolled)

// Ensure is the rule every shell follows before it needs the server
// (shipping, SMS through the relay, log sync): with no server configured
// it returns the settings and a nil client. With a server but no token,
// it enrolls first when an enrollment code is configured (policy or
// KUVERT_ENROLLMENT_CODE) and keeps the token in the keyring. Then it
// fetches the organisation's settings from the server once and caches
// them (offline, the cache stands). The settings it returns include
// them; the client carries the token.
//
// Without a token or a code it returns the settings, a nil client and
// [ErrNoEnrollment].
func Ensure(ctx context.Context, e Env) (*settings.Settings, *client.Client, error) {
	s, err := e.Resolve()
	if err != nil || s.ServerURL.Value == "" {
		return s, nil, err
	}
	if !s.ServerToken.Stored() {
		code := s.EnrollmentCode.Value
		if code == "" {
			return s, nil, ErrNoEnrollment
		}
		if _, err := Enroll(ctx, e, s.Home.Value, s.ServerURL.Value, code); err != nil {
			return s, nil, err
		}
		if s, err = e.Resolve(); err != nil {
			return nil, nil, err
		}
	}
	c, err := Dial(s.ServerURL.Value, s)
	if err != nil {
		return s, nil, err
	}
	timeout := e.FetchTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := Refresh(fctx, c, s.Home.Value); err == nil {
		if s2, err := e.Resolve(); err == nil {
			s = s2
		}
	}
	return s, c, nil
}

// Enroll trades code at the server for this computer's device token and
// keeps it in e.Keyring; the token is never returned or shown. It holds
// a lock in kuvert's folder and looks in the keyring again under it, so
// two kuvert processes starting at once spend one use, not two. The
// keyring is tried before the code is spent: a computer whose keyring
// does not work loses no use of the code.
func Enroll(ctx context.Context, e Env, home, serverURL, code string) (name string, err error) {
	if e.Keyring == nil {
		return "", fault.New(CodeNoKeyring)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	fl := flock.New(filepath.Join(home, "enroll.lock"))
	lctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	ok, err := fl.TryLockContext(lctx, 100*time.Millisecond)
	cancel()
	if err != nil || !ok {
		return "", fault.New(CodeEnrollBusy).Wrap(lockErr(err))
	}
	defer fl.Unlock()
	have, err := e.Keyring.Get(settings.KeyringService, settings.ServerTokenKey)
	switch {
	case err == nil && have != "":
		return "", nil // another process enrolled while this one waited
	case err != nil && !KeyringMissing(err):
		return "", fault.New(CodeEnrollKeyring).Wrap(err)
	}
	hostname := e.Hostname
	if hostname == nil {
		hostname = os.Hostname
	}
	computer, err := hostname()
	if err != nil || computer == "" {
		return "", fault.New(CodeNoHostname).Wrap(hostErr(err))
	}
	res, err := client.Enroll(ctx, serverURL, code, computer)
	if err != nil {
		return "", err
	}
	if err := e.Keyring.Set(settings.KeyringService, settings.ServerTokenKey, res.Token); err != nil {
		return "", fault.New(CodeTokenNotKept, "name", res.Name).Wrap(err)
	}
	return res.Name, nil
}

// lockErr is why the enrollment lock was not taken: the lock's error, or
// its wait running out.
func lockErr(err error) error {
	if err == nil {
		return errors.New("timed out")
	}
	return err
}

// hostErr is why the computer has no name: the OS's error, or an empty
// name.
func hostErr(err error) error {
	if err == nil {
		return errors.New("empty name")
	}
	return err
}
