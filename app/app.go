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

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/settings"
)

// App is what the use cases need from the machine, built once by a shell
// (the CLI's Factory, the desktop app's window) and handed in, as the
// GitHub CLI's cmdutil.Factory is: tests build one over a temporary
// folder and an environment of their own instead of setting the
// process's.
type App struct {
	// Settings are every setting with its source (package settings),
	// resolved by the shell: the home folder, config.json, the server's
	// address and token.
	Settings *settings.Settings
	// LogDir is the compliance log's folder; "" means Home/log.
	LogDir string
	// Tool names the program in the log's entries ("kuvert 1.2.0").
	Tool string
}

// ErrNoServer is returned when a use case needs the kuvert server and
// none is configured.
var ErrNoServer = errors.New("no kuvert server is configured")

// Home is kuvert's state folder ($KUVERT_HOME): config.json, the log's
// signing key, the server heads this computer has seen.
func (a *App) Home() string { return a.Settings.Home.Value }

// OpenLog opens the compliance log (LogDir, else Home/log) with its
// signing key in Home/keys; it returns the settings beside it.
func (a *App) OpenLog() (*auditlog.Log, *settings.Settings, error) {
	dir := a.LogDir
	if dir == "" {
		dir = filepath.Join(a.Home(), "log")
	}
	l, err := auditlog.Open(auditlog.Options{Dir: dir, KeyDir: filepath.Join(a.Home(), "keys"), Tool: a.Tool})
	if err != nil {
		return nil, nil, err
	}
	return l, a.Settings, nil
}

// Server makes the client of the kuvert server at rawURL, or of the
// configured one when rawURL is "" ([ErrNoServer] when there is none),
// with the configured token; a missing token is [client.ErrNoToken].
func (a *App) Server(rawURL string) (*client.Client, error) {
	if rawURL == "" {
		if rawURL = a.Settings.ServerURL.Value; rawURL == "" {
			return nil, ErrNoServer
		}
	}
	return clientenv.Dial(rawURL, a.Settings)
}
