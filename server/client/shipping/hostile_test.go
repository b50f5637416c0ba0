package shipping

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clienttest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

// A compromised server swallows uploads: it takes the entries, stores
// nothing, and answers with made-up places beyond its own (genuinely
// signed) head. The queue must not move on, and must say why.
func TestQueueRefusesMadeUpPlaces(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	real, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(real)
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/entries" {
			proxy.ServeHTTP(w, r)
			return
		}
		var req api.AppendRequest
		json.NewDecoder(r.Body).Decode(&req)
		head, err := srv.Store.Head(r.Context())
		if err != nil {
			t.Error(err)
		}
		res := api.AppendResponse{Head: head}
		for i, e := range req.Entries {
			seq := head.Size + int64(i) + 1
			res.Results = append(res.Results, api.AppendResult{ID: e.ID, Seq: seq, Index: seq - 1})
		}
		json.NewEncoder(w).Encode(res)
	}))
	defer hostile.Close()

	l := clienttest.Log(t)
	clienttest.Seal(t, l, "KS 2026/1")
	clienttest.Seal(t, l, "KS 2026/2")
	// The shell's words keep the failure for people: the cursor holds
	// what they render, not the fault's machine text.
	words := func(err error) string { return "ORD: " + err.Error() }
	q := &Queue{Log: l, Client: clienttest.Client(t, hostile.URL, srv.Device), Words: words}
	_, err := q.Ship(context.Background())
	if !errors.Is(err, client.ErrTampered) || !errors.Is(err, ErrStuck) || !strings.Contains(err.Error(), "outside its signed head") {
		t.Fatalf("ship to a server answering made-up places: %v", err)
	}
	c, err := ReadCursor(l.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if c.Seq != 0 || c.Shipped != 0 || c.Stuck == nil || c.Stuck.Code != StuckTampered {
		t.Fatalf("the queue moved on or does not say why: %+v", c)
	}
	if !strings.HasPrefix(c.Stuck.Message, "ORD: "+string(client.CodeCentralTampered)) || !strings.HasPrefix(c.LastError, "ORD: ") {
		t.Fatalf("the cursor keeps %q and %q, not the shell's words", c.Stuck.Message, c.LastError)
	}
	st, _ := q.Status()
	if st.Waiting != 2 {
		t.Fatalf("waiting %d, want both entries", st.Waiting)
	}

	// The same entries to the real server: proved, and the queue moves.
	q = &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device), Key: srv.VKey}
	res, err := q.Ship(context.Background())
	if err != nil || res.Shipped != 2 {
		t.Fatalf("ship to the real server: %+v %v", res, err)
	}
}

// A sync with nothing to ship keeps the server's head only when it is
// signed by the trusted key: a server that answers with a head under
// another key is refused and the good head stays.
func TestEmptySyncChecksTheHead(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "KS 2026/3")
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device), Key: srv.VKey}
	if _, err := q.Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, err := ReadCursor(l.Dir())
	if err != nil || before.Head == nil {
		t.Fatalf("no head kept after a good sync: %+v %v", before, err)
	}

	// A second server with a key of its own and an entry of its own; the
	// forger answers the head request with that server's signed head.
	other := servertest.Start(t, cluster, servertest.Options{})
	if _, _, err := other.Store.Append(context.Background(), "pc9", []auditlog.Entry{{ID: "x-1", Action: auditlog.ActionSeal, Time: time.Now().UTC().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	forged := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := other.Store.Head(r.Context())
		if err != nil {
			t.Error(err)
		}
		json.NewEncoder(w).Encode(h)
	}))
	defer forged.Close()
	q = &Queue{Log: l, Client: clienttest.Client(t, forged.URL, srv.Device), Key: srv.VKey}
	// The cursor is the good server's; keep it for this address, as if the
	// good server's address now answered with the forger.
	c, _ := ReadCursor(l.Dir())
	c.Server = q.Client.URL()
	if err := q.writeCursor(c); err != nil {
		t.Fatal(err)
	}
	_, err = q.Ship(context.Background())
	if !errors.Is(err, client.ErrTampered) {
		t.Fatalf("a head under another key on an empty sync: %v", err)
	}
	after, _ := ReadCursor(l.Dir())
	if after.Head == nil || after.Head.Note != before.Head.Note {
		t.Fatalf("the forged head replaced the good one")
	}
}
