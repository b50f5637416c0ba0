package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func newLog(t *testing.T) *auditlog.Log {
	t.Helper()
	dir := t.TempDir()
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "kuvert test"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func seal(t *testing.T, l *auditlog.Log, caseNo string) *auditlog.Entry {
	t.Helper()
	e, err := l.Append(auditlog.Entry{Action: auditlog.ActionSeal, Case: caseNo, Format: "zip"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustClient(t *testing.T, url, tok string) *Client {
	t.Helper()
	c, err := New(url, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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
	l := newLog(t)
	for i := range 7 {
		seal(t, l, fmt.Sprintf("KS 2026/%d", i))
	}
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device), Batch: 3}
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
	seal(t, l, "KS 2026/8")
	seal(t, l, "KS 2026/9")
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
	l := newLog(t)
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}
	seal(t, l, "A")
	if _, err := q.Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.SetDown(true)
	seal(t, l, "B")
	seal(t, l, "C")
	res, err := q.Ship(context.Background())
	if !errors.Is(err, ErrUnreachable) || !Temporary(err) || res.Waiting != 2 {
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
	l := newLog(t)
	for i := range 4 {
		seal(t, l, fmt.Sprint(i))
	}
	crash := errors.New("crash")
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device), testOnlyAfterAnswer: func() error { return crash }}
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
	l := newLog(t)
	seal(t, l, "1")
	seal(t, l, "2")
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}
	if _, err := q.Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, _ := ReadCursor(l.Dir())
	c.Offset = 3 // inside the first line
	if err := q.writeCursor(c); err != nil {
		t.Fatal(err)
	}
	seal(t, l, "3")
	res, err := q.Ship(context.Background())
	if err != nil || res.Shipped != 1 || res.Duplicates != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestPrunedStubsSkippedAndCounted(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := newLog(t)
	old := time.Now().AddDate(0, 0, -200).Format(time.RFC3339)
	for i := range 3 {
		if _, err := l.Append(auditlog.Entry{Action: auditlog.ActionSeal, Case: fmt.Sprint(i), Time: old}); err != nil {
			t.Fatal(err)
		}
	}
	seal(t, l, "new")
	n, err := l.Prune(time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}
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
	l := newLog(t)
	seal(t, l, "1")
	first := seal(t, l, "2")
	// Another device ships this log first (a copied KUVERT_HOME).
	other := srv.AddToken(t, "pc2", "device")
	if _, err := (&Queue{Log: l, Client: mustClient(t, srv.URL, other)}).Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(l.Dir(), CursorFile))
	seal(t, l, "3")
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}
	for range 2 { // a second try stops the same way: no loop, no skip
		res, err := q.Ship(context.Background())
		if !errors.Is(err, ErrStuck) || !errors.Is(err, ErrForbidden) || res.Shipped != 0 {
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
	c := mustClient(t, srv.URL, srv.Device)
	l := newLog(t)
	seal(t, l, "ok")
	// The server holds this ID with other content.
	if _, err := c.Append(context.Background(), []auditlog.Entry{{ID: "20260101-00000000000000aa", Action: auditlog.ActionSeal, Case: "other", Time: time.Now().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(auditlog.Entry{ID: "20260101-00000000000000aa", Action: auditlog.ActionSeal, Case: "mine"}); err != nil {
		t.Fatal(err)
	}
	seal(t, l, "after")
	q := &Queue{Log: l, Client: c, Batch: 1}
	res, err := q.Ship(context.Background())
	if !errors.Is(err, ErrStuck) || !errors.Is(err, ErrConflict) {
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
	l := newLog(t)
	seal(t, l, "1")
	q := &Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}
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

func TestTokenNeverShown(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	bad := "kvt_this-is-not-a-token-but-secret"
	c := mustClient(t, srv.URL, bad)
	_, err := c.Head(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatal(err)
	}
	shown := fmt.Sprintf("%v %+v %#v %s %v", err, c, c, c, *c)
	if strings.Contains(shown, "not-a-token") {
		t.Fatalf("the token shows: %s", shown)
	}
	if !strings.Contains(err.Error(), "token") || !strings.Contains(err.Error(), "servern") {
		t.Fatalf("unclear: %v", err)
	}
	// Registrar-only endpoints refuse a device, in words.
	_, err = mustClient(t, srv.URL, srv.Device).Search(context.Background(), Query{})
	if !errors.Is(err, ErrForbidden) {
		t.Fatal(err)
	}
	srv.SetDown(true)
	_, err = mustClient(t, srv.URL, bad).Head(context.Background())
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "not-a-token") {
		t.Fatal(err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{"https://kuvert.sundsvall.se", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9/base/"} {
		if _, err := CheckURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://kuvert.sundsvall.se", "ftp://x", "kuvert.se", "https://user:pw@kuvert.se", "https://kuvert.se/?token=x", ""} {
		_, err := CheckURL(u)
		if err == nil {
			t.Errorf("%s accepted", u)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: the password shows: %v", u, err)
		}
	}
}

func TestSearchExportVerify(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	l := newLog(t)
	seal(t, l, "KS 2026/1")
	seal(t, l, "KS 2026/2")
	if _, err := (&Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}).Ship(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := mustClient(t, srv.URL, srv.Registrar)
	res, err := reg.Search(context.Background(), Query{Case: "ks 2026/2"})
	if err != nil || len(res.Entries) != 1 || res.Entries[0].Case != "KS 2026/2" {
		t.Fatalf("%+v %v", res, err)
	}
	var b strings.Builder
	if err := reg.ExportCSV(context.Background(), Query{}, &b); err != nil || !strings.Contains(b.String(), "KS 2026/1") {
		t.Fatalf("%q %v", b.String(), err)
	}
	vr, err := reg.Verify(context.Background())
	if err != nil || !vr.OK || vr.Key != srv.VKey {
		t.Fatalf("%+v %v", vr, err)
	}
}

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
	reg := mustClient(t, srv.URL, srv.Registrar)
	hc, err := reg.CheckServer(ctx, home, srv.VKey, nil)
	if err != nil || hc.Previous != nil || hc.Head.Size != 5 {
		t.Fatalf("%+v %v", hc, err)
	}
	ship(srv.Store, 3, "b")
	hc, err = reg.CheckServer(ctx, home, srv.VKey, nil)
	if err != nil || hc.Previous == nil || *hc.Previous != 5 || hc.Head.Size != 8 {
		t.Fatalf("a grown log: %+v %v", hc, err)
	}
	// The wrong key.
	_, otherV, _ := server.GenerateKey("kuvert-test")
	if _, err := reg.CheckServer(ctx, home, otherV, nil); !errors.Is(err, auditlog.ErrTampered) {
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
	freg := mustClient(t, srv.URL, tok)
	if _, err := freg.CheckServer(ctx, home, srv.VKey, nil); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "rewritten") {
		t.Fatalf("rewritten history: %v", err)
	}
	// Same history start but cut back: a shrunk head.
	shrunk := srv.NewStore(t, cluster, servertest.Options{})
	ship(shrunk, 5, "a")
	srv.Swap(shrunk)
	tok, _ = shrunk.AddToken(ctx, "registrator", "registrar")
	if _, err := mustClient(t, srv.URL, tok).CheckServer(ctx, home, srv.VKey, nil); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "cut back") {
		t.Fatalf("shrunk: %v", err)
	}
	// The genuine log still checks out after all that: nothing above was
	// saved as seen.
	srv.Swap(srv.Store)
	if _, err := reg.CheckServer(ctx, home, srv.VKey, nil); err != nil {
		t.Fatal(err)
	}
}

// A head the shipping queue received is part of the check even on a
// computer that never ran verify before.
func TestCheckServerUsesShippedHead(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	ctx := context.Background()
	l := newLog(t)
	seal(t, l, "1")
	seal(t, l, "2")
	if _, err := (&Queue{Log: l, Client: mustClient(t, srv.URL, srv.Device)}).Ship(ctx); err != nil {
		t.Fatal(err)
	}
	cur, _ := ReadCursor(l.Dir())
	forged := srv.NewStore(t, cluster, servertest.Options{})
	if _, _, err := forged.Append(ctx, "pc1", []auditlog.Entry{{ID: "z-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)}, {ID: "z-2", Action: auditlog.ActionSeal}, {ID: "z-3", Action: auditlog.ActionSeal}}); err != nil {
		t.Fatal(err)
	}
	srv.Swap(forged)
	tok, _ := forged.AddToken(ctx, "registrator", "registrar")
	_, err := mustClient(t, srv.URL, tok).CheckServer(ctx, t.TempDir(), srv.VKey, cur.Head)
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("a log without this computer's entries: %v", err)
	}
}

func relay(t *testing.T, lim server.Limits) (*servertest.Server, *twiliotest.Server) {
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
	srv, fake := relay(t, server.Limits{PerDevice: 3, PerAccount: 100})
	s := &SMS{Client: mustClient(t, srv.URL, srv.Device)}
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
	srv, fake := relay(t, server.DefaultLimits)
	s := &SMS{Client: mustClient(t, srv.URL, srv.Device)}
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
	s2 := &SMS{Client: mustClient(t, closed, srv.Device)}
	_, err = s2.Send(ctx, sms.Message{To: "+46701234567", Password: password, Ref: "abc234", Key: "k4"})
	if !errors.Is(err, sms.ErrNotDelivered) || !errors.As(err, &pe) || strings.Contains(err.Error(), password) ||
		!strings.Contains(err.Error(), "sms:et skickades inte / the SMS was not sent") || strings.Contains(err.Error(), "may or may not") || !strings.Contains(pe.Hint, "nothing was texted") {
		t.Fatalf("refused connection: %v (hint %q)", err, pe.Hint)
	}
}
