package msi_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// signer is a throwaway code-signing certificate and its key, as the
// PEM pair and as PKCS#12 locked with password.
type signer struct {
	cert, key, p12, password, subject string
}

func newSigner(t *testing.T) signer {
	t.Helper()
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "Exempelby kommun kodsignering (test)", Organization: []string{"Exempelby kommun"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := signer{
		cert:     filepath.Join(dir, "cert.pem"),
		key:      filepath.Join(dir, "key.pem"),
		p12:      filepath.Join(dir, "kodsignering.p12"),
		password: "Hemligt-lösenord " + rand.Text(),
		subject:  "/O=Exempelby kommun/CN=Exempelby kommun kodsignering (test)",
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	// The password goes to openssl through its environment, never its
	// arguments (which any user can list).
	cmd := exec.Command("openssl", "pkcs12", "-export", "-in", s.cert, "-inkey", s.key,
		"-out", s.p12, "-passout", "env:KUVERT_TEST_P12_PASSWORD")
	cmd.Env = append(os.Environ(), "KUVERT_TEST_P12_PASSWORD="+s.password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}
	return s
}

// verify runs osslsigncode verify against the throwaway certificate and
// returns its report.
func verify(t *testing.T, s signer, file string) (string, error) {
	t.Helper()
	out, err := exec.Command("osslsigncode", "verify", "-CAfile", s.cert, "-in", file).CombinedOutput()
	return string(out), err
}

// checkSigned reads the verification text, not only the exit code: the
// signer is ours and the signature checks out.
func checkSigned(t *testing.T, s signer, file string) {
	t.Helper()
	out, err := verify(t, s, file)
	if err != nil || !strings.Contains(out, "Signature verification: ok") ||
		!strings.Contains(out, "Subject: "+s.subject) || !strings.Contains(out, "Message digest algorithm: SHA256") {
		t.Errorf("%s is not signed as expected (%v):\n%s", filepath.Base(file), err, out)
	}
}

// loggingOsslsigncode puts a wrapper named osslsigncode first on PATH
// that records its arguments (what `ps` would show) and runs the real one.
func loggingOsslsigncode(t *testing.T) (pathEnv, argLog string) {
	t.Helper()
	real, err := exec.LookPath("osslsigncode")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argLog = filepath.Join(dir, "args.log")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'" + argLog + "'\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "osslsigncode"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), argLog
}

// programsToSign are the real Windows programs when make test-windows
// gives them, else the stand-in twice.
func programsToSign(t *testing.T) (exe, gui string) {
	_, standin := programs(t)
	exe, gui = os.Getenv("KUVERT_WINDOWS_EXE"), os.Getenv("KUVERT_WINDOWS_GUI")
	if exe == "" || gui == "" {
		return standin, standin
	}
	return exe, gui
}

// TestMSISignedPKCS12 is `make msi SIGN_PKCS12=FILE` with the password
// in KUVERT_SIGN_PASSWORD: both programs inside the package and the
// package itself carry our signature, the password is in no command
// line, and a package changed after signing fails verification.
func TestMSISignedPKCS12(t *testing.T) {
	requireTools(t, "wixl", "osslsigncode", "openssl", "msiextract", "convert")
	s := newSigner(t)
	cli, _ := programs(t)
	exe, gui := programsToSign(t)
	pathEnv, argLog := loggingOsslsigncode(t)
	out := filepath.Join(t.TempDir(), "dist", "kuvert-v1.4.2-x64.msi")
	stderr, err := buildMSI(t, out, "VERSION=v1.4.2", "KUVERT="+cli, "WIN_BIN="+winBin(t, exe, gui, ""),
		"SIGN_PKCS12="+s.p12, "KUVERT_SIGN_PASSWORD="+s.password, pathEnv)
	if err != nil {
		t.Fatalf("msi.sh: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "signerat / signed") || strings.Contains(stderr, "OSIGNERAT") {
		t.Errorf("msi.sh did not say the package is signed:\n%s", stderr)
	}
	if !strings.Contains(stderr, "(1.4.2)") {
		t.Errorf("the MSI version of v1.4.2 is not 1.4.2:\n%s", stderr)
	}
	if strings.Contains(stderr, s.password) {
		t.Errorf("msi.sh printed the password")
	}
	checkSigned(t, s, out)

	// The programs as the package installs them.
	files := t.TempDir()
	if b, err := exec.Command("msiextract", "-C", files, out).CombinedOutput(); err != nil {
		t.Fatalf("msiextract: %v\n%s", err, b)
	}
	for _, name := range []string{"kuvert.exe", "kuvert-gui.exe"} {
		found, _ := filepath.Glob(filepath.Join(files, "kuvert", name))
		if len(found) != 1 {
			t.Fatalf("%s not found in the package (%v)", name, found)
		}
		checkSigned(t, s, found[0])
	}

	// The Group Policy templates ship in the program folder as they are
	// in the repository.
	for _, name := range []string{"kuvert.admx", "en-US/kuvert.adml", "sv-SE/kuvert.adml"} {
		got, err := os.ReadFile(filepath.Join(files, "kuvert", "policy", name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(repoRoot(t), "windows", "policy", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("policy/%s in the package differs from windows/policy/%s (%v)", name, name, err)
		}
	}

	args, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(args), "sign "); n != 3 {
		t.Errorf("osslsigncode signed %d times, want 3 (two programs, the package):\n%s", n, args)
	}
	if strings.Contains(string(args), s.password) || !strings.Contains(string(args), "-readpass") {
		t.Errorf("the password must reach osslsigncode through -readpass, never its command line:\n%s", args)
	}

	// One byte changed after signing: verification fails, and says so.
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	tampered := filepath.Join(t.TempDir(), "tampered.msi")
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if report, err := verify(t, s, tampered); err == nil || strings.Contains(report, "Signature verification: ok") ||
		!strings.Contains(report, "Signature verification: failed") {
		t.Errorf("a changed package passed verification (%v):\n%s", err, report)
	}
}

// TestMSISignedPEM signs with a PEM certificate and key (SIGN_CERT,
// SIGN_KEY), as an organisation with its key in files rather than PKCS#12.
func TestMSISignedPEM(t *testing.T) {
	requireTools(t, "wixl", "osslsigncode", "openssl", "convert")
	s := newSigner(t)
	cli, standin := programs(t)
	out := filepath.Join(t.TempDir(), "kuvert.msi")
	stderr, err := buildMSI(t, out, "MSI_VERSION=2.0.7", "KUVERT="+cli, "WIN_BIN="+winBin(t, standin, standin, ""),
		"SIGN_CERT="+s.cert, "SIGN_KEY="+s.key)
	if err != nil {
		t.Fatalf("msi.sh: %v\n%s", err, stderr)
	}
	checkSigned(t, s, out)
}

// TestMSIUnsigned: without a certificate the package is built unsigned,
// and msi.sh says so on standard error.
func TestMSIUnsigned(t *testing.T) {
	requireTools(t, "wixl", "osslsigncode", "msiinfo", "convert")
	cli, standin := programs(t)
	out := filepath.Join(t.TempDir(), "kuvert.msi")
	stderr, err := buildMSI(t, out, "VERSION=3f9c2ab", "KUVERT="+cli, "WIN_BIN="+winBin(t, standin, standin, ""))
	if err != nil {
		t.Fatalf("msi.sh: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "är OSIGNERAT") || !strings.Contains(stderr, "is UNSIGNED") {
		t.Errorf("msi.sh did not say the package is unsigned:\n%s", stderr)
	}
	// A commit, not a release: the version is 0.0.<commits>.
	if !strings.Contains(stderr, "(0.0.") {
		t.Errorf("a commit's MSI version is not 0.0.N:\n%s", stderr)
	}
	if report, _ := exec.Command("osslsigncode", "verify", "-in", out).CombinedOutput(); !strings.Contains(string(report), "MSI file has no signature") {
		t.Errorf("the unsigned package has a signature?\n%s", report)
	}
	// The icon Apps & features shows is an .ico, not a program stored a
	// second time.
	if ico, err := exec.Command("msiinfo", "extract", out, "Icon.kuvert.ico").Output(); err != nil || !bytes.HasPrefix(ico, []byte{0, 0, 1, 0}) {
		t.Errorf("the package's icon is not an .ico (%v, %d bytes)", err, len(ico))
	}
}

// TestMSISignRefusals: a missing certificate, half a PEM pair, a wrong
// password or an impossible version stop the build with a Swedish-first
// message, leave no package behind (an earlier one stays as it was) and
// never print the password.
func TestMSISignRefusals(t *testing.T) {
	requireTools(t, "wixl", "osslsigncode", "openssl", "convert")
	s := newSigner(t)
	cli, standin := programs(t)
	bin := winBin(t, standin, standin, "")
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"no such PKCS#12", []string{"SIGN_PKCS12=/nonexistent/kod.p12"}, "kan inte läsa SIGN_PKCS12=/nonexistent/kod.p12 / cannot read"},
		{"certificate without key", []string{"SIGN_CERT=" + s.cert}, "SIGN_CERT och SIGN_KEY behövs båda / SIGN_CERT and SIGN_KEY are both needed"},
		{"both kinds", []string{"SIGN_PKCS12=" + s.p12, "SIGN_CERT=" + s.cert, "SIGN_KEY=" + s.key}, "ange antingen SIGN_PKCS12 eller SIGN_CERT och SIGN_KEY"},
		{"wrong password", []string{"SIGN_PKCS12=" + s.p12, "KUVERT_SIGN_PASSWORD=fel-lösenord-4711"}, "kunde inte signera kuvert.exe / could not sign kuvert.exe"},
		{"version out of range", []string{"MSI_VERSION=1.256.0"}, "ogiltig MSI-version 1.256.0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "kuvert.msi")
			if err := os.WriteFile(out, []byte("the earlier package"), 0o644); err != nil {
				t.Fatal(err)
			}
			stderr, err := buildMSI(t, out, append([]string{"KUVERT=" + cli, "WIN_BIN=" + bin}, c.env...)...)
			if err == nil {
				t.Fatalf("msi.sh succeeded:\n%s", stderr)
			}
			if !strings.Contains(stderr, "msi: "+c.want) && !strings.Contains(stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, stderr)
			}
			if strings.Contains(stderr, "fel-lösenord-4711") || strings.Contains(stderr, s.password) {
				t.Errorf("msi.sh printed a password:\n%s", stderr)
			}
			if b, _ := os.ReadFile(out); string(b) != "the earlier package" {
				t.Errorf("the earlier package was changed")
			}
		})
	}
}

