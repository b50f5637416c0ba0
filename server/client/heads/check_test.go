package heads

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clienttest"
	"github.com/kuvert-app/kuvert/server/client/shipping"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// verify --server's core: the head is checked with the key and against
// every head seen before.
func TestCheckServerCatchesRewrittenAndShrunkHistory(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	home := t.TempDir()
	ctx := context.Background()
	ship := func(st *server.Store, n int, tag string) {
		t.Helper()
		var es []auditlog.Entry
		for i := range n {
			es = append(es, auditlog.Entry{ID: fmt.Sprintf("%s-%d", tag, i), Action: auditlog.ActionSeal, Case: tag, Time: time.Now().Format(time.RFC3339)})
		}
		if _, _, err := st.Append(ctx, "pc1", es); err != nil {
			t.Fatal(err)
		}
	}
	ship(srv.Store, 5, "a")
	reg := clienttest.Client(t, srv.URL, srv.Registrar)
	hc, err := Check(ctx, reg, Store{Dir: home}, srv.VKey, nil)
	if err != nil || hc.Previous != nil || hc.Head.Size != 5 {
		t.Fatalf("%+v %v", hc, err)
	}
	ship(srv.Store, 3, "b")
	hc, err = Check(ctx, reg, Store{Dir: home}, srv.VKey, nil)
	if err != nil || hc.Previous == nil || *hc.Previous != 5 || hc.Head.Size != 8 {
		t.Fatalf("a grown log: %+v %v", hc, err)
	}
	// The wrong key.
	_, otherV, _ := server.GenerateKey("kuvert-test")
	if _, err := Check(ctx, reg, Store{Dir: home}, otherV, nil); !errors.Is(err, auditlog.ErrTampered) {
		t.Fatalf("another key: %v", err)
	}

	// Same address, same key, another history of more entries.
	forged := srv.NewStore(t, cluster, servertest.Options{})
	ship(forged, 10, "x")
	srv.Swap(forged)
	tok, err := forged.AddToken(ctx, "registrator", "registrar")
	if err != nil {
		t.Fatal(err)
	}
	freg := clienttest.Client(t, srv.URL, tok)
	if _, err := Check(ctx, freg, Store{Dir: home}, srv.VKey, nil); !errors.Is(err, client.ErrTampered) || !strings.Contains(err.Error(), "rewritten") {
		t.Fatalf("rewritten history: %v", err)
	}
	// Same history start but cut back: a shrunk head.
	shrunk := srv.NewStore(t, cluster, servertest.Options{})
	ship(shrunk, 5, "a")
	srv.Swap(shrunk)
	tok, _ = shrunk.AddToken(ctx, "registrator", "registrar")
	if _, err := Check(ctx, clienttest.Client(t, srv.URL, tok), Store{Dir: home}, srv.VKey, nil); !errors.Is(err, client.ErrTampered) || !strings.Contains(err.Error(), "cut back") {
		t.Fatalf("shrunk: %v", err)
	}
	// The genuine log still checks out after all that: nothing above was
	// saved as seen.
	srv.Swap(srv.Store)
	if _, err := Check(ctx, reg, Store{Dir: home}, srv.VKey, nil); err != nil {
		t.Fatal(err)
	}
}

// A head the shipping queue received is part of the check even on a
// computer that never ran verify before.
func TestCheckServerUsesShippedHead(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	ctx := context.Background()
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "1")
	clienttest.Seal(t, l, "2")
	if _, err := (&shipping.Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}).Ship(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ := shipping.ReadCursor(l.Dir())
	forged := srv.NewStore(t, cluster, servertest.Options{})
	if _, _, err := forged.Append(ctx, "pc1", []auditlog.Entry{{ID: "z-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)}, {ID: "z-2", Action: auditlog.ActionSeal}, {ID: "z-3", Action: auditlog.ActionSeal}}); err != nil {
		t.Fatal(err)
	}
	srv.Swap(forged)
	tok, _ := forged.AddToken(ctx, "registrator", "registrar")
	_, err := Check(ctx, clienttest.Client(t, srv.URL, tok), Store{Dir: t.TempDir()}, srv.VKey, cur.Head)
	if !errors.Is(err, client.ErrTampered) {
		t.Fatalf("a log without this computer's entries: %v", err)
	}
}
