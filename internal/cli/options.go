package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/kuvert-app/kuvert/settings"
	"github.com/zalando/go-keyring"
)

// globalOptions are flags every command accepts.
type globalOptions struct {
	LogDir string
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

// writeJSON writes v indented to the command's output, with the
// characters that reorder or hide text on a terminal escaped (see
// [jsonText]). Every --json goes through it or [writeJSONLine].
func writeJSON(s *IOStreams, v any) error {
	return encodeJSON(s.Out, v)
}

// writeJSONLine writes v as one line (JSON Lines, as `kuvert batch
// --json` streams its rows), escaped as [writeJSON] does.
func writeJSONLine(s *IOStreams, v any) error {
	return writeJSONText(s.Out, v, "")
}

func encodeJSON(w io.Writer, v any) error {
	return writeJSONText(w, v, "  ")
}

// writeJSONText is the one JSON writer: encoding/json (which escapes
// control characters and <, >, &), then [jsonText], then a newline —
// the bytes json.Encoder would write, but with nothing that reorders text.
func writeJSONText(w io.Writer, v any, indent string) error {
	var b []byte
	var err error
	if indent == "" {
		b, err = json.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", indent)
	}
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
