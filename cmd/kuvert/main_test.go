package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/internal/cli"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kuvert": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs the CLI sessions in testdata/*.txtar. Each script is a
// user's session; the real 7-Zip, bsdtar and age are used where named.
func TestScripts(t *testing.T) {
	p := scriptParams()
	p.Dir = "testdata"
	testscript.Run(t, p)
}

// underWine is set while TestScriptsWindows runs the sessions against
// kuvert.exe under Wine.
var underWine bool

// scriptParams is what every CLI session gets: its own loopback Twilio
// and mail relay, its own kuvert home, and the commands below.
func scriptParams() testscript.Params {
	return testscript.Params{
		Setup: func(env *testscript.Env) error {
			// Every script gets its own loopback Twilio; scripts choose it
			// with KUVERT_SMS_PROVIDER=twilio.
			fake := twiliotest.NewServer()
			env.Defer(fake.Close)
			env.Values[fakeKey{}] = fake
			env.Setenv("KUVERT_TWILIO_API_URL", fake.URL)
			env.Setenv("TWILIO_ACCOUNT_SID", twiliotest.AccountSID)
			env.Setenv("TWILIO_AUTH_TOKEN", twiliotest.AuthToken)
			env.Setenv("KUVERT_SMS_FROM", twiliotest.From)
			// And its own loopback mail relay (plain SMTP: the STARTTLS
			// path is tested in batch and mailrelay), as RELAY.
			relay, err := relaytest.NewServer(relaytest.Options{Plain: true})
			if err != nil {
				return err
			}
			env.Defer(relay.Close)
			env.Values[relayKey{}] = relay
			env.Setenv("RELAY", relay.Addr)
			env.Setenv("RELAY_USER", strings.Replace(relaytest.User, "@", "%40", 1))
			env.Setenv("RELAY_PASSWORD", relaytest.Password)
			env.Setenv("KUVERT_SMS_PROVIDER", "console")
			env.Setenv("KUVERT_SMS_TIMEOUT", "1s")
			env.Setenv("KUVERT_HOME", env.WorkDir+"/.kuvert")
			// Machine policy (Linux, macOS): $WORK/root/etc/kuvert/policy.json,
			// never the computer's own /etc.
			env.Setenv("KUVERT_POLICY_ROOT", env.WorkDir+"/root")
			env.Setenv("TZ", "Europe/Stockholm")
			env.Setenv("LC_ALL", "C.UTF-8") // bsdtar and 7zz need a UTF-8 locale for å ä ö
			return nil
		},
		Condition: func(cond string) (bool, error) {
			// [wine]: the session runs kuvert.exe under Wine.
			if cond == "wine" {
				return underWine, nil
			}
			// [peer:7zz] is true when the tool is installed. In CI a
			// missing peer fails the script instead of skipping it.
			name, ok := strings.CutPrefix(cond, "peer:")
			if !ok {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if _, err := exec.LookPath(name); err != nil {
				if os.Getenv("CI") != "" {
					return false, fmt.Errorf("%s is required in CI (make deps installs it)", name)
				}
				return false, nil
			}
			return true, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":   cmdExitcode,
			"jsonget":    cmdJSONGet,
			"envfile":    cmdEnvFile,
			"flipbyte":   cmdFlipByte,
			"truncate":   cmdTruncate,
			"mkfile":     cmdMkfile,
			"notcontain": cmdNotContain,
			"twilio":     cmdTwilio,
			"relay":      cmdRelay,
			"cp1252":     cmdCP1252,
			"mkxlsx":     cmdMkxlsx,
		},
	}
}

// exitcode N PROG ARGS... runs PROG and checks its exit code is N.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N prog args...")
	}
	want, _ := strconv.Atoi(args[0])
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// jsonget FIELD FILE writes a top-level field of the last stdout (a JSON
// object) into FILE.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsonget field file")
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &m); err != nil {
		ts.Fatalf("stdout is not a JSON object: %v", err)
	}
	v, ok := m[args[0]]
	if !ok {
		if neg {
			return
		}
		ts.Fatalf("no field %q", args[0])
	}
	if neg {
		ts.Fatalf("field %q present", args[0])
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(fmt.Sprint(v)), 0o600))
}

// envfile VAR FILE sets VAR to the content of FILE.
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// flipbyte FILE OFFSET flips the low bit of one byte; a negative offset
// counts from the end.
func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	p := ts.MkAbs(args[0])
	b, err := os.ReadFile(p)
	ts.Check(err)
	off, _ := strconv.Atoi(args[1])
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 1
	ts.Check(os.WriteFile(p, b, 0o644))
}

// truncate FILE N cuts FILE to N bytes; a negative N removes bytes from
// the end.
func cmdTruncate(ts *testscript.TestScript, neg bool, args []string) {
	p := ts.MkAbs(args[0])
	fi, err := os.Stat(p)
	ts.Check(err)
	n, _ := strconv.ParseInt(args[1], 10, 64)
	if n < 0 {
		n += fi.Size()
	}
	ts.Check(os.Truncate(p, n))
}

// mkfile FILE SIZE [random|text] makes a test file of SIZE bytes.
func cmdMkfile(ts *testscript.TestScript, neg bool, args []string) {
	n, _ := strconv.Atoi(args[1])
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghij;\n"[i%12]
	}
	if len(args) > 2 && args[2] == "random" {
		f, _ := os.Open("/dev/urandom")
		defer f.Close()
		f.Read(b)
	}
	ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(args[0])), 0o755))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
}

// notcontain SECRETFILE FILE... fails if any FILE contains the text of
// SECRETFILE (a password, a phone number).
func cmdNotContain(ts *testscript.TestScript, neg bool, args []string) {
	secret := strings.TrimSpace(ts.ReadFile(args[0]))
	if secret == "" {
		ts.Fatalf("empty secret")
	}
	for _, f := range args[1:] {
		if strings.Contains(ts.ReadFile(f), secret) {
			ts.Fatalf("%s contains the secret from %s", f, args[0])
		}
	}
}

type fakeKey struct{}

// twilio drives the script's fake Twilio:
//
//	twilio fail STATUS CODE     next POST answers with a JSON error
//	twilio html STATUS          next POST answers with an HTML error page
//	twilio hang                 next POST hangs (the client times out)
//	twilio accept-hang          next POST stores the message, then hangs
//	twilio refuse NUMBER CODE   POSTs to NUMBER fail with CODE
//	twilio final NUMBER STATUS  messages to NUMBER end in STATUS
//	twilio count N              exactly N messages were accepted
//	twilio password NUMBER FILE the password in the last SMS to NUMBER
//	twilio body NUMBER FILE     the whole last SMS to NUMBER
func cmdTwilio(ts *testscript.TestScript, neg bool, args []string) {
	fake := ts.Value(fakeKey{}).(*twiliotest.Server)
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	switch args[0] {
	case "fail":
		fake.Script(twiliotest.Behaviour{Status: atoi(args[1]), Code: atoi(args[2])})
	case "html":
		fake.Script(twiliotest.Behaviour{Status: atoi(args[1]), HTML: true})
	case "hang":
		fake.Script(twiliotest.Behaviour{Hang: 3 * time.Second})
	case "accept-hang":
		fake.Script(twiliotest.Behaviour{AcceptThenHang: true, Hang: 3 * time.Second})
	case "refuse":
		fake.RefuseNumber(args[1], atoi(args[2]))
	case "final":
		fake.FinalStatus(args[1], args[2])
	case "count":
		if got := len(fake.Messages()); got != atoi(args[1]) {
			ts.Fatalf("the fake Twilio holds %d messages, want %s", got, args[1])
		}
	case "password", "body":
		m, ok := fake.LastTo(args[1])
		if !ok {
			ts.Fatalf("no SMS to %s", args[1])
		}
		out := m.Body
		if args[0] == "password" {
			i := strings.LastIndex(m.Body, ": ")
			out = m.Body[i+2:]
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(out), 0o600))
	default:
		ts.Fatalf("unknown twilio command %q", args[0])
	}
}

type relayKey struct{}

// relay checks the script's loopback mail relay:
//
//	relay count N      exactly N messages were accepted
//	relay dump FILE    every accepted message, one after another, in FILE
func cmdRelay(ts *testscript.TestScript, neg bool, args []string) {
	relay := ts.Value(relayKey{}).(*relaytest.Server)
	if len(args) != 2 {
		ts.Fatalf("usage: relay count N | relay dump FILE")
	}
	switch args[0] {
	case "count":
		if got := len(relay.Messages()); strconv.Itoa(got) != args[1] {
			ts.Fatalf("%d messages at the relay, want %s", got, args[1])
		}
	case "dump":
		var b []byte
		for _, m := range relay.Messages() {
			b = append(b, m.Data...)
		}
		ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
	default:
		ts.Fatalf("unknown relay command %q", args[0])
	}
}
