package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/serverproc"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// quickStart returns the shell blocks of docs/server.md's "Quick start"
// section (up to the next heading), joined.
func quickStart(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "docs", "server.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	in, block, found := false, false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## Quick start"):
			in, found = true, true
		case in && !block && strings.HasPrefix(line, "#"):
			in = false
		case in && line == "```sh":
			block = true
		case in && block && line == "```":
			block = false
		case in && block:
			out.WriteString(line + "\n")
		}
	}
	if !found || out.Len() == 0 {
		t.Fatal("docs/server.md has no Quick start section with a sh block")
	}
	return out.String()
}

// TestQuickStart runs docs/server.md's quick start as written, in a
// fresh database and a fresh folder tree, and fails when the document's
// commands stop working: the server must come up healthy with its SMS
// provider, the signing key must belong to the service user. Only what
// must be is substituted, each substitution required to match (so that
// a changed document is noticed): the paths go under a temporary root,
// the database URL is the test's, the fake Twilio's address is added to
// the secrets, the port is a free one, and the service user is nobody
// (as root; the test's own user otherwise, which cannot switch users).
func TestQuickStart(t *testing.T) {
	script := quickStart(t)
	root, err := os.MkdirTemp("", "kuvert-quickstart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755) // the service user walks through it
	bin := filepath.Join(root, "bin")
	os.Mkdir(bin, 0o755)
	exe, err := os.ReadFile(serverproc.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "kuvert"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	tw := twiliotest.NewServer()
	t.Cleanup(tw.Close)
	addr := serverproc.FreeAddr(t)

	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	group, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}
	svc, svcGroup, runAs := me.Username, group.Name, "env"
	if os.Geteuid() == 0 {
		svc, svcGroup, runAs = "nobody", "nogroup", "runuser -u nobody --"
	}
	svcUser, err := user.Lookup(svc)
	if err != nil {
		t.Fatal(err)
	}
	subs := []struct{ old, new string }{
		{"useradd --system --home-dir /var/lib/kuvert --shell /usr/sbin/nologin kuvert", "true # the service user: " + svc},
		{"-o kuvert -g kuvert", "-o " + svc + " -g " + svcGroup},
		{"--owner kuvert", "--owner " + svc},
		{"runuser -u kuvert --", runAs},
		{"postgres://kuvert:DB-PASSWORD@db.example.se/kuvert?sslmode=verify-full", pgtest.DB(t, cluster)},
		{"KUVERT_SMS_FROM=" + twiliotest.From, "KUVERT_SMS_FROM=" + twiliotest.From + "\nKUVERT_TWILIO_API_URL=" + tw.URL},
		{"TWILIO_ACCOUNT_SID=" + twiliotest.AccountSID, "TWILIO_ACCOUNT_SID=" + twiliotest.AccountSID},
		{"TWILIO_AUTH_TOKEN=" + twiliotest.AuthToken, "TWILIO_AUTH_TOKEN=" + twiliotest.AuthToken},
		{"127.0.0.1:8443", addr},
		{"/var/lib/kuvert", root + "/var/lib/kuvert"},
		{"/etc/kuvert", root + "/etc/kuvert"},
	}
	for _, s := range subs {
		if !strings.Contains(script, s.old) {
			t.Fatalf("the quick start no longer has %q; update the document and this test together", s.old)
		}
		script = strings.ReplaceAll(script, s.old, s.new)
	}

	logf, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("sh", "-e", "-c", script)
	cmd.Dir = root
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUVERT_") && !strings.HasPrefix(kv, "TWILIO_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "PATH="+bin+":"+os.Getenv("PATH"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The server the document starts in the background goes with the
	// script's process group.
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		time.Sleep(200 * time.Millisecond)
	})
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(2 * time.Minute):
		runErr = fmt.Errorf("timed out")
	}
	time.Sleep(300 * time.Millisecond) // the server's first lines
	logf.Seek(0, io.SeekStart)
	out, _ := io.ReadAll(logf)
	if runErr != nil {
		t.Fatalf("the quick start failed: %v\n%s", runErr, out)
	}
	t.Logf("the quick start's output:\n%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !slices.Contains(lines, "ok") || strings.Count(string(out), "\nkvt_") != 2 {
		t.Errorf("no healthy server or no token:\n%s", out)
	}
	if strings.Contains(string(out), "no SMS provider configured") {
		t.Errorf("the server runs without its SMS provider:\n%s", out)
	}
	// The device token texts through the server: the Twilio account, the
	// sender and the organisation came from the secrets file.
	var device string
	for i, l := range lines {
		if strings.Contains(l, "ekonomi-pc17") && i+1 < len(lines) {
			device = lines[i+1]
		}
	}
	req, _ := json.Marshal(api.SMSRequest{Key: "20261203-0000000000000001/ab2cd3", To: "070-174 06 50", Password: testPassword, Ref: "ab2cd3", Refers: "20261203-0000000000000001"})
	hr, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/sms", bytes.NewReader(req))
	hr.Header.Set("Authorization", "Bearer "+device)
	hr.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	msgs := tw.Messages()
	if resp.StatusCode != 200 || len(msgs) != 1 || msgs[0].From != twiliotest.From || !strings.Contains(msgs[0].Body, "Sundsvalls kommun") {
		t.Errorf("a text through the documented server: %d %s; Twilio got %+v", resp.StatusCode, b, msgs)
	}
	fi, err := os.Stat(filepath.Join(root, "var/lib/kuvert/server-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); fmt.Sprint(st.Uid) != svcUser.Uid || fi.Mode().Perm() != 0o600 {
		t.Errorf("the signing key belongs to uid %d with mode %v; want %s's, 0600", st.Uid, fi.Mode().Perm(), svc)
	}
}