// loopbackTSA is an RFC 3161 time-stamping service on loopback: openssl
// ts -reply answers each request, signed by a throwaway TSA certificate
// (returned as PEM). It counts the requests.
func loopbackTSA(t *testing.T) (url, cert string, requests *atomic.Int32) {
	t.Helper()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tsa.pem"), filepath.Join(dir, "tsa.key")
	// RFC 3161 2.3: the TSA certificate's only extended key usage is
	// timeStamping, marked critical (openssl ts refuses it otherwise).
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
		"-subj", "/CN=kuvert test TSA", "-addext", "extendedKeyUsage=critical,timeStamping",
		"-keyout", key, "-out", cert).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	cnf := filepath.Join(dir, "ts.cnf")
	if err := os.WriteFile(cnf, []byte(`[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = `+filepath.Join(dir, "serial")+`
crypto_device = builtin
signer_cert = `+cert+`
signer_key = `+key+`
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha1, sha256, sha384, sha512
ess_cert_id_alg = sha256
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "serial"), []byte("01\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	requests = new(atomic.Int32)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests.Add(1)
		q, r2 := filepath.Join(dir, "q.tsq"), filepath.Join(dir, "r.tsr")
		body, err := io.ReadAll(r.Body)
		if err == nil {
			err = os.WriteFile(q, body, 0o600)
		}
		if err == nil {
			var out []byte
			if out, err = exec.Command("openssl", "ts", "-reply", "-config", cnf, "-queryfile", q, "-out", r2).CombinedOutput(); err != nil {
				t.Errorf("openssl ts -reply: %v\n%s", err, out)
			}
		}
		reply, err2 := os.ReadFile(r2)
		if err != nil || err2 != nil {
			http.Error(w, "no reply", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(reply)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", cert, requests
}

// TestMSISignedTimestamp: with SIGN_TIMESTAMP_URL every signature carries
// a time stamp from that service, which verification accepts.
func TestMSISignedTimestamp(t *testing.T) {
	requireTools(t, "wixl", "osslsigncode", "openssl", "convert")
	s := newSigner(t)
	tsa, tsaCert, requests := loopbackTSA(t)
	cli, standin := programs(t)
	out := filepath.Join(t.TempDir(), "kuvert.msi")
	stderr, err := buildMSI(t, out, "MSI_VERSION=2.1.0", "KUVERT="+cli, "WIN_BIN="+winBin(t, standin, standin, ""),
		"SIGN_CERT="+s.cert, "SIGN_KEY="+s.key, "SIGN_TIMESTAMP_URL="+tsa,
		// osslsigncode reaches the service with libcurl, which would send
		// even loopback through a configured proxy.
		"no_proxy=127.0.0.1", "NO_PROXY=127.0.0.1")
	if err != nil {
		t.Fatalf("msi.sh: %v\n%s", err, stderr)
	}
	if n := requests.Load(); n != 3 {
		t.Errorf("%d time-stamp requests, want 3 (two programs, the package)", n)
	}
	report, err := exec.Command("osslsigncode", "verify", "-CAfile", s.cert, "-TSA-CAfile", tsaCert, "-in", out).CombinedOutput()
	if err != nil || !strings.Contains(string(report), "Timestamp Server Signature verification: ok") ||
		!strings.Contains(string(report), "Issuer: /CN=kuvert test TSA") || !strings.Contains(string(report), "Signature verification: ok") {
		t.Errorf("the package's time stamp (%v):\n%s", err, report)
	}
}
