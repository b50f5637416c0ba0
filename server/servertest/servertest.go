// Package servertest starts a real `kuvert server` for client tests: a
// Store on a fresh PostgreSQL database (pgtest), the HTTP handler on a
// loopback httptest server, and tokens for a device and a registrar.
// Nothing is mocked; the handler can be pointed at another Store (same
// address, other history) to play a server whose log was rewritten.
package servertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/sms"
)

// Server is a running test server.
type Server struct {
	*httptest.Server
	Store     *server.Store
	SKey      string // the signing key
	VKey      string // its verifier key
	Device    string // a device token ("pc1")
	Registrar string // a registrar token ("registrator")
	Sender    sms.Sender

	mu      sync.Mutex
	handler http.Handler
	down    bool
}

// Options for [Start].
type Options struct {
	Sender sms.Sender    // the relay's provider; nil: no SMS
	Limits server.Limits // default server.DefaultLimits
	SKey   string        // default a new key
	// Policy is the relay's words; default [Organisation] and the
	// default Swedish text.
	Policy *sms.Policy
}

// Organisation is the name the test relay's texts show by default.
const Organisation = "Testkommun"

// Start starts a server on a new database of cluster.
func Start(t testing.TB, cluster *pgtest.Cluster, o Options) *Server {
	t.Helper()
	skey := o.SKey
	if skey == "" {
		var err error
		if skey, _, err = server.GenerateKey("kuvert-test"); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{SKey: skey, Sender: o.Sender}
	st := s.NewStore(t, cluster, o)
	s.Store = st
	ctx := context.Background()
	var err error
	if s.Device, err = st.AddToken(ctx, "pc1", "device"); err != nil {
		t.Fatal(err)
	}
	if s.Registrar, err = st.AddToken(ctx, "registrator", "registrar"); err != nil {
		t.Fatal(err)
	}
	s.VKey = st.VerifierKey()
	s.handler = s.handlerFor(st, o)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// NewStore opens another Store with this server's key on a new database.
func (s *Server) NewStore(t testing.TB, cluster *pgtest.Cluster, o Options) *server.Store {
	t.Helper()
	st, err := server.OpenStore(context.Background(), pgtest.DB(t, cluster), s.SKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func (s *Server) handlerFor(st *server.Store, o Options) http.Handler {
	pol := o.Policy
	if pol == nil {
		pol = &sms.Policy{Organisation: Organisation}
	}
	// The organisation's settings, as `kuvert server run` hands them in
	// (with a relay, the relay's own words are answered).
	h := &server.Handler{Store: st, Org: &api.OrgSettings{Organisation: pol.Organisation, OpenerURL: pol.OpenerURL, SMSTemplate: pol.Template, SMSLanguage: pol.Lang}}
	if o.Sender != nil {
		lim := o.Limits
		if lim == (server.Limits{}) {
			lim = server.DefaultLimits
		}
		h.Relay = &server.Relay{Store: st, Sender: o.Sender, Limits: lim, Policy: pol}
	}
	return h
}

// Swap makes the same address serve st (a log with another history).
func (s *Server) Swap(st *server.Store) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = s.handlerFor(st, Options{Sender: s.Sender})
}

// SetDown makes the server answer nothing but a closed connection (down
// is true) or serve again.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h, down := s.handler, s.down
	s.mu.Unlock()
	if down {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// AddToken makes another token on the current store.
func (s *Server) AddToken(t testing.TB, name, role string) string {
	t.Helper()
	tok, err := s.Store.AddToken(context.Background(), name, role)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
