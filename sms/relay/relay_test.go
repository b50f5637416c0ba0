package relay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/client/clienttest"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func relayServer(t *testing.T, lim server.Limits) (*servertest.Server, *twiliotest.Server) {
	fake := twiliotest.NewServer()
	t.Cleanup(fake.Close)
	tw, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From,
		BaseURL: fake.URL, Timeout: 300 * time.Millisecond, Retries: 1, Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return servertest.Start(t, cluster, servertest.Options{Sender: tw, Limits: lim}), fake
}

const password = "Hemlig-Kanin-Tolv-Moln"

func TestSMSThroughServerOncePerKey(t *testing.T) {
	srv, fake := relayServer(t, server.Limits{PerDevice: 3, PerAccount: 100})
	s := &Sender{Client: clienttest.Client(t, srv.URL, srv.Device)}
	ctx := context.Background()
	m := sms.Message{To: "+46701234567", Password: password, Key: "seal-1/abc234", Ref: "abc234", Refers: "seal-1"}
	rc1, err := s.Send(ctx, m)
	if err != nil || rc1.ID == "" || rc1.Provider != ProviderName {
		t.Fatalf("%+v %v", rc1, err)
	}
	rc2, err := s.Send(ctx, m)
	if err != nil || rc2.ID != rc1.ID {
		t.Fatalf("again: %+v %v", rc2, err)
	}
	if fake.Posts() != 1 {
		t.Fatalf("the provider got %d texts for one key", fake.Posts())
	}
	if st, err := s.Status(ctx, rc1.ID); err != nil || st.ID != rc1.ID {
		t.Fatalf("status %+v %v", st, err)
	}
	m.Key = "seal-2/def456"
	if _, err := s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if fake.Posts() != 2 {
		t.Fatalf("posts %d", fake.Posts())
	}
	// The rate limit: a clear refusal that wraps ErrNotDelivered.
	m.Key = "seal-3/x"
	s.Send(ctx, m)
	m.Key = "seal-4/y"
	_, err = s.Send(ctx, m)
	var pe *sms.ProviderError
	if !errors.Is(err, sms.ErrNotDelivered) || !errors.As(err, &pe) || pe.Status != http.StatusTooManyRequests || pe.Hint == "" {
		t.Fatalf("rate limited: %v", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Fatal("the password is in the error")
	}
}

func TestSMSThroughServerAlreadySent(t *testing.T) {
	srv, fake := relayServer(t, server.DefaultLimits)
	s := &Sender{Client: clienttest.Client(t, srv.URL, srv.Device)}
	ctx := context.Background()
	// The provider fails without a clear refusal: the text may have gone
	// out, so the server never sends it for this key again.
	fake.Script(twiliotest.Behaviour{Status: 500}, twiliotest.Behaviour{Status: 500}, twiliotest.Behaviour{Status: 500})
	m := sms.Message{To: "+46701234567", Password: password, Key: "seal-9/ref999", Ref: "ref999"}
	_, err := s.Send(ctx, m)
	if !errors.Is(err, sms.ErrNotDelivered) || strings.Contains(err.Error(), password) {
		t.Fatalf("first: %v", err)
	}
	posts := fake.Posts()
	_, err = s.Send(ctx, m)
	var pe *sms.ProviderError
	if !errors.As(err, &pe) || pe.Status != http.StatusConflict || !strings.Contains(pe.Hint, "resend") || strings.Contains(err.Error(), password) {
		t.Fatalf("retry: %v", err)
	}
	if fake.Posts() != posts {
		t.Fatal("the retry reached the provider")
	}
	// A refusal by the provider (a bad number) is a 502 in words.
	fake.RefuseNumber("+46701234568", 21211)
	_, err = s.Send(ctx, sms.Message{To: "+46701234568", Password: password, Ref: "abc234", Key: "k2"})
	if !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || strings.Contains(err.Error(), password) {
		t.Fatalf("refused: %v", err)
	}
	// Down: may or may not have gone out, and says so.
	srv.SetDown(true)
	_, err = s.Send(ctx, sms.Message{To: "+46701234567", Password: password, Ref: "abc234", Key: "k3"})
	if !errors.Is(err, sms.ErrNotDelivered) || strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "may or may not have gone out") {
		t.Fatalf("down: %v", err)
	}
	// No connection at all: the request never left, so nothing was texted.
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	s2 := &Sender{Client: clienttest.Client(t, closed, srv.Device)}
	_, err = s2.Send(ctx, sms.Message{To: "+46701234567", Password: password, Ref: "abc234", Key: "k4"})
	if !errors.Is(err, sms.ErrNotDelivered) || !errors.As(err, &pe) || strings.Contains(err.Error(), password) ||
		!strings.Contains(err.Error(), "sms:et skickades inte / the SMS was not sent") || strings.Contains(err.Error(), "may or may not") || !strings.Contains(pe.Hint, "nothing was texted") {
		t.Fatalf("refused connection: %v (hint %q)", err, pe.Hint)
	}
}
