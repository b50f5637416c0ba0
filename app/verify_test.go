package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
	"github.com/kuvert-app/kuvert/settings"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// serverApp is an App over home whose environment names srv and token.
func serverApp(t *testing.T, home, url, token string) *App {
	t.Helper()
	env := map[string]string{"KUVERT_SERVER_URL": url, "KUVERT_SERVER_TOKEN": token}
	st, err := settings.Resolve(settings.Sources{Home: home, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return &App{Settings: st, Tool: "kuvert test"}
}

// The key-swap rule, as every shell gets it: a server that rewrote its
// history under a key of its own fails the check taken with the key it
// reports, because the heads this computer kept are signed with the
// other; given the new key explicitly, the check passes and says a new
// key means a new log.
func TestVerifyServerKeySwap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := servertest.Start(t, cluster, servertest.Options{})
	home := filepath.Join(t.TempDir(), "home")
	a := serverApp(t, home, srv.URL, srv.Registrar)
	c, err := a.Server("")
	if err != nil {
		t.Fatal(err)
	}
	chk, err := a.VerifyServer(ctx, c, "")
	if err != nil || chk.Head == nil || chk.Head.Previous != nil || chk.Server == nil || !slices.Equal(chk.Warnings, []ServerWarning{KeyFromServer}) {
		t.Fatalf("first check: %+v, %v", chk, err)
	}
	if chk, err = a.VerifyServer(ctx, c, srv.VKey); err != nil || chk.Head.Previous == nil || len(chk.Warnings) != 0 {
		t.Fatalf("second check, with the published key: %+v, %v", chk, err)
	}

	tok, vkey := srv.Rewrite(t, cluster, auditlog.Entry{ID: "f-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)})
	a = serverApp(t, home, srv.URL, tok)
	if c, err = a.Server(""); err != nil {
		t.Fatal(err)
	}
	chk, err = a.VerifyServer(ctx, c, "")
	if !errors.Is(err, client.ErrTampered) || chk == nil || !slices.Equal(chk.OtherKeys, []string{srv.VKey}) {
		t.Fatalf("the server's own new key: %+v, %v; want tampering, other key %s", chk, err, srv.VKey)
	}
	chk, err = a.VerifyServer(ctx, c, vkey)
	if err != nil || !slices.Contains(chk.Warnings, OtherKeys) || chk.Key != vkey {
		t.Fatalf("the new key given: %+v, %v", chk, err)
	}
}

// Without a server configured the layer says so with one error value
// the shells put into words.
func TestServerNotConfigured(t *testing.T) {
	t.Parallel()
	a := serverApp(t, t.TempDir(), "", "")
	if _, err := a.Server(""); !errors.Is(err, ErrNoServer) {
		t.Fatalf("got %v, want ErrNoServer", err)
	}
}
