package msi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/internal/winetest"
	"github.com/kuvert-app/kuvert/server"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/serverproc"
	"github.com/kuvert-app/kuvert/settings"
)

// installedCLI is kuvert.exe where the package puts it.
const installedCLI = `C:\Program Files\kuvert\kuvert.exe`

// orgServer is a real `kuvert server run` process on PostgreSQL on
// loopback, the organisation named only there, texting into an outbox
// file (the SMS provider's stand-in), with its administrator's CLI.
type orgServer struct {
	t      *testing.T
	proc   *serverproc.Proc
	db     string
	home   string
	env    []string
	outbox string
}

// startOrgServer starts a PostgreSQL cluster of the test's own and the
// server on it; without PostgreSQL it fails under CI and returns nil
// elsewhere, saying why.
func startOrgServer(t *testing.T, organisation string) *orgServer {
	t.Helper()
	cl, err := pgtest.Start(pgtest.Options{})
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is needed for the enrollment under Wine: %v", err)
		}
		t.Logf("the enrollment under Wine is left out: %v", err)
		return nil
	}
	t.Cleanup(cl.Close)
	s := &orgServer{t: t, db: pgtest.DB(t, cl), home: t.TempDir(), outbox: filepath.Join(t.TempDir(), "sms.jsonl")}
	s.env = []string{"KUVERT_DATABASE_URL=" + s.db, "KUVERT_HOME=" + s.home,
		"KUVERT_SERVER_SIGNING_KEY=" + filepath.Join(s.home, "server-signing.key"),
		"KUVERT_SMS_PROVIDER=outbox:" + s.outbox, "TWILIO_ACCOUNT_SID=", "TWILIO_AUTH_TOKEN=", "KUVERT_SERVER_SECRETS=", "KUVERT_ORGANISATION="}
	s.proc = serverproc.Start(t, s.env, "--organisation", organisation)
	return s
}

