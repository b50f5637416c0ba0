package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/settings"
	"github.com/spf13/cobra"
	yzip "github.com/yeka/zip"
	"github.com/zalando/go-keyring"
)

// testEnv is what a test's command lines get from the machine: a home
// folder of their own, an environment that is a map (nothing of the
// process's) and a keyring that is one, so tests need no t.Setenv and
// may run in parallel.
type testEnv struct {
	home    string
	env     map[string]string
	keyring mapKeyring
	// policy is machine policy; nil is none.
	policy func() (settings.Layer, error)
}

func newTestEnv(t *testing.T) *testEnv {
	home := filepath.Join(t.TempDir(), "home")
	return &testEnv{home: home, env: map[string]string{"KUVERT_HOME": home}, keyring: mapKeyring{}}
}

// factory is the Factory of one command line over the streams s.
func (e *testEnv) factory(s *IOStreams) *Factory {
	return &Factory{IOStreams: s, Getenv: e.getenv, Keyring: e.keyring, Policy: e.policy, Now: time.Now}
}

func (e *testEnv) getenv(k string) string { return e.env[k] }

// run runs one kuvert command line with nothing on standard input.
func (e *testEnv) run(args ...string) (int, string, string) { return e.runIn("", args...) }

// runIn runs one kuvert command line with in on standard input and
// returns the exit code, stdout and stderr.
func (e *testEnv) runIn(in string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, e.factory(&IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errOut}))
	return code, out.String(), errOut.String()
}

// mapKeyring is a keyring in memory: service + "/" + user → secret. It
// says not-found as go-keyring does.
type mapKeyring map[string]string

func (k mapKeyring) Get(service, user string) (string, error) {
	if s, ok := k[service+"/"+user]; ok {
		return s, nil
	}
	return "", keyring.ErrNotFound
}

func (k mapKeyring) Set(service, user, secret string) error {
	k[service+"/"+user] = secret
	return nil
}

func (k mapKeyring) Delete(service, user string) error {
	delete(k, service+"/"+user)
	return nil
}

// runCLI runs one kuvert command line with buffers for its streams and a
// home folder of its own, and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, in string, args ...string) (int, string, string) {
	t.Helper()
	return newTestEnv(t).runIn(in, args...)
}

// parents returns the path of every command that has subcommands.
func parents(c *cobra.Command, path []string) [][]string {
	var out [][]string
	if c.HasSubCommands() {
		out = append(out, path)
	}
	for _, sub := range c.Commands() {
		out = append(out, parents(sub, append(slices.Clone(path), sub.Name()))...)
	}
	return out
}

// `kuvert log verfy` printed help and exited 0, so a
// cron job meaning to verify the log "passed". A mistyped subcommand is a
// usage error (2) at every level, with cobra's suggestion when it has one.
func TestUnknownSubcommandIsUsageError(t *testing.T) {
	t.Parallel()
	tree := parents(newRootCmd(newTestEnv(t).factory(&IOStreams{})), nil)
	if len(tree) < 3 {
		t.Fatalf("expected root, log and sms to have subcommands: %v", tree)
	}
	for _, path := range tree {
		args := append(slices.Clone(path), "frobnicate")
		code, out, errOut := runCLI(t, "", args...)
		if code != ExitUsage {
			t.Errorf("kuvert %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, ExitUsage, out, errOut)
		}
		if !strings.Contains(errOut, `kuvert: unknown command "frobnicate"`) {
			t.Errorf("kuvert %s: stderr %q", strings.Join(args, " "), errOut)
		}
		if out != "" {
			t.Errorf("kuvert %s printed to stdout: %q", strings.Join(args, " "), out)
		}
	}
	for _, c := range []struct {
		args []string
		hint string
	}{
		{[]string{"log", "verfy"}, "verify"},
		{[]string{"decrypy", "x.zip"}, "decrypt"},
		{[]string{"sms", "sned"}, "send"},
	} {
		code, _, errOut := runCLI(t, "", c.args...)
		if code != ExitUsage || !strings.Contains(errOut, "kuvert: hint: did you mean \""+c.hint+"\"?") {
			t.Errorf("kuvert %s: exit %d, stderr %q", strings.Join(c.args, " "), code, errOut)
		}
	}
	// Asking a parent for its subcommands is not a mistake.
	for _, args := range [][]string{{"log"}, {"log", "--help"}, {"--help"}} {
		if code, out, _ := runCLI(t, "", args...); code != ExitOK || !strings.Contains(out, "Available Commands") {
			t.Errorf("kuvert %s: exit %d, stdout %q", strings.Join(args, " "), code, out)
		}
	}
}

// Every way of calling kuvert wrongly that cobra itself detects is exit 2,
// recognised by its type, not by the words of cobra's messages.
func TestCobraUsageErrorsAreUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--bogus"},
		{"encrypt", "--bogus", "a.txt"},
		{"encrypt"},
		{"decrypt"},
		{"decrypt", "a.zip", "b.zip"},
		{"verify", "--password-file"},
		{"genpass", "--count", "many"},
		{"genpass", "extra"},
		{"sms", "send"},
		{"log", "show", "1", "2", "3"},
	} {
		code, _, errOut := runCLI(t, "", args...)
		if code != ExitUsage {
			t.Errorf("kuvert %s: exit %d, want %d (%s)", strings.Join(args, " "), code, ExitUsage, errOut)
		}
		if strings.Count(errOut, "\n") < 1 || !strings.HasPrefix(errOut, "kuvert: ") || strings.Contains(errOut, "goroutine") {
			t.Errorf("kuvert %s: stderr %q", strings.Join(args, " "), errOut)
		}
	}
}

