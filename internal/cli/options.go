package cli

import (
	"encoding/json"
	"path/filepath"

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

// writeJSON writes v indented to the command's output.
func writeJSON(s *IOStreams, v any) error {
	enc := json.NewEncoder(s.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
