package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/serverproc"
)

// kuvertCmd runs the real binary with env and returns stdout, stderr and
// the exit code.
func kuvertCmd(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(serverproc.Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func serverEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{"KUVERT_DATABASE_URL=" + pgtest.DB(t, cluster), "KUVERT_HOME=" + home,
		"KUVERT_SERVER_SIGNING_KEY=" + filepath.Join(home, "server-signing.key"), "KUVERT_SMS_PROVIDER=", "TWILIO_ACCOUNT_SID=", "KUVERT_SERVER_SECRETS="}
}

func TestServerCommands(t *testing.T) {
	env := serverEnv(t)
	out, errOut, code := kuvertCmd(t, env, "server", "key")
	if code != 0 || !strings.HasPrefix(out, "kuvert-server+") {
		t.Fatalf("server key: %d %q %q", code, out, errOut)
	}
	vkey := strings.TrimSpace(out)

	out, _, code = kuvertCmd(t, env, "server", "token", "add", "ekonomi-pc17", "--role", "device")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	tok := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(tok, "kvt_") || strings.Contains(tok, " ") {
		t.Fatalf("token add: %d %q", code, out)
	}
	out, _, code = kuvertCmd(t, env, "server", "token", "list")
	if code != 0 || !strings.Contains(out, "ekonomi-pc17") || strings.Contains(out, tok) {
		t.Fatalf("token list: %d %q", code, out)
	}
	if _, errOut, code := kuvertCmd(t, env, "server", "token", "add", "x", "--role", "root"); code != 2 || !strings.Contains(errOut, "device, registrar or admin") {
		t.Fatalf("bad role: %d %q", code, errOut)
	}
	if _, errOut, code := kuvertCmd(t, env, "server", "token", "revoke", "nobody"); code != 1 || !strings.Contains(errOut, "no active token") {
		t.Fatalf("revoke unknown: %d %q", code, errOut)
	}
	if out, _, code := kuvertCmd(t, env, "server", "token", "revoke", "ekonomi-pc17"); code != 0 || !strings.Contains(out, "ekonomi-pc17") {
		t.Fatalf("revoke: %d %q", code, out)
	}

	if out, errOut, code := kuvertCmd(t, env, "server", "verify", "--key", vkey); code != 0 || !strings.Contains(out, "verifierar") {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
	_, other, _ := GenerateKey("someone-else")
	if _, errOut, code := kuvertCmd(t, env, "server", "verify", "--key", other); code != 6 || !strings.Contains(errOut, "does not verify") {
		t.Fatalf("verify with another key: %d %q", code, errOut)
	}
	if _, errOut, code := kuvertCmd(t, env, "server", "verify", "--key", "kuvert-server+0a33d346+AAAA"); code != 2 || !strings.Contains(errOut, "is not a verifier key") {
		t.Fatalf("verify with a mistyped key: %d %q", code, errOut)
	}
	unreachable := append(append([]string{}, env...), "KUVERT_DATABASE_URL=postgres://kuvert:hemligt42@127.0.0.1:1/kuvert?connect_timeout=2")
	if _, errOut, code := kuvertCmd(t, unreachable, "server", "token", "list"); code != 1 || !strings.Contains(errOut, "KUVERT_DATABASE_URL") ||
		!strings.Contains(errOut, "does not answer") || strings.Contains(errOut, "hemligt42") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("database down: %d %q", code, errOut)
	}
	if out, _, code := kuvertCmd(t, env, "server", "prune", "--older-than", "30d"); code != 0 || !strings.Contains(out, "0 poster") {
		t.Fatalf("prune: %d %q", code, out)
	}

	// Clear errors for what is missing or wrong.
	noDB := append(append([]string{}, env...), "KUVERT_DATABASE_URL=")
	if _, errOut, code := kuvertCmd(t, noDB, "server", "token", "list"); code != 2 || !strings.Contains(errOut, "KUVERT_DATABASE_URL is not set") {
		t.Fatalf("no database: %d %q", code, errOut)
	}
	console := append(append([]string{}, env...), "KUVERT_SMS_PROVIDER=console")
	if _, errOut, code := kuvertCmd(t, console, "server", "run", "--listen", "127.0.0.1:0"); code != 2 || !strings.Contains(errOut, "prints passwords") {
		t.Fatalf("console provider on a server: %d %q", code, errOut)
	}
	// A server that would text without the organisation's name, or
	// with a bad country list, does not start.
	twilioEnv := append(append([]string{}, env...), "KUVERT_SMS_PROVIDER=twilio", "TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001",
		"TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef", "KUVERT_SMS_FROM=+46766860000", "KUVERT_ORGANISATION=")
	if _, errOut, code := kuvertCmd(t, twilioEnv, "server", "run", "--listen", "127.0.0.1:0"); code != 2 || !strings.Contains(errOut, "--organisation") {
		t.Fatalf("relay without an organisation: %d %q", code, errOut)
	}
	if _, errOut, code := kuvertCmd(t, twilioEnv, "server", "run", "--listen", "127.0.0.1:0", "--organisation", "Sundsvalls kommun", "--sms-countries", "SE,Norge"); code != 2 || !strings.Contains(errOut, "NORGE") {
		t.Fatalf("relay with a bad country: %d %q", code, errOut)
	}
	otherKey := append(append([]string{}, env...), "KUVERT_SERVER_SIGNING_KEY="+filepath.Join(t.TempDir(), "k"))
	if _, _, code := kuvertCmd(t, otherKey, "server", "key"); code != 0 {
		t.Fatal("server key did not make a second key")
	}
	if _, errOut, code := kuvertCmd(t, otherKey, "server", "verify"); code != 1 || !strings.Contains(errOut, "same signing key") {
		t.Fatalf("a second key on the same database: %d %q", code, errOut)
	}
	os.Chmod(filepath.Join(strings.TrimPrefix(env[1], "KUVERT_HOME="), "server-signing.key"), 0o644)
	if _, errOut, code := kuvertCmd(t, env, "server", "verify"); code != 1 || !strings.Contains(errOut, "chmod 600") {
		t.Fatalf("readable signing key: %d %q", code, errOut)
	}
}

func TestServerRunTLS(t *testing.T) {
	env := serverEnv(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	p := serverproc.StartTLS(t, env, pool, "--tls-cert", certFile, "--tls-key", keyFile, "--organisation", "Ånge & <Bräcke>")
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(p.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("https healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	// The recipient page it serves carries the organisation's name.
	resp, err = c.Get(p.URL + "/oppna.html")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `<strong id="organisation">Ånge &amp; &lt;Bräcke&gt;</strong>`) {
		t.Errorf("the served page does not carry the organisation's name")
	}
	// Plain HTTP to the TLS port gets nothing useful.
	if resp, err := http.Get(strings.Replace(p.URL, "https://", "http://", 1) + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP answered on the TLS port")
	}
	// SIGTERM stops it cleanly.
	p.Stop()
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
