package gui

import (
	"context"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// The server's address goes to config.json and its token to the keyring,
// never to a file; the form shows only whether a token is stored. A bad
// address is refused.
func TestSettingsServerAddressAndToken(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Sundsvalls kommun"})
	v := h.u.settings
	if v.serverTokenState.Text != "Ingen token" || v.serverTokenRemove.Visible() {
		t.Fatalf("state %q", v.serverTokenState.Text)
	}
	test.Type(v.serverURL, "http://kuvert.exempelby.se")
	test.Type(v.serverToken, "kvt_hemlig-token")
	v.save()
	if !strings.Contains(v.status.Text, "https://") {
		t.Fatalf("http to another host: %q", v.status.Text)
	}
	v.serverURL.SetText("https://kuvert.exempelby.se")
	v.save()
	cfg, err := config.Load(h.home)
	if err != nil || cfg.ServerURL != "https://kuvert.exempelby.se" {
		t.Fatalf("%+v %v", cfg, err)
	}
	if tok, _ := h.keys.Get(keyringService, settings.ServerTokenKey); tok != "kvt_hemlig-token" {
		t.Fatalf("keyring %q", tok)
	}
	b, _ := os.ReadFile(config.Path(h.home))
	if strings.Contains(string(b), "hemlig") || v.serverToken.Text != "" {
		t.Fatal("the token is in config.json or still in the field")
	}
	if v.serverTokenState.Text != "Token sparad" || !v.serverTokenRemove.Visible() {
		t.Fatalf("state %q", v.serverTokenState.Text)
	}
	test.Tap(v.serverTokenRemove)
	if _, err := h.keys.Get(keyringService, settings.ServerTokenKey); err == nil {
		t.Fatal("the token is still in the keyring")
	}
}

// Sealing in the app texts through the server's relay (no Twilio token
// on this computer) and ships the log in the background.
func TestSealShipsAndTextsThroughServer(t *testing.T) {
	h, srv, fake := sealThroughRelay(t, "a;b\n")
	if fake.Posts() != 1 {
		t.Fatalf("twilio got %d; status %q", fake.Posts(), h.u.seal.status.Text)
	}
	res, err := srv.Store.Search(context.Background(), server.Search{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	local := h.entries()
	shipped := 0
	for _, e := range res.Entries {
		if e.Device == "pc1" {
			shipped++
		}
	}
	if shipped != len(local) || shipped < 2 {
		t.Fatalf("central has %d of this computer's %d entries", shipped, len(local))
	}
}

// The log view says what waits for the server: with the server down the
// sealing is on record and waits; once it answers, everything went.
func TestLogViewShowsWhatWaitsForServer(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	h := newHarness(t, &config.Config{Organisation: "Sundsvalls kommun", ServerURL: srv.URL})
	h.keys.Set(keyringService, settings.ServerTokenKey, srv.Device)
	srv.SetDown(true)
	v := h.u.seal
	h.drop(h.file("lista.csv", "a;b\n"))
	test.Tap(v.primary)
	v.work.Wait()
	h.u.shipWork.Wait()
	lv := h.u.logv
	h.u.SelectTab("log")
	lv.refresh()
	if !lv.server.Visible() || !strings.Contains(lv.server.Text, "väntar på att skickas till kuvert-servern: 1.") {
		t.Fatalf("server down: %q", lv.server.Text)
	}
	srv.SetDown(false)
	h.u.shipInBackground(mustLog(t, h), h.u.config())
	h.u.shipWork.Wait()
	lv.refresh()
	if lv.server.Text != "Allt är skickat till kuvert-servern." {
		t.Fatalf("server back: %q", lv.server.Text)
	}
}

// sealThroughRelay is the app over a home that uses a server whose
// relay texts through fake, with a device token in the keyring, after it
// sealed lista.csv (content) with an SMS to 0701234567 and shipped its
// log.
func sealThroughRelay(t *testing.T, content string) (*harness, *servertest.Server, *twiliotest.Server) {
	t.Helper()
	srv, fake := servertest.StartRelay(t, cluster)
	h := newHarness(t, &config.Config{Organisation: "Sundsvalls kommun", ServerURL: srv.URL})
	h.keys.Set(keyringService, settings.ServerTokenKey, srv.Device)
	v := h.u.seal
	h.drop(h.file("lista.csv", content))
	test.Type(v.phone, "0701234567")
	test.Tap(v.primary)
	v.work.Wait()
	h.u.shipWork.Wait()
	return h, srv, fake
}

func mustLog(t *testing.T, h *harness) *auditlog.Log {
	l, err := h.u.openLog()
	if err != nil {
		t.Fatal(err)
	}
	return l
}
