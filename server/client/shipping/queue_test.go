package shipping

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clienttest"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// central returns the IDs of the central log's entries from device, in
// the central log's order.
func central(t *testing.T, srv *servertest.Server) []string {
	t.Helper()
	res, err := srv.Store.Search(context.Background(), server.Search{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range res.Entries {
		if e.Device == "pc1" {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func localIDs(t *testing.T, l *auditlog.Log) []string {
	t.Helper()
	es, err := l.Entries()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range es {
		if !e.Pruned {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

func TestQueueShipsInOrderOnce(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	for i := range 7 {
		clienttest.Seal(t, l, fmt.Sprintf("KS 2026/%d", i))
	}
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device), Batch: 3}
	res, err := q.Ship(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Shipped != 7 || res.Duplicates != 0 || res.Waiting != 0 {
		t.Fatalf("first ship: %+v", res)
	}
	if got, want := central(t, srv), localIDs(t, l); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("central order %v, local %v", got, want)
	}
	res, err = q.Ship(context.Background())
	if err != nil || res.Shipped != 0 {
		t.Fatalf("second ship: %+v %v", res, err)
	}
	clienttest.Seal(t, l, "KS 2026/8")
	clienttest.Seal(t, l, "KS 2026/9")
	res, err = q.Ship(context.Background())
	if err != nil || res.Shipped != 2 || res.Duplicates != 0 {
		t.Fatalf("third ship: %+v %v", res, err)
	}
	got, want := central(t, srv), localIDs(t, l)
	if len(got) != 9 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("central %v, local %v", got, want)
	}
	st, err := q.Status()
	if err != nil || st.Waiting != 0 || st.Shipped != 9 || st.LastSync == "" || st.Head == nil || st.Head.Size != 9 {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestServerDownEntriesWait(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}
	clienttest.Seal(t, l, "A")
	if _, err := q.Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetDown(true)
	clienttest.Seal(t, l, "B")
	clienttest.Seal(t, l, "C")
	res, err := q.Ship(context.Background())
	if !errors.Is(err, client.ErrUnreachable) || !client.Temporary(err) || res.Waiting != 2 {
		t.Fatalf("with the server down: %+v %v", res, err)
	}
	st, _ := q.Status()
	if st.Waiting != 2 || st.LastError == "" || st.Stuck != nil {
		t.Fatalf("status %+v", st)
	}
	srv.SetDown(false)
	res, err = q.Ship(context.Background())
	if err != nil || res.Shipped != 2 || res.Duplicates != 0 {
		t.Fatalf("back up: %+v %v", res, err)
	}
	if got := central(t, srv); len(got) != 3 || strings.Join(got, ",") != strings.Join(localIDs(t, l), ",") {
		t.Fatalf("central %v", got)
	}
	st, _ = q.Status()
	if st.Waiting != 0 || st.LastError != "" {
		t.Fatalf("status after: %+v", st)
	}
}

// A crash between the server's answer and the cursor's write ships the
// batch again; the server keeps each entry once.
func TestCrashBeforeCursorWrite(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	for i := range 4 {
		clienttest.Seal(t, l, fmt.Sprint(i))
	}
	crash := errors.New("crash")
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device), testOnlyAfterAnswer: func() error { return crash }}
	if _, err := q.Ship(context.Background()); !errors.Is(err, crash) {
		t.Fatal(err)
	}
	if c, _ := ReadCursor(l.Dir()); c.Seq != 0 {
		t.Fatalf("cursor moved: %+v", c)
	}
	if n := len(central(t, srv)); n != 4 {
		t.Fatalf("the server has %d", n)
	}
	q.testOnlyAfterAnswer = nil
	res, err := q.Ship(context.Background())
	if err != nil || res.Shipped != 4 || res.Duplicates != 4 {
		t.Fatalf("re-ship: %+v %v", res, err)
	}
	if n := len(central(t, srv)); n != 4 {
		t.Fatalf("after the re-ship the server has %d", n)
	}
	res, err = q.Ship(context.Background())
	if err != nil || res.Shipped != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

// A damaged cursor position (the log's lines moved, e.g. by a prune)
// is found again by reading the log.
func TestCursorOffsetStale(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "1")
	clienttest.Seal(t, l, "2")
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}
	if _, err := q.Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, _ := ReadCursor(l.Dir())
	c.Offset = 3 // inside the first line
	if err := q.writeCursor(c); err != nil {
		t.Fatal(err)
	}
	clienttest.Seal(t, l, "3")
	res, err := q.Ship(context.Background())
	if err != nil || res.Shipped != 1 || res.Duplicates != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestPrunedStubsSkippedAndCounted(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	old := time.Now().AddDate(0, 0, -200).Format(time.RFC3339)
	for i := range 3 {
		if _, err := l.Append(auditlog.Entry{Action: auditlog.ActionSeal, Case: fmt.Sprint(i), Time: old}); err != nil {
			t.Fatal(err)
		}
	}
	clienttest.Seal(t, l, "new")
	n, err := l.Prune(time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}
	res, err := q.Ship(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The seal and the prune record ship; the three stubs do not.
	if res.Pruned != 3 || res.Shipped != 2 {
		t.Fatalf("%+v", res)
	}
	st, _ := q.Status()
	if st.Pruned != 3 || st.Waiting != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestForeignIDStopsAndWaits(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "1")
	first := clienttest.Seal(t, l, "2")
	// Another device ships this log first (a copied KUVERT_HOME).
	other := srv.AddToken(t, "pc2", "device")
	if _, err := (&Queue{Log: l, Client: clienttest.Client(t, srv.URL, other)}).Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(l.Dir(), CursorFile))
	clienttest.Seal(t, l, "3")
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}
	for range 2 { // a second try stops the same way: no loop, no skip
		res, err := q.Ship(context.Background())
		if !errors.Is(err, ErrStuck) || !errors.Is(err, client.ErrForbidden) || res.Shipped != 0 {
			t.Fatalf("%+v %v", res, err)
		}
	}
	st, _ := q.Status()
	if st.Stuck == nil || st.Stuck.Code != api.CodeForbidden || st.Waiting != 3 {
		t.Fatalf("status %+v", st)
	}
	if st.Stuck.ID != localIDs(t, l)[0] {
		t.Fatalf("stuck at %s, want the first entry (first=%s)", st.Stuck.ID, first.ID)
	}
}

func TestConflictStopsAndWaits(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	c := clienttest.Client(t, srv.URL, srv.Device)
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "ok")
	// The server holds this ID with other content.
	if _, err := c.Append(context.Background(), []auditlog.Entry{{ID: "20260101-00000000000000aa", Action: auditlog.ActionSeal, Case: "other", Time: time.Now().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(auditlog.Entry{ID: "20260101-00000000000000aa", Action: auditlog.ActionSeal, Case: "mine"}); err != nil {
		t.Fatal(err)
	}
	clienttest.Seal(t, l, "after")
	q := &Queue{Log: l, Client: c, Batch: 1}
	res, err := q.Ship(context.Background())
	if !errors.Is(err, ErrStuck) || !errors.Is(err, client.ErrConflict) {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Shipped != 1 || res.Waiting != 2 {
		t.Fatalf("the entry before the conflict ships, the rest waits: %+v", res)
	}
	st, _ := q.Status()
	if st.Stuck == nil || st.Stuck.ID != "20260101-00000000000000aa" || st.Stuck.Code != api.CodeConflict || st.Waiting != 2 {
		t.Fatalf("status %+v", st.Stuck)
	}
}

func TestShipLock(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "1")
	q := &Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}
	unlock, err := q.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Ship(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second shipper: %v", err)
	}
	unlock()
	if res, err := q.Ship(context.Background()); err != nil || res.Shipped != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestSearchExportVerify(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := clienttest.Log(t)
	clienttest.Seal(t, l, "KS 2026/1")
	clienttest.Seal(t, l, "KS 2026/2")
	if _, err := (&Queue{Log: l, Client: clienttest.Client(t, srv.URL, srv.Device)}).Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := clienttest.Client(t, srv.URL, srv.Registrar)
	res, err := reg.Search(context.Background(), client.Query{Case: "ks 2026/2"})
	if err != nil || len(res.Entries) != 1 || res.Entries[0].Case != "KS 2026/2" {
		t.Fatalf("%+v %v", res, err)
	}
	var b strings.Builder
	if err := reg.ExportCSV(context.Background(), client.Query{}, &b); err != nil || !strings.Contains(b.String(), "KS 2026/1") {
		t.Fatalf("%q %v", b.String(), err)
	}
	vr, err := reg.Verify(context.Background())
	if err != nil || !vr.OK || vr.Key != srv.VKey {
		t.Fatalf("%+v %v", vr, err)
	}
}
