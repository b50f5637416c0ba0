package servertest

import (
	"context"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// StartRelay starts a server whose relay texts through a loopback fake
// of Twilio's REST API, which it returns beside it.
func StartRelay(t testing.TB, cluster *pgtest.Cluster) (*Server, *twiliotest.Server) {
	t.Helper()
	fake := twiliotest.NewServer()
	t.Cleanup(fake.Close)
	tw, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	return Start(t, cluster, Options{Sender: tw}), fake
}

// Rewrite plays a server whose operator rewrote its history under a
// signing key of its own: a new store on a new database of cluster,
// holding only entries (as device pc1's), is served at the same address.
// It returns a registrar token of the new store and its verifier key,
// which the server now reports as its own.
func (s *Server) Rewrite(t testing.TB, cluster *pgtest.Cluster, entries ...auditlog.Entry) (registrar, vkey string) {
	t.Helper()
	ctx := context.Background()
	key, _, err := server.GenerateKey("kuvert-server")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := server.OpenStore(ctx, pgtest.DB(t, cluster), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(forged.Close)
	if _, _, err := forged.Append(ctx, "pc1", entries); err != nil {
		t.Fatal(err)
	}
	if registrar, err = forged.AddToken(ctx, "registrator", "registrar"); err != nil {
		t.Fatal(err)
	}
	s.Swap(forged)
	return registrar, forged.VerifierKey()
}
