// Package app is kuvert's application layer: one function per use case —
// seal, open, resend, run a batch, sync, verify the local log, verify the
// server's log, scan — with typed results and typed errors. The shells
// (the CLI in internal/cli, the desktop app in gui, the server's CLI)
// only turn flags and forms into calls and results into text, JSON or
// widgets, so a rule about what a use case does lives here once and the
// CLI and the desktop app cannot disagree about it. Like sumdb's client
// library, it holds every trust check (which sealing a resend may
// replace, when a server's key may be believed); the shells only print.
//
// It must never print, read flags, forms or the process's environment,
// or hold words for people: what it knows of the machine comes in
// through [App], and what it decides goes out as values and error codes
// the shells put into words. It imports no shell toolkit (cobra, fyne),
// no SMS provider's SDK and no database driver (internal/archtest).
package app

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client"
)

// App is what the use cases need from the machine, built once by a shell
// (the CLI's Factory, the desktop app's Deps) and handed in, as the GitHub
// CLI's cmdutil.Factory is: tests build one over a temporary folder and
// fakes instead of setting the process's environment.
type App struct {
	// Home is kuvert's state folder ($KUVERT_HOME): config.json, the
	// log's signing key, the server heads this computer has seen.
	Home string
	// LogDir is the compliance log's folder; "" means Home/log.
	LogDir string
	// Tool names the program in the log's entries ("kuvert 1.2.0").
	Tool string
	// ServerURL is the kuvert server set outside config.json (the
	// environment); "" falls back to config.json's server_url.
	ServerURL string
	// ServerToken gives the token for the kuvert server (the
	// environment, then the OS keyring); nil when there is none.
	ServerToken func() (string, error)
}

// ErrNoServer is returned when a use case needs the kuvert server and
// none is configured.
var ErrNoServer = errors.New("no kuvert server is configured")

// Config reads config.json in Home.
func (a *App) Config() (*config.Config, error) {
	return config.Load(a.Home)
}

// OpenLog opens the compliance log (LogDir, else Home/log) with its
// signing key in Home/keys, and reads config.json.
func (a *App) OpenLog() (*auditlog.Log, *config.Config, error) {
	cfg, err := a.Config()
	if err != nil {
		return nil, nil, err
	}
	dir := a.LogDir
	if dir == "" {
		dir = filepath.Join(a.Home, "log")
	}
	l, err := auditlog.Open(auditlog.Options{Dir: dir, KeyDir: filepath.Join(a.Home, "keys"), Tool: a.Tool})
	if err != nil {
		return nil, nil, err
	}
	return l, cfg, nil
}

// ConfiguredServer is the kuvert server's address: ServerURL, else
// config.json's server_url; "" when there is none.
func (a *App) ConfiguredServer(cfg *config.Config) string {
	if u := strings.TrimSpace(a.ServerURL); u != "" {
		return u
	}
	if cfg != nil {
		return strings.TrimSpace(cfg.ServerURL)
	}
	return ""
}

// Server makes the client of the kuvert server at rawURL, or of the
// configured one when rawURL is "" ([ErrNoServer] when there is none).
// A missing token is [client.ErrNoToken].
func (a *App) Server(cfg *config.Config, rawURL string) (*client.Client, error) {
	if rawURL == "" {
		if rawURL = a.ConfiguredServer(cfg); rawURL == "" {
			return nil, ErrNoServer
		}
	}
	tok := ""
	if a.ServerToken != nil {
		tok, _ = a.ServerToken()
	}
	return client.New(rawURL, strings.TrimSpace(tok))
}
