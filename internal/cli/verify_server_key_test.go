package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/servertest"
)

// An operator who rewrites history and signs it with a new key of its
// own, which the server then reports at /api/v1/log/key, must not pass
// `kuvert log verify --server` without --key: the heads this computer
// saw (and the head its queue received) are signed by the old key, and
// only the server vouches for the new one.
func TestVerifyServerKeySwapWithoutKeyIsTampering(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, cluster, servertest.Options{})
	e := serverHome(t, srv, srv.Device)
	if code, _, errOut := e.sealFile(t, "lista.csv"); code != 0 {
		t.Fatal(errOut)
	}
	e.env["KUVERT_SERVER_TOKEN"] = srv.Registrar
	if code, out, errOut := e.run("log", "verify", "--server"); code != 0 {
		t.Fatalf("first verify: %d %q %q", code, out, errOut)
	}

	tok, forgedKey := srv.Rewrite(t, cluster,
		auditlog.Entry{ID: "f-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)},
		auditlog.Entry{ID: "f-2", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)})
	e.env["KUVERT_SERVER_TOKEN"] = tok
	code, out, errOut := e.run("log", "verify", "--server")
	if code != ExitLogInvalid {
		t.Fatalf("a server that swapped its key and its history: %d %q %q, want exit %d", code, out, errOut, ExitLogInvalid)
	}
	// With the new key given explicitly (an administrator published it),
	// the change is the user's call, but it is said aloud.
	code, out, errOut = e.run("log", "verify", "--server", "--key", forgedKey)
	if code != 0 || !strings.Contains(errOut, "another key") || !strings.Contains(errOut, "shipped") {
		t.Fatalf("explicit new key: %d %q %q", code, out, errOut)
	}
}
