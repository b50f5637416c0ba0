package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// serverHome makes a home that ships to srv with token.
func serverHome(t *testing.T, srv *servertest.Server, token string) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.env["KUVERT_SERVER_URL"] = srv.URL
	e.env["KUVERT_SERVER_TOKEN"] = token
	return e
}

func (e *testEnv) sealFile(t *testing.T, name string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, name)
	if err := os.WriteFile(in, []byte("hemligt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e.run("encrypt", "--case", "KS 2026/12", "-o", filepath.Join(dir, name+".zip"), in)
}

func centralCount(t *testing.T, st *server.Store) int {
	t.Helper()
	res, err := st.Search(context.Background(), server.Search{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Entries {
		if e.Device == "pc1" {
			n++
		}
	}
	return n
}

func TestLogSyncAndStatusWithServerDown(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, cluster, servertest.Options{})
	e := serverHome(t, srv, srv.Device)

	// Down: sealing works, the entry waits, one line says so.
	srv.SetDown(true)
	code, _, errOut := e.sealFile(t, "lista.csv")
	if code != 0 {
		t.Fatalf("encrypt with the server down: %d %s", code, errOut)
	}
	if !strings.Contains(errOut, "kuvert: note: 1 post väntar på att skickas till servern / 1 entry waits for the server") || strings.Count(errOut, "note:") != 1 {
		t.Fatalf("stderr: %q", errOut)
	}
	code, out, _ := e.run("log", "status")
	if code != 0 || !strings.Contains(out, "Väntar / waiting: 1 post") || !strings.Contains(out, "Server: "+srv.URL) ||
		!strings.Contains(out, "Senaste fel / last error: ") || !strings.Contains(out, "last sync: aldrig / never") {
		t.Fatalf("status %d:\n%s", code, out)
	}
	code, out, errOut = e.run("log", "sync")
	if code != ExitFailure || !strings.Contains(out, "väntar / waiting: 1") || !strings.Contains(errOut, "hint: the entries wait") {
		t.Fatalf("sync while down: %d %q %q", code, out, errOut)
	}
	if n := centralCount(t, srv.Store); n != 0 {
		t.Fatalf("central has %d", n)
	}

	// Up: sync ships it once.
	srv.SetDown(false)
	code, out, errOut = e.run("log", "sync")
	if code != 0 || !strings.Contains(out, "shipped: 1 post") || !strings.Contains(out, "waiting: 0") {
		t.Fatalf("sync: %d %q %q", code, out, errOut)
	}
	if n := centralCount(t, srv.Store); n != 1 {
		t.Fatalf("central has %d", n)
	}
	// Up: the next sealing ships in passing, silently.
	code, _, errOut = e.sealFile(t, "b.csv")
	if code != 0 || strings.Contains(errOut, "note:") {
		t.Fatalf("encrypt: %d %q", code, errOut)
	}
	if n := centralCount(t, srv.Store); n != 2 {
		t.Fatalf("central has %d after shipping in passing", n)
	}
	code, out, _ = e.run("log", "status", "--json")
	var st struct {
		Configured bool   `json:"configured"`
		Server     string `json:"server"`
		Waiting    int    `json:"waiting"`
		Shipped    int    `json:"shipped"`
		LastSync   string `json:"last_sync"`
		LastError  string `json:"last_error"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		t.Fatalf("%d %q %v", code, out, err)
	}
	if !st.Configured || st.Server != srv.URL || st.Waiting != 0 || st.Shipped != 2 || st.LastSync == "" || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
	if strings.Contains(out, srv.Device) {
		t.Fatal("the token is in the status")
	}
}

func TestLogStatusWithoutServer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	code, out, _ := e.run("log", "status")
	if code != 0 || !strings.Contains(out, "none configured") {
		t.Fatalf("%d %q", code, out)
	}
	code, _, errOut := e.run("log", "sync")
	if code != ExitUsage || !strings.Contains(errOut, "no kuvert server is configured") {
		t.Fatalf("%d %q", code, errOut)
	}
}

func TestLogStuckShowsInStatus(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, cluster, servertest.Options{})
	e := serverHome(t, srv, srv.Device)
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(e.home, "log"), KeyDir: filepath.Join(e.home, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	// The server holds this ID with other content.
	c, _ := client.New(srv.URL, srv.Device)
	if _, err := c.Append(context.Background(), []auditlog.Entry{{ID: "20260101-00000000000000bb", Action: auditlog.ActionSeal, Case: "other"}}); err != nil {
		t.Fatal(err)
	}
	l.Append(auditlog.Entry{ID: "20260101-00000000000000bb", Action: auditlog.ActionSeal, Case: "mine"})
	code, _, errOut := e.run("log", "sync")
	if code != ExitFailure || !strings.Contains(errOut, "tell the server's administrator") {
		t.Fatalf("%d %q", code, errOut)
	}
	_, out, _ := e.run("log", "status")
	if !strings.Contains(out, "stuck at: post / entry 1 (20260101-00000000000000bb)") || !strings.Contains(out, "Väntar / waiting: 1 post") {
		t.Fatalf("%s", out)
	}
}

func TestLogListExportVerifyServer(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, cluster, servertest.Options{})
	e := serverHome(t, srv, srv.Device)
	if code, _, errOut := e.sealFile(t, "lista.csv"); code != 0 {
		t.Fatal(errOut)
	}
	if n := centralCount(t, srv.Store); n != 1 {
		t.Fatalf("central %d", n)
	}
	// A device token may not read the central log.
	code, _, errOut := e.run("log", "list", "--server")
	if code != ExitFailure || !strings.Contains(errOut, "registrar") {
		t.Fatalf("device reading: %d %q", code, errOut)
	}
	e.env["KUVERT_SERVER_TOKEN"] = srv.Registrar
	code, out, errOut := e.run("log", "list", "--server", srv.URL, "--case", "KS 2026/12")
	if code != 0 || !strings.Contains(out, "lista.csv.zip") || !strings.Contains(out, "enhet/device pc1") {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
	code, out, _ = e.run("log", "list", "--server", "--case", "nothing")
	if code != 0 || out != "" {
		t.Fatalf("list none: %d %q", code, out)
	}
	if code, _, errOut := e.run("log", "list", "--server", "--batch", "x"); code != ExitUsage {
		t.Fatalf("--batch: %d %q", code, errOut)
	}
	if code, _, _ := e.run("log", "list", "--sender", "x"); code != ExitUsage {
		t.Fatal("--sender without --server")
	}
	csv := filepath.Join(t.TempDir(), "logg.csv")
	code, _, errOut = e.run("log", "export", "--server="+srv.URL, "--since", "2026-01-01", "-o", csv)
	b, _ := os.ReadFile(csv)
	if code != 0 || !strings.Contains(string(b), "KS 2026/12") {
		t.Fatalf("export: %d %q %q", code, errOut, b)
	}

	// verify --server URL --key KEY: the URL is a separate word.
	code, out, errOut = e.run("log", "verify", "--server", srv.URL, "--key", srv.VKey)
	if code != 0 || !strings.Contains(out, "OK: centrala loggen") || !strings.Contains(out, "Första kontrollen") || !strings.Contains(out, "contains what this computer shipped") {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
	// A --key that is no verifier key at all (a typo) is a usage error,
	// not "does not verify".
	code, _, errOut = e.run("log", "verify", "--server", srv.URL, "--key", "kuvert-server+0a33d346+AAAA")
	if code != ExitUsage || !strings.Contains(errOut, "is not a verifier key") {
		t.Fatalf("bad key: %d %q", code, errOut)
	}
	// The configured server, no key: checked with the server's own key.
	code, out, errOut = e.run("log", "verify", "--server")
	if code != 0 || !strings.Contains(out, "consistent with the last check") || !strings.Contains(errOut, "--key") {
		t.Fatalf("verify configured: %d %q %q", code, out, errOut)
	}

	// Another history at the same address, same key: tampering, exit 6.
	forged := srv.NewStore(t, cluster, servertest.Options{})
	if _, _, err := forged.Append(context.Background(), "pc1", []auditlog.Entry{
		{ID: "f-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)},
		{ID: "f-2", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)},
		{ID: "f-3", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)},
		{ID: "f-4", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)},
	}); err != nil {
		t.Fatal(err)
	}
	tok, _ := forged.AddToken(context.Background(), "registrator", "registrar")
	srv.Swap(forged)
	e.env["KUVERT_SERVER_TOKEN"] = tok
	code, _, errOut = e.run("log", "verify", "--server", srv.URL, "--key", srv.VKey)
	if code != ExitLogInvalid || !strings.Contains(errOut, "rewritten") {
		t.Fatalf("forged: %d %q", code, errOut)
	}
	// A shrunk head.
	empty := srv.NewStore(t, cluster, servertest.Options{})
	tok, _ = empty.AddToken(context.Background(), "registrator", "registrar")
	srv.Swap(empty)
	e.env["KUVERT_SERVER_TOKEN"] = tok
	code, out, errOut = e.run("log", "verify", "--server", srv.URL, "--key", srv.VKey, "--json")
	if code != ExitLogInvalid || !strings.Contains(errOut, "cut back") || !strings.Contains(out, `"ok": false`) {
		t.Fatalf("shrunk: %d %q %q", code, out, errOut)
	}
	// Two positional words are still a usage error.
	if code, _, _ := e.run("log", "verify", "--server", srv.URL, "extra"); code != ExitUsage {
		t.Fatalf("extra word: %d", code)
	}
}

func TestSMSThroughServerFromCLI(t *testing.T) {
	t.Parallel()
	srv, fake := servertest.StartRelay(t, cluster)
	e := serverHome(t, srv, srv.Device)
	dir := t.TempDir()
	in := filepath.Join(dir, "lista.csv")
	os.WriteFile(in, []byte("x\n"), 0o600)
	code, out, errOut := e.run("encrypt", "--sms", "070-123 45 67", "--sender", "Löneenheten", "-o", filepath.Join(dir, "lista.zip"), in)
	if code != 0 || !strings.Contains(errOut, "kuvert-server") {
		t.Fatalf("%d %q %q", code, out, errOut)
	}
	if fake.Posts() != 1 {
		t.Fatalf("twilio got %d", fake.Posts())
	}
	msg, _ := fake.LastTo("+46701234567")
	// The password is in the text only; not in the output or the log.
	pw := msg.Body[strings.LastIndex(msg.Body, " ")+1:]
	logb, _ := os.ReadFile(filepath.Join(e.home, "log", "entries.jsonl"))
	if strings.Contains(out+errOut+string(logb), pw) {
		t.Fatal("the password leaked")
	}
	// The server's log has the relayed SMS, referring to the local sealing.
	l, _ := auditlog.Open(auditlog.Options{Dir: filepath.Join(e.home, "log"), KeyDir: filepath.Join(e.home, "keys")})
	es, _ := l.Entries()
	res, err := srv.Store.Search(context.Background(), server.Search{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The relay's record and the device's own (shipped) are one text:
	// one row, the device's, with the relay's folded in.
	if code, _, errOut := e.run("log", "sync"); code != 0 {
		t.Fatalf("sync: %s", errOut)
	}
	if res, err = srv.Store.Search(context.Background(), server.Search{Limit: 100}); err != nil {
		t.Fatal(err)
	}
	var texts []auditlog.Row
	for _, r := range res.Entries {
		if r.Action == auditlog.ActionSMS && r.Refers == es[0].ID {
			texts = append(texts, r)
		}
	}
	if len(texts) != 1 || texts[0].Device != "pc1" || len(texts[0].Folded) != 1 || texts[0].Delivery.Provider != "kuvert-server/twilio" || !strings.Contains(string(logb), `"provider":"kuvert-server"`) {
		t.Fatalf("texts %+v; local log %s", texts, logb)
	}
	// kuvert log list --server shows it once, as does the export.
	e.env["KUVERT_SERVER_TOKEN"] = srv.Registrar
	code, out, errOut = e.run("log", "list", "--server")
	if code != 0 || strings.Count(out, "  sms  ") != 1 || !strings.Contains(out, "samma sms som / same SMS as "+texts[0].Folded[0]) {
		t.Fatalf("list --server: %d %q %q", code, out, errOut)
	}
	csv := filepath.Join(t.TempDir(), "logg.csv")
	if code, _, errOut := e.run("log", "export", "--server", "-o", csv); code != 0 {
		t.Fatalf("export --server: %s", errOut)
	}
	b, _ := os.ReadFile(csv)
	if n := strings.Count(string(b), ";sms;"); n != 1 {
		t.Fatalf("the export has %d SMS rows:\n%s", n, b)
	}
}