// A usage error is recognised structurally: a cobra message that happens
// to contain "invalid argument" from deep inside a command is not usage.
func TestExitCodeIsStructural(t *testing.T) {
	t.Parallel()
	if code := exitCode(errString("zip: invalid argument to flate")); code != ExitFailure {
		t.Fatalf("exit %d for a plain error that mentions an invalid argument", code)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// A password with a line break inside exited 1 although
// docs/exit-codes.md calls a bad password of one's own a usage error (2).
// It is refused with a clear message that never shows the password.
func TestPasswordWithLineBreakIsUsageError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "a.txt")
	os.WriteFile(in, []byte("hemligt"), 0o600)
	secret := "Kastanj-Fyrverkeri\rMolnbank-4417"
	pwFile := filepath.Join(dir, "pw.txt")
	os.WriteFile(pwFile, []byte(secret+"\n"), 0o600)
	for name, args := range map[string][]string{
		"file":  {"encrypt", "--password-file", pwFile, "-o", filepath.Join(dir, "a.zip"), in},
		"stdin": {"encrypt", "--password-file", "-", "-o", filepath.Join(dir, "a.zip"), in},
		"env":   {"encrypt", "--password-env", "-o", filepath.Join(dir, "a.zip"), in},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t)
			if name == "env" {
				e.env["KUVERT_PASSWORD"] = secret
			}
			code, out, errOut := e.runIn(secret+"\n", args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d: %s", code, ExitUsage, errOut)
			}
			if !strings.Contains(errOut, "line break") || !strings.Contains(errOut, "kuvert: hint: ") {
				t.Fatalf("stderr %q", errOut)
			}
			for _, part := range strings.Split(secret, "\r") {
				if strings.Contains(out+errOut, part) {
					t.Fatalf("the password shows: %q %q", out, errOut)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "a.zip")); err == nil {
				t.Fatal("an archive was written")
			}
		})
	}
	// Opening with such a password is refused the same way.
	arch := filepath.Join(dir, "x.zip")
	hostileZip(t, arch, "a.txt")
	code, _, errOut := runCLI(t, "", "verify", "--password-file", pwFile, arch)
	if code != ExitUsage || !strings.Contains(errOut, "line break") {
		t.Fatalf("verify: exit %d, %q", code, errOut)
	}
}

// hostileZip writes an AES zip whose entries carry the given names.
func hostileZip(t *testing.T, path string, names ...string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := yzip.NewWriter(f)
	for _, n := range names {
		w, err := zw.Encrypt(n, "pw", yzip.AES256Encryption)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("innehåll"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// assertNoRaw fails if s holds a character a terminal would act on or
// that reorders text.
func assertNoRaw(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\u202e", "\u2066", "\r", "\x07"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s holds a raw %q: %q", what, bad, s)
		}
	}
}

// Entry names with terminal escapes, newlines or
// right-to-left overrides were printed raw. Every listing and message
// escapes them the same way (termsafe.Escape).
func TestHostileNamesEscaped(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	arch := filepath.Join(dir, "x.zip")
	names := []string{"röd\x1b[31m.txt", "lön_\u202efdp.exe", "två\nOK: 0 filer.txt", "titel\x1b]0;x\x07.txt"}
	hostileZip(t, arch, names...)

	code, out, errOut := runCLI(t, "", "decrypt", "--list", arch)
	if code != ExitOK {
		t.Fatalf("list: exit %d %s", code, errOut)
	}
	assertNoRaw(t, "list", out+errOut)
	for _, want := range []string{`röd\x1b[31m.txt`, `lön_\u202efdp.exe`, `två\nOK: 0 filer.txt`, `titel\x1b]0;x\x07.txt`} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != len(names) {
		t.Errorf("list printed %d lines for %d entries:\n%s", n, len(names), out)
	}

	pwEnv := newTestEnv(t)
	pwEnv.env["KUVERT_PASSWORD"] = "pw"
	dest := filepath.Join(dir, "ut\x1b[2J")
	code, out, errOut = pwEnv.run("decrypt", "-o", dest, arch)
	if code != ExitOK {
		t.Fatalf("decrypt: exit %d %s", code, errOut)
	}
	assertNoRaw(t, "decrypt", out+errOut)
	if !strings.Contains(out, `lön_\u202efdp.exe`) || !strings.Contains(errOut, `ut\x1b[2J`) {
		t.Errorf("decrypt output:\n%s\n%s", out, errOut)
	}

	// An error naming an entry, and one naming an existing output file.
	code, _, errOut = pwEnv.run("decrypt", "-o", dest, arch)
	if code == ExitOK {
		t.Fatal("second decrypt into the same folder succeeded")
	}
	assertNoRaw(t, "exists error", errOut)
	dup := filepath.Join(dir, "dup.zip")
	hostileZip(t, dup, "a\u202e.txt", "A\u202e.txt")
	code, _, errOut = pwEnv.run("decrypt", "-o", filepath.Join(dir, "dup"), dup)
	if code != ExitDamaged || !strings.Contains(errOut, `\u202e`) {
		t.Fatalf("duplicate: exit %d %q", code, errOut)
	}
	assertNoRaw(t, "duplicate error", errOut)
}

