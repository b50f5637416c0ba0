package batch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/mailrelay"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// TestMain doubles as the helper process of the crash tests: with
// BATCH_HELPER_DIR set, the test binary runs one batch against the
// parent's loopback Twilio and relay and kills itself (SIGKILL on Unix:
// no deferred clean-up, no signal handler) where BATCH_HELPER_KILL says.
func TestMain(m *testing.M) {
	if dir := os.Getenv("BATCH_HELPER_DIR"); dir != "" {
		os.Exit(crashHelper(dir))
	}
	os.Exit(m.Run())
}

func killSelf() {
	p, _ := os.FindProcess(os.Getpid())
	p.Kill()
	select {} // never returns
}

func crashHelper(dir string) int {
	where, rowS, _ := strings.Cut(os.Getenv("BATCH_HELPER_KILL"), ":")
	row, _ := strconv.Atoi(rowS)
	tw, err := twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: os.Getenv("BATCH_HELPER_TWILIO")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "helper"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r, err := mailrelay.Parse(os.Getenv("BATCH_HELPER_SMTP"), relaytest.Password)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, err := Load(filepath.Join(dir, "lönekörning.csv"), LoadOptions{Format: crypt.FormatZip})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if where == "after-mail" {
		testHookAfterMail = func(r int) {
			if r == row {
				killSelf()
			}
		}
	}
	var mailer Mailer = r
	if where == "in-mail" {
		// The relay took the message; the process dies before the log
		// records that.
		mailer = mailerFunc(func(ctx context.Context, from, to string, msg []byte) (string, error) {
			a, err := r.Send(ctx, from, to, msg)
			if to == email(row-1) {
				killSelf()
			}
			return a, err
		})
	}
	_, err = Run(context.Background(), m, Options{OutDir: filepath.Join(dir, "ut"), Sender: tw, Log: l, From: "Lön", Jobs: 1,
		Mail: MailSend, Mailer: mailer, MailFrom: "lon@kommun.example",
		OnRow: func(res RowResult) {
			if where == "after-row" && res.Row == row {
				killSelf()
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// The batch process killed (SIGKILL) after a row's mail and before its
// SMS, or between two rows: the next run sends each missing piece exactly
// once — no second mail, no second SMS — and every archive opens with the
// password its recipient got.
func TestCrashResumesExactly(t *testing.T) {
	for _, tc := range []struct {
		kill        string
		mails, smss int // after the crash
	}{
		{"after-mail:3", 2, 1}, // row 3 mailed, not texted
		{"after-row:3", 2, 2},  // rows 2 and 3 done, row 4 not started
	} {
		t.Run(tc.kill, func(t *testing.T) {
			e := newEnv(t)
			relay, err := relaytest.NewServer(relaytest.Options{Plain: true})
			if err != nil {
				t.Fatal(err)
			}
			defer relay.Close()
			m, _ := Load(writeMailManifest(t, e.dir, 3), LoadOptions{Format: crypt.FormatZip})
			// The child opens the log itself: the parent's handle waits.
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "BATCH_HELPER_DIR="+e.dir, "BATCH_HELPER_KILL="+tc.kill, "BATCH_HELPER_TWILIO="+e.fake.URL,
				"BATCH_HELPER_SMTP=smtp+insecure://"+strings.Replace(relaytest.User, "@", "%40", 1)+"@"+relay.Addr)
			out, err := cmd.CombinedOutput()
			if err == nil || cmd.ProcessState.ExitCode() != -1 {
				t.Fatalf("the helper was not killed: %v\n%s", err, out)
			}
			if len(relay.Messages()) != tc.mails || len(e.fake.Messages()) != tc.smss {
				t.Fatalf("after the crash: %d mails, %d SMS\n%s", len(relay.Messages()), len(e.fake.Messages()), out)
			}
			r, _ := mailrelay.Parse("smtp+insecure://"+strings.Replace(relaytest.User, "@", "%40", 1)+"@"+relay.Addr, relaytest.Password)
			r.TLS = &tls.Config{}
			sum, err := e.runMail(m, r)
			if err != nil || !sum.Delivered() {
				t.Fatalf("re-run: %v %+v", err, sum.Rows)
			}
			if len(relay.Messages()) != 3 || len(e.fake.Messages()) != 3 {
				t.Fatalf("after the re-run: %d mails, %d SMS, want 3 and 3", len(relay.Messages()), len(e.fake.Messages()))
			}
			for i, row := range sum.Rows {
				n := 0
				for _, msg := range relay.Messages() {
					if msg.To[0] == email(i+1) {
						n++
					}
				}
				sms, ok := e.fake.LastTo(number(i + 1))
				if n != 1 || !ok {
					t.Fatalf("row %d: %d mails, SMS %v", row.Row, n, ok)
				}
				pw := sms.Body[strings.LastIndex(sms.Body, ": ")+2:]
				if _, err := crypt.Verify(context.Background(), row.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}); err != nil {
					t.Fatalf("row %d: the archive does not open with the SMS's password: %v", row.Row, err)
				}
			}
			if tc.kill == "after-mail:3" && sum.Rows[1].Result != ResultResumed {
				t.Fatalf("row 3: %+v", sum.Rows[1])
			}
			if _, err := e.log.Verify(""); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(e.dir, "ut", ".pending")); !os.IsNotExist(err) {
				t.Fatal("a kept password is left after the run")
			}
		})
	}
}

type mailerFunc func(ctx context.Context, from, to string, msg []byte) (string, error)

func (f mailerFunc) Send(ctx context.Context, from, to string, msg []byte) (string, error) {
	return f(ctx, from, to, msg)
}

// Killed while the relay takes a row's mail (accepted, not yet on
// record): whether it went out is unknown to kuvert, so the re-run sends
// that row neither a second mail nor an SMS, says why, and exits partial;
// the other rows are completed.
func TestCrashDuringMail(t *testing.T) {
	e := newEnv(t)
	relay, err := relaytest.NewServer(relaytest.Options{Plain: true})
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	m, _ := Load(writeMailManifest(t, e.dir, 3), LoadOptions{Format: crypt.FormatZip})
	url := "smtp+insecure://" + strings.Replace(relaytest.User, "@", "%40", 1) + "@" + relay.Addr
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BATCH_HELPER_DIR="+e.dir, "BATCH_HELPER_KILL=in-mail:3", "BATCH_HELPER_TWILIO="+e.fake.URL, "BATCH_HELPER_SMTP="+url)
	if out, err := cmd.CombinedOutput(); err == nil || cmd.ProcessState.ExitCode() != -1 {
		t.Fatalf("the helper was not killed: %v\n%s", err, out)
	}
	if len(relay.Messages()) != 2 || len(e.fake.Messages()) != 1 {
		t.Fatalf("after the crash: %d mails, %d SMS", len(relay.Messages()), len(e.fake.Messages()))
	}
	r, _ := mailrelay.Parse(url, relaytest.Password)
	sum, err := e.runMail(m, r)
	if !errors.Is(err, ErrPartial) || sum.Rows[1].Result != ResultFailed || !strings.Contains(sum.Rows[1].Error, "whether it went out is unknown") {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if len(relay.Messages()) != 3 || len(e.fake.Messages()) != 2 {
		t.Fatalf("after the re-run: %d mails, %d SMS, want 3 and 2", len(relay.Messages()), len(e.fake.Messages()))
	}
	if _, ok := e.fake.LastTo(number(2)); ok {
		t.Fatal("texted a password for a mail of unknown fate")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "ut", ".pending")); !os.IsNotExist(err) {
		t.Fatal("the kept password of the unfinished row lingers")
	}
}
