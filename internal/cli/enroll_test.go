package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/serverproc"
	"github.com/kuvert-app/kuvert/settings"
)

// asDesktop is a never-configured desktop: a kuvert folder of its own,
// an empty keyring, the server's address (none when "") and the extra
// environment, and no machine policy unless policyRoot holds one.
func asDesktop(t *testing.T, serverURL string, extra ...string) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	if serverURL != "" {
		e.env["KUVERT_SERVER_URL"] = serverURL
	}
	e.env["KUVERT_POLICY_ROOT"] = t.TempDir()
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		e.env[k] = v
	}
	e.policy = func() (settings.Layer, error) { return settings.MachinePolicy(e.getenv) }
	return e
}

// token is the device token in e's keyring, or "".
func (e *testEnv) token() string {
	return e.keyring[settings.KeyringService+"/"+settings.ServerTokenKey]
}

// The administrator's steps and a desktop's, against a real `kuvert
// server run` process on PostgreSQL: enrollment by hand (kuvert enroll,
// the code on standard input) and by itself (an enrollment code in the
// environment as a policy would give it), sealing with an SMS through the
// relay whose text names the organisation set only on the server, and
// the entry in the central log.
func TestEnrollAgainstServerProcess(t *testing.T) {
	t.Parallel()
	db := pgtest.DB(t, cluster)
	shome := t.TempDir()
	outbox := filepath.Join(t.TempDir(), "sms.jsonl")
	senv := []string{"KUVERT_DATABASE_URL=" + db, "KUVERT_HOME=" + shome, "KUVERT_SERVER_SIGNING_KEY=" + filepath.Join(shome, "server-signing.key"),
		"KUVERT_SMS_PROVIDER=outbox:" + outbox, "TWILIO_ACCOUNT_SID=", "TWILIO_AUTH_TOKEN=", "KUVERT_SERVER_SECRETS=", "KUVERT_ORGANISATION="}
	proc := serverproc.Start(t, senv, "--organisation", "Servkommun")

	srvEnv := newTestEnv(t)
	for _, kv := range senv {
		k, v, _ := strings.Cut(kv, "=")
		srvEnv.env[k] = v
	}
	admin := func(args ...string) string {
		t.Helper()
		code, out, errOut := srvEnv.run(append([]string{"server"}, args...)...)
		if code != 0 {
			t.Fatalf("server %v: %d %s", args, code, errOut)
		}
		return out
	}
	lastLine := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		return lines[len(lines)-1]
	}
	code1 := lastLine(admin("enroll-code", "add", "--name-prefix", "ekonomi-", "--uses", "1", "--expires", "14d"))
	if !strings.HasPrefix(code1, "kve-") || strings.Contains(code1, " ") {
		t.Fatalf("the last line is not the code alone: %q", code1)
	}
	if out := admin("enroll-code", "list"); !strings.Contains(out, "ekonomi-") || !strings.Contains(out, "1/1") || strings.Contains(out, code1) {
		t.Fatalf("enroll-code list: %q", out)
	}
	host, _ := os.Hostname()
	device := "ekonomi-" + server.SanitizeComputerName(host)

	// By hand: the code on standard input.
	d1 := asDesktop(t, proc.URL)
	code, out, errOut := d1.runIn(code1+"\n", "enroll")
	if code != 0 || !strings.Contains(out, device) {
		t.Fatalf("enroll: %d %q %q", code, out, errOut)
	}
	tok := d1.token()
	if !strings.HasPrefix(tok, "kvt_") || strings.Contains(out+errOut, tok) {
		t.Fatal("the keyring holds no device token, or the token was shown")
	}
	// The organisation's name came from the server.
	if code, out, _ := d1.run("config", "show"); code != 0 || !regexpLine(out, `^organisation +Servkommun +organisationens server`) {
		t.Fatalf("config show:\n%s", out)
	}
	// The code is used up now: a second desktop is told so, Swedish first.
	if code, _, errOut := asDesktop(t, proc.URL).runIn(code1+"\n", "enroll"); code != ExitFailure || !strings.Contains(errOut, "registreringskoden är förbrukad") || strings.Contains(errOut, code1) {
		t.Fatalf("used-up code: %d %q", code, errOut)
	}
	// Revoked: likewise.
	code2 := lastLine(admin("enroll-code", "add", "--name-prefix", "lon-", "--uses", "5"))
	admin("enroll-code", "revoke", "lon-")
	if code, _, errOut := asDesktop(t, proc.URL, "KUVERT_ENROLLMENT_CODE="+code2).run("enroll"); code != ExitFailure || !strings.Contains(errOut, "återkallad") {
		t.Fatalf("revoked code: %d %q", code, errOut)
	}

	// By itself: the first command that needs the server enrolls.
	code3 := lastLine(admin("enroll-code", "add", "--name-prefix", "hr-", "--uses", "2"))
	d3 := asDesktop(t, proc.URL, "KUVERT_ENROLLMENT_CODE="+code3)
	dir := t.TempDir()
	in := filepath.Join(dir, "lista.csv")
	os.WriteFile(in, []byte("x\n"), 0o600)
	fetches := func() int { return strings.Count(proc.Output(), "path=/api/v1/settings ") }
	before := fetches()
	if code, _, errOut := d3.run("genpass"); code != 0 || fetches() != before {
		t.Fatalf("a command that needs no server fetched its settings: %d %q", code, errOut)
	}
	code, out, errOut = d3.run("encrypt", "--case", "KS 2026/7", "--sms", "070-123 45 67", "-o", filepath.Join(dir, "lista.zip"), in)
	if code != 0 {
		t.Fatalf("encrypt on a never-configured desktop: %d %q %q", code, out, errOut)
	}
	if d3.token() == "" {
		t.Fatal("no token after automatic enrollment")
	}
	// Texting through the relay and shipping in passing: one fetch.
	if n := fetches() - before; n != 1 {
		t.Fatalf("the settings were fetched %d times in one command", n)
	}
	sent, _ := os.ReadFile(outbox)
	if !strings.Contains(string(sent), "Servkommun") {
		t.Fatalf("the relay's text does not name the server's organisation: %s", sent)
	}
	if strings.Contains(out+errOut, code3) {
		t.Fatal("the enrollment code was shown")
	}
	if _, err := os.Stat(filepath.Join(d3.home, "server-settings.json")); err != nil {
		t.Fatalf("no cache of the server's settings: %v", err)
	}
	// The sealing reached the central log, from the enrolled device.
	skey, _ := os.ReadFile(filepath.Join(shome, "server-signing.key"))
	st, err := server.OpenStore(context.Background(), db, strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Search(context.Background(), server.Search{Case: "KS 2026/7", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	hrDevice := "hr-" + server.SanitizeComputerName(host)
	found := false
	for _, e := range res.Entries {
		found = found || e.Device == hrDevice
	}
	if !found {
		t.Fatalf("no central entry from %s: %+v", hrDevice, res.Entries)
	}
	// With machine policy alone (/etc/kuvert/policy.json under a root of
	// the test's own): log sync enrolls and ships.
	code4 := lastLine(admin("enroll-code", "add", "--name-prefix", "pol-", "--uses", "1"))
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc", "kuvert"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "kuvert", "policy.json"), []byte(`{"ServerURL": "`+proc.URL+`", "EnrollmentCode": "`+code4+`"}`), 0o644)
	d4 := asDesktop(t, "", "KUVERT_POLICY_ROOT="+root)
	if code, _, errOut := d4.sealFile(t, "protokoll.txt"); code != 0 {
		t.Fatalf("seal: %s", errOut)
	}
	if code, out, errOut := d4.run("log", "sync"); code != 0 || strings.Contains(out+errOut, code4) {
		t.Fatalf("log sync with policy: %d %q %q", code, out, errOut)
	}
	if d4.token() == "" {
		t.Fatal("no token after enrolling by policy")
	}
	// The server's own log names devices, never a code or a token.
	for _, secret := range []string{code1, code2, code3, code4, tok} {
		if strings.Contains(proc.Output(), secret) || strings.Contains(proc.Output(), server.NormalizeEnrollCode(secret)) {
			t.Fatal("a secret in the server's log")
		}
	}
	// token list names the devices and the codes they came from.
	if out := admin("token", "list"); !strings.Contains(out, device) || !strings.Contains(out, hrDevice) || !regexpLine(out, `^`+hrDevice+` .* hr- \(\d+\)$`) || !strings.Contains(out, "pol-") {
		t.Fatalf("token list:\n%s", out)
	}
}

// regexpLine reports whether some line of s matches re.
func regexpLine(s, re string) bool {
	return regexp.MustCompile(`(?m)` + re).MatchString(s)
}

func TestConfigShowHidesTheEnrollmentCode(t *testing.T) {
	t.Parallel()
	d := asDesktop(t, "https://kuvert.example.se", "KUVERT_ENROLLMENT_CODE=kve-abcd-efgh-jkmn")
	for _, args := range [][]string{{"config", "show"}, {"config", "show", "--json"}} {
		code, out, errOut := d.run(args...)
		if code != 0 || strings.Contains(out+errOut, "abcd") || !strings.Contains(out, "(satt / set)") {
			t.Fatalf("%v: %d\n%s%s", args, code, out, errOut)
		}
	}
}

// Bad input to enroll-code add is refused, Swedish first, and makes no
// code; kuvert enroll without a server or a code says what to do.
func TestEnrollCodeAndEnrollBadInput(t *testing.T) {
	t.Parallel()
	a := newTestEnv(t)
	a.env["KUVERT_DATABASE_URL"] = pgtest.DB(t, cluster)
	a.env["KUVERT_SERVER_SIGNING_KEY"] = filepath.Join(a.home, "server-signing.key")
	run := func(_ *testing.T, args ...string) (int, string, string) { return a.run(args...) }
	if code, _, errOut := run(t, "server", "key"); code != 0 {
		t.Fatal(errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--uses", "0"}, "--uses måste vara 1 till"},
		{[]string{"--expires", "snart"}, "is not a period"},
		{[]string{"--expires", "0d"}, "--expires måste vara en tid längre än noll"},
		{[]string{"--name-prefix", "ekonomi avd-"}, "namnprefixet får vara högst 40"},
	} {
		code, out, errOut := run(t, append([]string{"server", "enroll-code", "add"}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(out, "kve-") {
			t.Errorf("%v: %d %q %q", tc.args, code, out, errOut)
		}
	}
	if code, out, _ := run(t, "server", "enroll-code", "list", "--json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("refused codes were made: %q", out)
	}
	if code, _, errOut := run(t, "server", "enroll-code", "revoke", "ingen-"); code != ExitFailure || !strings.Contains(errOut, "ingen aktiv registreringskod") {
		t.Fatalf("revoke unknown: %d %q", code, errOut)
	}

	if code, _, errOut := asDesktop(t, "").runIn("kve-x\n", "enroll"); code != ExitUsage || !strings.Contains(errOut, "ingen kuvert-server är inställd") {
		t.Fatalf("no server: %d %q", code, errOut)
	}
	if code, _, errOut := asDesktop(t, "https://kuvert.example.se").runIn("", "enroll"); code != ExitUsage || !strings.Contains(errOut, "ingen registreringskod") {
		t.Fatalf("no code: %d %q", code, errOut)
	}
}