// admin runs `kuvert server ARGS…` (the Linux CLI) as the server's
// administrator and returns its output.
func (s *orgServer) admin(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(serverproc.Binary(s.t), append([]string{"server"}, args...)...)
	cmd.Env = append(os.Environ(), s.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("kuvert server %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// centralDevices are the devices the central log holds entries from
// for caseNo.
func (s *orgServer) centralDevices(caseNo string) []string {
	s.t.Helper()
	key, err := os.ReadFile(filepath.Join(s.home, "server-signing.key"))
	if err != nil {
		s.t.Fatal(err)
	}
	ctx := context.Background()
	st, err := server.OpenStore(ctx, s.db, strings.TrimSpace(string(key)))
	if err != nil {
		s.t.Fatal(err)
	}
	defer st.Close()
	res, err := st.Search(ctx, server.Search{Case: caseNo, Limit: 100})
	if err != nil {
		s.t.Fatal(err)
	}
	var devices []string
	for _, e := range res.Entries {
		devices = append(devices, e.Device)
	}
	return devices
}

// unconfigured is the test process's environment without anything that
// configures kuvert (KUVERT_*, TWILIO_*): the installed program sees
// machine policy and nothing a user set.
func unconfigured() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KUVERT_") || strings.HasPrefix(kv, "TWILIO_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// installedKuvert runs the installed kuvert.exe with no user
// configuration and returns its exit code and output.
func installedKuvert(t *testing.T, pfx *winetest.Prefix, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := pfx.Command(ctx, installedCLI, args...)
	cmd.Env = pfx.Env(unconfigured())
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("kuvert.exe %v: %v\n%s", args, err, out)
	}
	return 0, string(out)
}

// sealUnderWine seals a new file for caseNo with the password by SMS to
// a Swedish mobile through the installed kuvert.exe.
func sealUnderWine(t *testing.T, pfx *winetest.Prefix, caseNo string) (int, string) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "lista.csv")
	if err := os.WriteFile(in, []byte("namn;belopp\nAnna;100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	win, err := pfx.WindowsPath(in)
	if err != nil {
		t.Fatal(err)
	}
	winOut, err := pfx.WindowsPath(filepath.Join(dir, "lista.zip"))
	if err != nil {
		t.Fatal(err)
	}
	return installedKuvert(t, pfx, "encrypt", "--case", caseNo, "--sms", "070-123 45 67", "-o", winOut, win)
}

// enrollByPolicy is the administrator's whole part for a desktop: the
// server's address and an enrollment code by machine policy (what a GPO
// made from kuvert.admx writes), nothing else. Then a clerk's first
// sealing with an SMS enrolls the computer (its device token in
// Credential Manager), texts through the server's relay in the words
// set on the server, and its entry reaches the central log. It returns
// the device's name.
func enrollByPolicy(t *testing.T, w wine, s *orgServer, organisation string) string {
	t.Helper()
	code := lastLine(s.admin("enroll-code", "add", "--name-prefix", "ekonomi-", "--uses", "1", "--expires", "1d"))
	if !strings.HasPrefix(code, "kve-") {
		t.Fatalf("enroll-code add did not end with the code: %q", code)
	}
	for _, v := range [][2]string{{"ServerURL", s.proc.URL}, {"EnrollmentCode", code}} {
		w.regAdd(`HKLM\`+settings.PolicyRegistryKey, v[0], v[1])
	}
	mark := time.Now()
	rc, out := sealUnderWine(t, w.pfx, "KS 2026/7")
	t.Logf("first sealing under Wine (enrolling, texting, shipping) in %v", time.Since(mark).Round(100*time.Millisecond))
	if rc != 0 {
		t.Fatalf("installed kuvert.exe encrypt with policy only: exit %d\n%s\nserver:\n%s", rc, out, s.proc.Output())
	}
	if strings.Contains(out, code) || strings.Contains(out, server.NormalizeEnrollCode(code)) || strings.Contains(out, "kvt_") {
		t.Errorf("kuvert.exe showed the enrollment code or a token:\n%s", out)
	}
	// The device token was bought with the code and is named from the
	// prefix and the computer's name.
	tokens := s.admin("token", "list")
	m := regexp.MustCompile(`(?m)^(ekonomi-\S+) +device .* ekonomi- \(\d+\)$`).FindStringSubmatch(tokens)
	if m == nil {
		t.Fatalf("token list has no device enrolled with the code:\n%s", tokens)
	}
	device := m[1]
	if host, err := os.Hostname(); err == nil && device != "ekonomi-"+server.SanitizeComputerName(host) {
		t.Errorf("the device is named %q, want the prefix and the computer's name %q", device, host)
	}
	if list := s.admin("enroll-code", "list"); !strings.Contains(list, "0/1") {
		t.Errorf("the code's one use was not spent:\n%s", list)
	}
	// The text the relay sent names the organisation set on the server.
	sent, err := os.ReadFile(s.outbox)
	if err != nil || !strings.Contains(string(sent), organisation) || !strings.Contains(string(sent), "46701234567") {
		t.Errorf("the relay's text (%v) does not name %q or the number:\n%s", err, organisation, sent)
	}
	// The sealing's entry reached the central log from the device.
	if devices := s.centralDevices("KS 2026/7"); !contains(devices, device) {
		t.Errorf("the central log holds entries for KS 2026/7 from %v, not from %s", devices, device)
	}
	// The organisation's settings are cached for offline use, and the
	// desktop shows where they came from.
	if rc, show := installedKuvert(t, w.pfx, "config", "show"); rc != 0 ||
		!regexp.MustCompile(`organisation +`+regexp.QuoteMeta(organisation)+` +organisationens server`).MatchString(show) ||
		!regexp.MustCompile(`server_url +`+regexp.QuoteMeta(s.proc.URL)+` +maskinpolicy`).MatchString(show) {
		t.Errorf("kuvert.exe config show after enrolling: exit %d\n%s", rc, show)
	}
	return device
}

// stillEnrolled: after an upgrade the computer texts and ships with the
// token it has (the one-use code is spent, so enrolling again would fail).
func stillEnrolled(t *testing.T, w wine, s *orgServer, device string) {
	t.Helper()
	if rc, out := sealUnderWine(t, w.pfx, "KS 2026/8"); rc != 0 {
		t.Fatalf("kuvert.exe encrypt after the upgrade: exit %d\n%s", rc, out)
	}
	if devices := s.centralDevices("KS 2026/8"); !contains(devices, device) {
		t.Errorf("after the upgrade the central log holds entries for KS 2026/8 from %v, not from %s", devices, device)
	}
	if n := strings.Count(s.admin("token", "list"), "ekonomi-"); n != 2 { // the name and the code it came from
		t.Errorf("token list after the upgrade names ekonomi- %d times, want one device", n)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// regAdd sets a REG_SZ value with reg.exe in the prefix.
func (w wine) regAdd(key, name, value string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := w.pfx.Command(ctx, "reg", "add", key, "/v", name, "/t", "REG_SZ", "/d", value, "/f").CombinedOutput(); err != nil {
		w.t.Fatalf("reg add %s %s: %v\n%s", key, name, err, out)
	}
}
