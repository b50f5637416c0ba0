package gui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/server/client/shipping"
)

// shipMu serialises the app's background shipping; the queue's file
// lock keeps other kuvert processes out.
var shipMu sync.Mutex

// shipInBackground ships the log's waiting entries to the kuvert server,
// if one is configured, on a goroutine of its own: sealing never waits
// for it, and what does not go now goes after the next sealing (or with
// `kuvert log sync`). ShipWait lets tests wait for it.
//
// It follows the CLI's rule (clientenv.Ensure): a computer with a server
// and an enrollment code but no token enrolls first, and the
// organisation's settings are fetched and cached.
func (u *UI) shipInBackground(l *auditlog.Log, cfg *config.Config) {
	s, err := u.settingsFor(cfg)
	if err != nil || s.ServerURL.Value == "" {
		return
	}
	src, err := u.sources(cfg, u.deps.Keyring)
	if err != nil {
		return
	}
	u.shipWork.Add(1)
	go func() {
		defer u.shipWork.Done()
		shipMu.Lock()
		defer shipMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, c, err := clientenv.Ensure(ctx, clientenv.Env{Sources: src, Keyring: u.deps.Keyring})
		if err != nil || c == nil {
			return
		}
		app.Sync(ctx, l, c, 0, describe)
	}()
}

// serverLine says, for the log view, whether entries wait for the kuvert
// server (as `kuvert log status` does); "" when no server is set. It
// never calls the server.
func (u *UI) serverLine(l *auditlog.Log) string {
	s, err := u.settingsFor(u.config())
	if err != nil || s.ServerURL.Value == "" {
		return ""
	}
	st, err := (&shipping.Queue{Log: l}).Status()
	switch {
	case err != nil:
		return friendly(err)
	case st.Stuck != nil:
		return lang.L("log.server.stuck", map[string]any{"Waiting": st.Waiting, "Message": st.Stuck.Message})
	case st.Waiting > 0:
		return lang.L("log.server.waiting", map[string]any{"Waiting": st.Waiting})
	}
	return lang.L("log.server.synced")
}
