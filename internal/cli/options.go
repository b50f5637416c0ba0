package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/settings"
)

// globalOptions are flags every command accepts.
type globalOptions struct {
	LogDir string
}

// resolveSettings resolves every setting (package settings): machine
// policy, config.json, the environment and the OS keyring, each secret
// read when first used.
//
// The organisation's settings last cached from its server are included
// (no network: [ensureServer] fetches them).
func resolveSettings() (*settings.Settings, error) {
	env, err := serverEnv()
	if err != nil {
		return nil, err
	}
	return env.Resolve()
}

// settingsSources are the process's environment, machine policy and the
// one keyring the CLI reads and writes (systemSecrets).
func settingsSources() (settings.Sources, error) {
	src := settings.System(systemSecrets)
	pol, err := settings.MachinePolicy(os.Getenv)
	if err != nil {
		return src, err
	}
	src.Policy = pol
	return src, nil
}

// loadSettings is resolveSettings for commands that act: an environment
// variable that tries to change what machine policy sets is refused, so
// nobody believes it took effect.
func loadSettings() (*settings.Settings, error) {
	st, err := resolveSettings()
	if err != nil {
		return nil, err
	}
	if len(st.Overrides) > 0 {
		return nil, lockedError(st.Overrides[0])
	}
	return st, nil
}

// lockedError is a usage error: the organisation decides the setting.
func lockedError(err *settings.LockedError) error {
	return withHint(usageError{fmt.Errorf("%s styrs av din organisations policy / %w", err.Key, err)},
		"ask your IT department; `kuvert config show` shows each setting and where it comes from")
}

// osKeyring is the OS keyring (Windows Credential Manager, macOS
// Keychain, Secret Service).
type osKeyring struct{}

func (osKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }
func (osKeyring) Set(service, user, secret string) error   { return keyring.Set(service, user, secret) }
func (osKeyring) Delete(service, user string) error {
	if err := keyring.Delete(service, user); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	return nil
}

// openLog opens the compliance log: --log-dir, else $KUVERT_HOME/log. The
// signing key always lives in $KUVERT_HOME/keys.
func openLog(g *globalOptions) (*auditlog.Log, *settings.Settings, error) {
	cfg, err := loadSettings()
	if err != nil {
		return nil, nil, err
	}
	home := cfg.Home.Value
	dir := g.LogDir
	if dir == "" {
		dir = filepath.Join(home, "log")
	}
	l, err := auditlog.Open(auditlog.Options{Dir: dir, KeyDir: filepath.Join(home, "keys"), Tool: "kuvert " + Version})
	if err != nil {
		return nil, nil, err
	}
	return l, cfg, nil
}

// writeJSON writes v indented to the command's output, with the
// characters that reorder or hide text on a terminal escaped (see
// [jsonText]).
func writeJSON(s *IOStreams, v any) error {
	return encodeJSON(s.Out, v)
}

func encodeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(jsonText(b), '\n'))
	return err
}

// jsonText escapes bidirectional and invisible format characters (U+202E
// and the like) as \uXXXX. encoding/json escapes control characters but
// leaves these, and a crafted file name holding one reads backwards on
// the registrar's screen. The JSON means the same after.
func jsonText(b []byte) []byte {
	var out []byte
	for i, r := range string(b) {
		if bidiOrFormat(r) {
			if out == nil {
				out = append([]byte(nil), b[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		if out != nil {
			out = utf8.AppendRune(out, r)
		}
	}
	if out == nil {
		return b
	}
	return out
}

func bidiOrFormat(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0xfeff || (r >= 0x200b && r <= 0x200d)
}