// kuvert scan prints the paths it reports through the same escaping.
func TestScanEscapesNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "lista\x1b[8m.csv")
	if err := os.WriteFile(p, []byte("namn;personnummer\nÅsa;811218-9876\n"), 0o600); err != nil {
		t.Skip("this file system refuses the name")
	}
	code, out, errOut := runCLI(t, "", "scan", dir)
	if code != ExitSensitive {
		t.Fatalf("exit %d %s", code, errOut)
	}
	assertNoRaw(t, "scan", out+errOut)
	if !strings.Contains(out, `lista\x1b[8m.csv`) {
		t.Fatalf("stdout %q", out)
	}
}

// The runF hook lets a test see what the flags parsed into without
// running anything (GitHub CLI's pattern, docs in CONVENTIONS.md).
func TestDecryptFlagsParse(t *testing.T) {
	t.Parallel()
	var got *DecryptOptions
	cmd := newDecryptCmd(newTestEnv(t).factory(&IOStreams{}), func(_ context.Context, o *DecryptOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"-o", "ut", "--force", "-l", "-i", "a.key", "-i", "b.key", "--password-file", "-", "--json", "-q", "x.zip"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := DecryptOptions{Archive: "x.zip", Output: "ut", Identities: []string{"a.key", "b.key"}, PasswordFile: "-", Force: true, List: true, JSON: true, Quiet: true}
	if got == nil || !slices.Equal(got.Identities, want.Identities) {
		t.Fatalf("got %+v", got)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("got %+v, want %+v", *got, want)
	}

	var vgot *DecryptOptions
	v := newVerifyCmd(newTestEnv(t).factory(&IOStreams{}), func(_ context.Context, o *DecryptOptions) error { vgot = o; return nil })
	v.SetArgs([]string{"--quiet", "y.age"})
	if err := v.Execute(); err != nil || vgot == nil || vgot.Archive != "y.age" || !vgot.Quiet {
		t.Fatalf("verify: %+v %v", vgot, err)
	}
}

func TestGenpassFlagsParse(t *testing.T) {
	t.Parallel()
	var got *GenpassOptions
	cmd := newGenpassCmd(newTestEnv(t).factory(&IOStreams{}), func(_ context.Context, o *GenpassOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--words", "7", "-n", "3", "--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Words != 7 || got.Count != 3 || !got.JSON {
		t.Fatalf("got %+v", got)
	}
}

// `kuvert encrypt --json` and `kuvert batch --json` wrote their results
// with json.Encoder, which leaves U+202E raw: a file name holding it
// read backwards on the registrar's screen. Every --json goes through
// one writer that escapes it.
func TestJSONEscapesBidiInEveryCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "lön_\u202efdp.exe"
	if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
		t.Skip("this file system refuses the name")
	}
	manifest := filepath.Join(dir, "run.csv")
	if err := os.WriteFile(manifest, []byte("fil;mobil\n"+name+";0701234510\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		args []string
	}{
		{"encrypt", []string{"encrypt", "--json", "-o", filepath.Join(dir, "ut\u202e.zip"), filepath.Join(dir, name)}},
		{"batch", []string{"batch", "--json", "--dry-run", "--out-dir", filepath.Join(dir, "ut"), manifest}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			t.Parallel()
			// No SMS provider set: the demo one, whatever this machine's
			// environment says (the command reads only e's).
			e := newTestEnv(t)
			e.env["KUVERT_SMS_PROVIDER"] = ""
			code, out, errOut := e.run(tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			assertNoRaw(t, tc.what+" --json", out)
			if !strings.Contains(out, `\u202e`) {
				t.Errorf("%s --json does not name the file escaped:\n%s", tc.what, out)
			}
		})
	}
}
