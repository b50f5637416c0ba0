package gui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/servertest"
	"github.com/kuvert-app/kuvert/settings"
)

// A desktop app that knows only the server's address and an enrollment
// code (as machine policy gives them) enrolls by itself the first time it
// ships (clientenv.Ensure, the CLI's rule), keeps the token in the
// keyring, ships its log under the enrolled name and takes the
// organisation's name from the server.
func TestAppEnrollsByItselfAndShips(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	ctx := context.Background()
	code, _, err := srv.Store.AddEnrollCode(ctx, "hr-", 1, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, &config.Config{ServerURL: srv.URL})
	h.setenv("KUVERT_ENROLLMENT_CODE", code)
	v := h.u.seal
	h.drop(h.file("lista.csv", "a;b\n"))
	test.Tap(v.primary)
	v.work.Wait()
	h.u.shipWork.Wait()
	tok, err := h.keys.Get(keyringService, settings.ServerTokenKey)
	if err != nil || !strings.HasPrefix(tok, "kvt_") {
		t.Fatalf("no token in the keyring: %v; status %q", err, v.status.Text)
	}
	name, role, err := srv.Store.Authenticate(ctx, tok)
	if err != nil || role != "device" || !strings.HasPrefix(name, "hr-") {
		t.Fatalf("enrolled as %q %q %v", name, role, err)
	}
	res, err := srv.Store.Search(ctx, server.Search{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	shipped := 0
	for _, e := range res.Entries {
		if e.Device == name {
			shipped++
		}
	}
	if shipped == 0 || shipped != len(h.entries()) {
		t.Fatalf("central has %d of this computer's %d entries", shipped, len(h.entries()))
	}
	s, err := h.u.settingsFor(h.u.config())
	if err != nil || s.Organisation.Value != servertest.Organisation || s.Organisation.Source != settings.FromServer {
		t.Fatalf("organisation %+v %v", s.Organisation, err)
	}
}

// Given a server address and an enrollment code but no device token, the
// app's first sealing with an SMS through the server's relay enrolls
// before it texts (as the CLI does), so the text goes out and names the
// organisation the server gives. A second computer with the code used
// up is told so in Swedish, texts nothing and seals nothing.
func TestAppEnrollsBeforeItsFirstText(t *testing.T) {
	srv, fake := servertest.StartRelay(t, cluster)
	code, _, err := srv.Store.AddEnrollCode(context.Background(), "hr-", 1, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sealWithCode := func() *harness {
		h := newHarness(t, &config.Config{ServerURL: srv.URL})
		h.setenv("KUVERT_ENROLLMENT_CODE", code)
		v := h.u.seal
		h.drop(h.file("lista.csv", "a;b\n"))
		test.Type(v.phone, "0701234567")
		test.Tap(v.primary)
		v.work.Wait()
		h.u.shipWork.Wait()
		return h
	}
	h := sealWithCode()
	if fake.Posts() != 1 {
		t.Fatalf("twilio got %d; status %q", fake.Posts(), h.u.seal.status.Text)
	}
	if tok, err := h.keys.Get(keyringService, settings.ServerTokenKey); err != nil || !strings.HasPrefix(tok, "kvt_") {
		t.Fatalf("no token in the keyring: %v", err)
	}
	if msgs := fake.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Body, servertest.Organisation) {
		t.Fatalf("text %+v does not name %q", msgs, servertest.Organisation)
	}

	h2 := sealWithCode()
	if fake.Posts() != 1 {
		t.Fatalf("a text went out without a token: %d", fake.Posts())
	}
	if got := h2.u.seal.status.Text; !strings.Contains(got, "förbrukad") {
		t.Fatalf("status %q does not say the code is used up", got)
	}
	if n := len(h2.entries()); n != 0 {
		t.Fatalf("%d entries in the log of a computer that sealed nothing", n)
	}
}
