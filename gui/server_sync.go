package gui

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2/lang"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/server/client/shipping"
)

// serverToken is the kuvert server's token from the OS keyring, where
// Settings put it (KUVERT_SERVER_TOKEN comes first, in clientenv.Dial).
func (u *UI) serverToken() (string, error) {
	return u.deps.Keyring.Get(keyringService, client.KeyringUser)
}

// shipMu serialises the app's background shipping; the queue's file
// lock keeps other kuvert processes out.
var shipMu sync.Mutex

// shipInBackground ships the log's waiting entries to the kuvert server,
// if one is configured, on a goroutine of its own: sealing never waits
// for it, and what does not go now goes after the next sealing (or with
// `kuvert log sync`). ShipWait lets tests wait for it.
func (u *UI) shipInBackground(l *auditlog.Log, cfg *config.Config) {
	if cfg == nil || clientenv.URL(cfg) == "" {
		return
	}
	c, err := clientenv.FromConfig(cfg, u.serverToken)
	if err != nil || c == nil {
		return
	}
	u.shipWork.Add(1)
	go func() {
		defer u.shipWork.Done()
		shipMu.Lock()
		defer shipMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		(&shipping.Queue{Log: l, Client: c}).Ship(ctx)
	}()
}

// serverLine says, for the log view, whether entries wait for the kuvert
// server (as `kuvert log status` does); "" when no server is set. It
// never calls the server.
func (u *UI) serverLine(l *auditlog.Log) string {
	cfg := u.config()
	if clientenv.URL(cfg) == "" {
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
