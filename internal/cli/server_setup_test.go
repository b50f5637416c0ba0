package cli

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The secrets file holds any setting the server reads, and a line the
// server does not read is refused with its name rather than ignored.
func TestServerSecretsFile(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	p := filepath.Join(t.TempDir(), "secrets")
	os.WriteFile(p, []byte("# the server's secrets\nKUVERT_DATABASE_URL=postgres://kuvert:pw@db/kuvert\nexport KUVERT_SMS_FROM='+46766860000'\nKUVERT_ORGANISATION=Sundsvalls kommun\n"), 0o600)
	e.env["KUVERT_SERVER_SECRETS"] = p
	f := e.factory(&IOStreams{})
	getenv, err := f.serverGetenv()
	if err != nil {
		t.Fatal(err)
	}
	if getenv("KUVERT_SMS_FROM") != "+46766860000" || getenv("KUVERT_ORGANISATION") != "Sundsvalls kommun" {
		t.Errorf("the sender or the organisation in the secrets file was not read")
	}
	if u, err := f.databaseURL(); err != nil || u != "postgres://kuvert:pw@db/kuvert" {
		t.Errorf("database URL from the secrets file: %q %v", u, err)
	}
	e.env["KUVERT_ORGANISATION"] = "Ånge kommun" // the environment first
	if getenv("KUVERT_ORGANISATION") != "Ånge kommun" {
		t.Errorf("the secrets file overrode the environment")
	}

	os.WriteFile(p, []byte("KUVERT_SMS_FORM=+46766860000\n"), 0o600)
	_, err = f.serverGetenv()
	if err == nil || !strings.Contains(err.Error(), "line 1: the server does not read KUVERT_SMS_FORM") || !strings.Contains(strings.Join(hints(err), " "), "KUVERT_SMS_FROM") {
		t.Errorf("a misspelt setting: %v (hints %q)", err, hints(err))
	}
	os.WriteFile(p, []byte("just words\n"), 0o600)
	if _, err := f.serverGetenv(); err == nil || !strings.Contains(err.Error(), "line 1 is not KEY=VALUE") {
		t.Errorf("a line without '=': %v", err)
	}
	os.Chmod(p, 0o644)
	if _, err := f.serverGetenv(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a readable secrets file: %v", err)
	}
	delete(e.env, "KUVERT_SERVER_SECRETS")
	if _, err := f.databaseURL(); err == nil || exitCode(err) != ExitUsage || !strings.Contains(strings.Join(hints(err), " "), "KUVERT_SERVER_SECRETS") {
		t.Errorf("no database URL: %v (hints %q)", err, hints(err))
	}
}

// A signing key this user cannot read is said to be that, with the way
// out (--owner), not blamed on KUVERT_SERVER_SIGNING_KEY.
func TestServerKeyUnreadable(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "server-signing.key")
	e.env["KUVERT_SERVER_SIGNING_KEY"] = key
	f := e.factory(&IOStreams{})
	if os.Geteuid() != 0 {
		os.WriteFile(key, []byte("x\n"), 0o000)
		_, err := f.loadSigningKey(false)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(strings.Join(hints(err), " "), "--owner USER") {
			t.Errorf("an unreadable key: %v (hints %q)", err, hints(err))
		}
		os.Remove(key)
	}
	// root reads every file: the hint itself is checked.
	if h := ownerHint(key); !strings.Contains(h, "cannot read "+key) || !strings.Contains(h, "kuvert server key --owner USER") {
		t.Errorf("owner hint: %q", h)
	}
	_, err := f.loadSigningKey(false)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(strings.Join(hints(err), " "), "kuvert server key") {
		t.Errorf("a missing key: %v (hints %q)", err, hints(err))
	}
}

// server key --owner gives the key (and a folder made for it) to the
// user the server runs as; an unknown user is a usage error and makes
// no key.
func TestServerKeyOwner(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	key := filepath.Join(t.TempDir(), "made", "server-signing.key")
	e.env["KUVERT_SERVER_SIGNING_KEY"] = key
	if code, _, errOut := e.run("server", "key", "--owner", "no-such-user-kuvert"); code != ExitUsage || !strings.Contains(errOut, "no user no-such-user-kuvert") {
		t.Errorf("unknown owner: %d %q", code, errOut)
	}
	if _, err := os.Stat(key); err == nil {
		t.Error("a key was made for an unknown owner")
	}
	if runtime.GOOS == "windows" {
		if code, _, errOut := e.run("server", "key", "--owner", "x"); code != ExitUsage || !strings.Contains(errOut, "not for Windows") {
			t.Errorf("--owner on Windows: %d %q", code, errOut)
		}
		return // files have no owner uid there
	}
	owner, uid := "nobody", uint32(65534)
	if os.Geteuid() != 0 {
		owner, uid = "", uint32(os.Geteuid())
	}
	args := []string{"server", "key"}
	if owner != "" {
		args = append(args, "--owner", owner)
	}
	code, out, errOut := e.run(args...)
	if code != 0 || !strings.HasPrefix(out, "kuvert-server+") {
		t.Fatalf("server key: %d %q %q", code, out, errOut)
	}
	for _, p := range []string{key, filepath.Dir(key)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := statUID(fi); got != uid {
			t.Errorf("%s belongs to uid %d, want %d", p, got, uid)
		}
	}
}
