package clientenv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

// memKeyring is a keyring in memory; broken makes every call fail as a
// Linux desktop without a Secret Service does.
type memKeyring struct {
	mu     sync.Mutex
	m      map[string]string
	broken bool
	// refuseSet fails Set alone: the keyring reads, but will not keep
	// a new secret.
	refuseSet bool
	sets      int
}

func (k *memKeyring) Get(service, user string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.broken {
		return "", errors.New("no Secret Service")
	}
	v, ok := k.m[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (k *memKeyring) Set(service, user, secret string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.broken || k.refuseSet {
		return errors.New("no Secret Service")
	}
	if k.m == nil {
		k.m = map[string]string{}
	}
	k.sets++
	k.m[service+"/"+user] = secret
	return nil
}

// recorder is the relay's SMS provider: it keeps what it was asked to send.
type recorder struct {
	mu   sync.Mutex
	sent []sms.Message
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Send(_ context.Context, m sms.Message) (sms.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return sms.Receipt{Provider: "recorder", ID: "r1", Status: sms.StatusSent}, nil
}
func (r *recorder) Status(context.Context, string) (sms.Receipt, error) {
	return sms.Receipt{Provider: "recorder", ID: "r1", Status: sms.StatusSent}, nil
}

// desktop is a never-configured computer that knows only a server
// address and an enrollment code (from machine policy or the
// environment).
func desktop(t *testing.T, srvURL, code string, kr *memKeyring) clientenv.Env {
	home := filepath.Join(t.TempDir(), "kuvert")
	env := map[string]string{"KUVERT_SERVER_URL": srvURL, "KUVERT_ENROLLMENT_CODE": code}
	return clientenv.Env{
		Sources:  settings.Sources{Getenv: func(k string) string { return env[k] }, Keyring: kr, Home: home},
		Keyring:  kr,
		Hostname: func() (string, error) { return "PC-0142", nil },
	}
}

func TestEnsureEnrollsOnceAndTakesTheServersSettings(t *testing.T) {
	rec := &recorder{}
	pol := &sms.Policy{Organisation: "Servkommun", OpenerURL: "https://kuvert.sv.se/o.html", Lang: "sv"}
	srv := servertest.Start(t, cluster, servertest.Options{Sender: rec, Policy: pol})
	ctx := context.Background()
	code, _, err := srv.Store.AddEnrollCode(ctx, "ekonomi-", 2, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kr := &memKeyring{}
	e := desktop(t, srv.URL, code, kr)

	s, c, err := clientenv.Ensure(ctx, e)
	if err != nil || c == nil {
		t.Fatalf("ensure: %v", err)
	}
	tok := kr.m[settings.KeyringService+"/"+settings.ServerTokenKey]
	if name, role, err := srv.Store.Authenticate(ctx, tok); err != nil || name != "ekonomi-pc-0142" || role != api.RoleDevice {
		t.Fatalf("the keyring holds %q %q %v", name, role, err)
	}
	if _, err := c.Head(ctx); err != nil {
		t.Fatalf("the client does not work: %v", err)
	}
	if s.Organisation.Value != "Servkommun" || s.Organisation.Source != settings.FromServer || s.Organisation.Where != srv.URL {
		t.Fatalf("organisation %+v", s.Organisation)
	}
	if s.OpenerURL.Value != pol.OpenerURL || s.OpenerURL.Source != settings.FromServer {
		t.Fatalf("opener %+v", s.OpenerURL)
	}
	// Once enrolled, it does not enroll again.
	if _, _, err := clientenv.Ensure(ctx, e); err != nil || kr.sets != 1 {
		t.Fatalf("second ensure: %v, %d keyring writes", err, kr.sets)
	}
	codes, _ := srv.Store.EnrollCodes(ctx)
	if codes[0].UsesLeft != 1 {
		t.Fatalf("%d uses left, want 1", codes[0].UsesLeft)
	}
	// Offline, the cache stands.
	srv.SetDown(true)
	s2, _, err := clientenv.Ensure(ctx, e)
	if err != nil || s2.Organisation.Value != "Servkommun" || s2.Organisation.Source != settings.FromServer {
		t.Fatalf("offline: %v %+v", err, s2.Organisation)
	}
	srv.SetDown(false)
	// The cache is another server's once the address changes.
	home := e.Sources.Home
	if l := clientenv.CachedLayer(home, "https://annan.example"); l != nil {
		t.Fatal("another server's cache was used")
	}
	b, _ := os.ReadFile(filepath.Join(home, clientenv.CacheFile))
	if strings.Contains(string(b), tok) || strings.Contains(string(b), code) {
		t.Fatal("a secret in the cache file")
	}

	// What the desktop would preview is what the relay sends.
	dpol, err := providers.Build(s, providers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := dpol.Text("k7pq2x", "h4mt8-2bqx9-rk3nd-w7vfc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendSMS(ctx, api.SMSRequest{Key: "e1/k7pq2x", To: "+46701234567", Password: "h4mt8-2bqx9-rk3nd-w7vfc", Ref: "k7pq2x"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || rec.sent[0].Body != want {
		t.Fatalf("the relay sent %+v\nthe desktop previews %q", rec.sent, want)
	}
	if !strings.Contains(want, "Servkommun") {
		t.Fatalf("preview %q does not name the server's organisation", want)
	}
}

func TestEnsureWithAServerTemplate(t *testing.T) {
	rec := &recorder{}
	pol := &sms.Policy{Organisation: "Servkommun", Lang: "en", Template: "{org}: password for {ref} is {password}"}
	srv := servertest.Start(t, cluster, servertest.Options{Sender: rec, Policy: pol})
	ctx := context.Background()
	code, _, _ := srv.Store.AddEnrollCode(ctx, "x-", 1, time.Now().Add(time.Hour))
	e := desktop(t, srv.URL, code, &memKeyring{})
	// The user's own config.json says otherwise; the server wins over it.
	e.Sources.File = &config.Config{Organisation: "Egen", SMS: config.SMS{Template: "egen {password}", Language: "sv"}}
	s, c, err := clientenv.Ensure(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	if s.SMSTemplate.Value != pol.Template || s.SMSLanguage.Value != "en" || s.SMSTemplate.Source != settings.FromServer {
		t.Fatalf("template %+v, language %+v", s.SMSTemplate, s.SMSLanguage)
	}
	dpol, err := providers.Build(s, providers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dpol.Text("k7pq2x", "h4mt8-2bqx9-rk3nd-w7vfc")
	if _, err := c.SendSMS(ctx, api.SMSRequest{Key: "e2/k7pq2x", To: "+46701234567", Password: "h4mt8-2bqx9-rk3nd-w7vfc", Ref: "k7pq2x"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.sent) != 1 || rec.sent[0].Body != want || want != "Servkommun: password for k7pq2x is h4mt8-2bqx9-rk3nd-w7vfc" {
		t.Fatalf("relay %+v, preview %q", rec.sent, want)
	}
}

func TestEnsureRefusals(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	ctx := context.Background()

	// No code: nothing to do but say so.
	e := desktop(t, srv.URL, "", &memKeyring{})
	if _, c, err := clientenv.Ensure(ctx, e); !errors.Is(err, clientenv.ErrNoEnrollment) || c != nil {
		t.Fatalf("no code: %v", err)
	}
	// No server: nothing at all.
	e = desktop(t, "", "kve-x", &memKeyring{})
	if s, c, err := clientenv.Ensure(ctx, e); err != nil || c != nil || s == nil {
		t.Fatalf("no server: %v", err)
	}

	// A keyring that does not work: the code's use is not spent.
	code, _, _ := srv.Store.AddEnrollCode(ctx, "k-", 1, time.Now().Add(time.Hour))
	e = desktop(t, srv.URL, code, &memKeyring{broken: true})
	if _, _, err := clientenv.Ensure(ctx, e); err == nil {
		t.Fatal("broken keyring: no error")
	} else if f, ok := fault.As(err); !ok || f.Code != clientenv.CodeEnrollKeyring || f.Err == nil || strings.Contains(err.Error(), code) {
		t.Fatalf("broken keyring: %v", err)
	}
	codes, _ := srv.Store.EnrollCodes(ctx)
	if codes[0].UsesLeft != 1 {
		t.Fatal("a broken keyring spent the code")
	}

	// A computer without a name: the code is not spent either.
	e = desktop(t, srv.URL, code, &memKeyring{})
	e.Hostname = func() (string, error) { return "", nil }
	if _, _, err := clientenv.Ensure(ctx, e); err == nil {
		t.Fatal("no hostname: no error")
	} else if f, ok := fault.As(err); !ok || f.Code != clientenv.CodeNoHostname || strings.Contains(err.Error(), code) {
		t.Fatalf("no hostname: %v", err)
	}
	if codes, _ := srv.Store.EnrollCodes(ctx); codes[0].UsesLeft != 1 {
		t.Fatal("a computer without a name spent the code")
	}

	// A keyring that reads but will not keep the token: the fault names
	// the device (for IT to revoke), never the token or the code.
	spare, _, _ := srv.Store.AddEnrollCode(ctx, "s-", 1, time.Now().Add(time.Hour))
	e = desktop(t, srv.URL, spare, &memKeyring{refuseSet: true})
	if _, _, err := clientenv.Ensure(ctx, e); err == nil {
		t.Fatal("token not kept: no error")
	} else if f, ok := fault.As(err); !ok || f.Code != clientenv.CodeTokenNotKept || !strings.Contains(f.Field("name"), "pc-0142") || f.Err == nil ||
		strings.Contains(err.Error(), spare) || strings.Contains(err.Error(), "kvt_") {
		t.Fatalf("token not kept: %v", err)
	}

	// Used up, expired, revoked, unknown: each its own code (the shells
	// word it), naming the server, never the code.
	if _, _, err := clientenv.Ensure(ctx, desktop(t, srv.URL, code, &memKeyring{})); err != nil {
		t.Fatal(err)
	}
	expired, _, _ := srv.Store.AddEnrollCode(ctx, "e-", 1, time.Now().Add(time.Second))
	revoked, rc, _ := srv.Store.AddEnrollCode(ctx, "r-", 1, time.Now().Add(time.Hour))
	srv.Store.RevokeEnrollCode(ctx, "r-")
	_ = rc
	time.Sleep(1100 * time.Millisecond)
	for _, tc := range []struct {
		code  string
		want  error
		fault fault.Code
	}{
		{code, client.ErrEnrollUsedUp, client.CodeEnrollUsedUp},
		{expired, client.ErrEnrollExpired, client.CodeEnrollExpired},
		{revoked, client.ErrEnrollRevoked, client.CodeEnrollRevoked},
		{"kve-2345-6789", client.ErrEnrollUnknown, client.CodeEnrollUnknown},
	} {
		kr := &memKeyring{}
		_, _, err := clientenv.Ensure(ctx, desktop(t, srv.URL, tc.code, kr))
		f, ok := fault.As(err)
		if !errors.Is(err, tc.want) || !errors.Is(err, client.ErrEnrollRefused) || !ok || f.Code != tc.fault || f.Field("server") == "" {
			t.Errorf("%v: %v", tc.want, err)
		}
		if err != nil && strings.Contains(err.Error(), tc.code) {
			t.Errorf("the error shows the code: %v", err)
		}
		if kr.sets != 0 {
			t.Errorf("%v: a token was stored", tc.want)
		}
	}
}

// Two kuvert processes on one computer enrolling at once (the desktop
// app and a command) spend one use and keep one token.
func TestEnrollTwiceAtOnceSpendsOneUse(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	ctx := context.Background()
	code, _, _ := srv.Store.AddEnrollCode(ctx, "p-", 5, time.Now().Add(time.Hour))
	kr := &memKeyring{}
	e := desktop(t, srv.URL, code, kr)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = clientenv.Enroll(ctx, e, e.Sources.Home, srv.URL, code)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	codes, _ := srv.Store.EnrollCodes(ctx)
	if codes[0].UsesLeft != 4 || kr.sets != 1 {
		t.Fatalf("%d uses left (want 4), %d keyring writes (want 1)", codes[0].UsesLeft, kr.sets)
	}
}
