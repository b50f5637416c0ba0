package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"unicode/utf8"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
)

// globalOptions are flags every command accepts.
type globalOptions struct {
	LogDir string
}

// openLog opens the compliance log: --log-dir, else $KUVERT_HOME/log. The
// signing key always lives in $KUVERT_HOME/keys.
func openLog(g *globalOptions) (*auditlog.Log, *config.Config, error) {
	home, err := config.Home()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(home)
	if err != nil {
		return nil, nil, err
	}
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
