// Package loadtest runs many devices against real `kuvert server run`
// processes on a real PostgreSQL, with faults: a server killed with
// SIGKILL, PostgreSQL restarted, the network refusing connections. Every
// device seals real archives (envelope.Seal), writes its own local log
// and ships it with the client's queue, as the CLI does in passing.
package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/shipping"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/serverproc"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/relay"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// rig is a database, the server processes on it and a Store for the
// test's own reading.
type rig struct {
	url   string
	env   []string
	st    *server.Store
	procs []*serverproc.Proc
}

func newRig(t *testing.T, procs int, extraEnv ...string) *rig {
	t.Helper()
	home := t.TempDir()
	keyFile := filepath.Join(home, "server-signing.key")
	r := &rig{url: pgtest.DB(t, cluster)}
	r.env = append([]string{"KUVERT_DATABASE_URL=" + r.url, "KUVERT_HOME=" + home, "KUVERT_SERVER_SIGNING_KEY=" + keyFile,
		"KUVERT_SMS_PROVIDER=", "TWILIO_ACCOUNT_SID=", "KUVERT_SERVER_SECRETS="}, extraEnv...)
	for i := 0; i < procs; i++ {
		r.procs = append(r.procs, serverproc.Start(t, r.env))
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	r.st, err = server.OpenStore(context.Background(), r.url, string(bytes.TrimSpace(key)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.st.Close)
	return r
}

// device is one desktop: its own local log, shipping to one server
// address.
type device struct {
	name string
	dir  string
	log  *auditlog.Log
	q    *shipping.Queue
	c    *client.Client
}

func (r *rig) device(t *testing.T, name, baseURL string) *device {
	t.Helper()
	tok, err := r.st.AddToken(context.Background(), name, "device")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "kuvert loadtest"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(baseURL, tok)
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout = 5 * time.Second
	return &device{name: name, dir: dir, log: l, c: c, q: &shipping.Queue{Log: l, Client: c, Wait: 10 * time.Second}}
}

// seal seals one small payslip as the CLI would, texting its password
// through the server when pol is set.
func (d *device) seal(i int, pol *sms.Policy) (*envelope.Result, error) {
	in := filepath.Join(d.dir, fmt.Sprintf("lonespec-%d.csv", i))
	if err := os.WriteFile(in, []byte(fmt.Sprintf("anställd;lön\n%d;%d\n", i, 30000+i)), 0o600); err != nil {
		return nil, err
	}
	ins, _, err := crypt.CollectInputs([]string{in})
	if err != nil {
		return nil, err
	}
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		return nil, err
	}
	req := envelope.Request{Seal: crypt.SealOptions{Inputs: ins, Output: filepath.Join(d.dir, fmt.Sprintf("lonespec-%d.zip", i)), Format: crypt.FormatZip, Password: pw},
		Case: fmt.Sprintf("KS 2026/%s-%d", d.name, i)}
	if pol != nil {
		req.SMS = &envelope.SMS{Policy: pol, To: "070-174 06 50"}
	}
	return envelope.Seal(context.Background(), d.log, req)
}

// shipAll ships until nothing waits, retrying while the server is away.
func (d *device) shipAll(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := d.q.Ship(context.Background())
		if err == nil && res.Waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: entries still wait after %s: %+v %v", d.name, within, res, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkArrived checks that every entry of every device's local log is in
// the central log exactly once, under its device, and that the central
// log verifies.
func (r *rig) checkArrived(t *testing.T, devs []*device) int {
	t.Helper()
	ctx := context.Background()
	total := 0
	for _, d := range devs {
		local, err := d.log.Entries()
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.st.Search(ctx, server.Search{Sender: d.name, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, e := range res.Entries {
			if e.Device == d.name {
				got[e.ID]++
			}
		}
		for _, e := range local {
			if got[e.ID] != 1 {
				t.Errorf("%s: local entry %d (%s, %s) is in the central log %d times", d.name, e.Seq, e.ID, e.Action, got[e.ID])
			}
		}
		if len(got) != len(local) {
			t.Errorf("%s: %d local entries, %d central ones", d.name, len(local), len(got))
		}
		total += len(local)
	}
	v, err := r.st.Verify(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK {
		t.Fatalf("the central log does not verify: %s", v.Problem)
	}
	return total
}

// 20 devices × 500 sealings through two server processes on one
// database: exactly 10,000 entries, one consistent tree.
func TestLoad20x500(t *testing.T) {
	const devices, sealings = 20, 500
	r := newRig(t, 2)
	var devs []*device
	for i := 0; i < devices; i++ {
		devs = append(devs, r.device(t, fmt.Sprintf("pc%02d", i), r.procs[i%2].URL))
	}
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func(d *device) {
			defer wg.Done()
			for i := 0; i < sealings; i++ {
				if _, err := d.seal(i, nil); err != nil {
					t.Errorf("%s: seal %d: %v", d.name, i, err)
					return
				}
				// Shipped in passing after each command, as the CLI does;
				// another process of the same device may hold the lock.
				if _, err := d.q.Ship(context.Background()); err != nil && !errors.Is(err, shipping.ErrBusy) {
					t.Errorf("%s: ship: %v", d.name, err)
					return
				}
			}
		}(d)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, d := range devs {
		d.shipAll(t, 30*time.Second)
	}
	hd, err := r.st.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hd.Size != devices*sealings {
		t.Fatalf("central log has %d entries, want exactly %d", hd.Size, devices*sealings)
	}
	if n := r.checkArrived(t, devs); n != devices*sealings {
		t.Fatalf("local logs hold %d entries, want %d", n, devices*sealings)
	}
}

// flaky is a TCP proxy that can refuse connections for a while: the
// network between a device and the server going away.
type flaky struct {
	addr string
	to   string
	mu   sync.Mutex
	ln   net.Listener
	down bool
	wg   sync.WaitGroup
}

func newFlaky(t *testing.T, to string) *flaky {
	f := &flaky{addr: serverproc.FreeAddr(t), to: to}
	f.up(t)
	t.Cleanup(f.close)
	return f
}

func (f *flaky) up(t *testing.T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	for i := 0; i < 50; i++ {
		if f.ln, err = net.Listen("tcp", f.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("proxy: %v", err)
		return
	}
	f.down = false
	ln := f.ln
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", f.to)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
}

// refuse closes the listening socket: connections are refused.
func (f *flaky) refuse() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	f.down = true
}

func (f *flaky) close() { f.refuse(); f.wg.Wait() }

// Faults mid-run: one server killed with SIGKILL and restarted,
// PostgreSQL restarted (a crash: immediate stop), the network refusing
// connections for a while. Devices keep sealing and texting through the
// server throughout. Afterwards every local entry is in the central log
// exactly once, the log verifies, and no reference was texted twice.
func TestFaults(t *testing.T) {
	tw := twiliotest.NewServer()
	defer tw.Close()
	r := newRig(t, 2, "KUVERT_SMS_PROVIDER=twilio", "TWILIO_ACCOUNT_SID="+twiliotest.AccountSID, "TWILIO_AUTH_TOKEN="+twiliotest.AuthToken,
		"KUVERT_SMS_FROM="+twiliotest.From, "KUVERT_TWILIO_API_URL="+tw.URL, "KUVERT_ORGANISATION=Exempelby kommun")
	proxy := newFlaky(t, r.procs[1].Addr)
	const devices = 6
	var devs []*device
	for i := 0; i < devices; i++ {
		base := r.procs[0].URL
		if i%2 == 1 {
			base = "http://" + proxy.addr
		}
		devs = append(devs, r.device(t, fmt.Sprintf("pc%d", i), base))
	}
	stop := make(chan struct{})
	var sealed, texted, smsFailed atomic.Int64
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func(d *device) {
			defer wg.Done()
			pol := &sms.Policy{Sender: &relay.Sender{Client: d.c}, Organisation: "Exempelby kommun"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := d.seal(i, pol)
				var se *envelope.SMSError
				switch {
				case err == nil:
					sealed.Add(1)
					texted.Add(1)
					_ = res
				case errors.As(err, &se) || errors.Is(err, sms.ErrNotDelivered) || errors.Is(err, envelope.ErrSMS):
					// The server was away: the sealing is on record and
					// undone, as without a server. Never a lost entry.
					smsFailed.Add(1)
				default:
					t.Errorf("%s: seal %d: %v", d.name, i, err)
					return
				}
				d.q.Ship(context.Background()) // in passing; errors are expected mid-fault
				time.Sleep(5 * time.Millisecond)
			}
		}(d)
	}
	step := func(what string, f func()) {
		before := sealed.Load() + smsFailed.Load()
		f()
		// Let work go on before the next fault.
		deadline := time.Now().Add(20 * time.Second)
		for sealed.Load()+smsFailed.Load() < before+20 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("after %s: %d sealed and texted, %d SMS failed", what, sealed.Load(), smsFailed.Load())
	}
	step("warm-up", func() {})
	step("SIGKILL of server 0", func() {
		r.procs[0].Kill()
		time.Sleep(time.Second)
		r.procs[0].Restart(t)
	})
	step("PostgreSQL crash and restart", func() {
		if err := cluster.Stop(true); err != nil {
			t.Fatal(err)
		}
		// The health check says so while the database is away.
		if resp, err := http.Get(r.procs[0].URL + "/healthz"); err != nil || resp.StatusCode != 503 {
			t.Errorf("healthz with PostgreSQL down: %v %v, want 503", resp, err)
		} else {
			resp.Body.Close()
		}
		time.Sleep(time.Second)
		if err := cluster.Start(); err != nil {
			t.Fatal(err)
		}
	})
	step("network refusing connections", func() {
		proxy.refuse()
		time.Sleep(1500 * time.Millisecond)
		proxy.up(t)
	})
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	if sealed.Load() < 40 {
		t.Fatalf("only %d sealings went through", sealed.Load())
	}
	for _, d := range devs {
		d.shipAll(t, 60*time.Second)
	}
	n := r.checkArrived(t, devs)
	t.Logf("%d local entries arrived once each; %d texts", n, len(tw.Messages()))

	// No reference texted twice, and every text the devices logged as
	// sent was sent once.
	// Each text holds its sealing's own generated password, so a body
	// seen twice is a password texted twice.
	bodies := map[string]int{}
	for _, m := range tw.Messages() {
		bodies[m.Body]++
	}
	for _, c := range bodies {
		if c > 1 {
			t.Errorf("one text was sent %d times", c)
		}
	}
	if int64(len(tw.Messages())) < texted.Load() {
		t.Errorf("devices logged %d texts, the provider got %d", texted.Load(), len(tw.Messages()))
	}
}
