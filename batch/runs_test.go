package batch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// The nightly job: the same manifest file, the next night with one
// changed payslip. That row is sealed, mailed and texted anew (the others
// stay done: nobody gets yesterday's payslip twice), and its new archive
// opens with its new password. --new-run then seals everything again on
// purpose, in a folder of its own, and a plain run after it continues
// that run.
func TestNightlyRuns(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	p := writeMailManifest(t, e.dir, 3)
	load := func() *Manifest {
		m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
		if err != nil || len(m.Problems) > 0 {
			t.Fatal(err, m.Problems)
		}
		if err := SelectRun(e.log, m, "", false); err != nil {
			t.Fatal(err)
		}
		return m
	}
	night1 := load()
	if sum, err := e.runMail(night1, r); err != nil || sum.Done != 3 {
		t.Fatalf("night 1: %v %+v", err, sum)
	}

	// Night 2: row 3's payslip changed; the manifest file is the same.
	os.WriteFile(filepath.Join(e.dir, "lönespec_002.pdf"), bytes.Repeat([]byte("ny lön"), 500), 0o644)
	night2 := load()
	if night2.ID != night1.ID {
		t.Fatalf("the run changed: %s → %s", night1.ID, night2.ID)
	}
	sum, err := e.runMail(night2, r)
	if err != nil || sum.Done != 1 || sum.AlreadyDone != 2 || !sum.Delivered() {
		t.Fatalf("night 2: %v %+v", err, sum.Rows)
	}
	row := sum.Rows[1]
	if row.Result != ResultSent || !strings.Contains(row.Note, "sealed anew") || sum.Rows[0].Result != ResultDone || sum.Rows[2].Result != ResultDone {
		t.Fatalf("night 2: %+v", sum.Rows)
	}
	if len(relay.Messages()) != 4 || len(e.fake.Messages()) != 4 {
		t.Fatalf("night 2: %d mails, %d SMS, want 4 and 4", len(relay.Messages()), len(e.fake.Messages()))
	}
	sms, _ := e.fake.LastTo(number(2))
	pw := sms.Body[strings.LastIndex(sms.Body, ": ")+2:]
	tmp := filepath.Join(t.TempDir(), "x")
	if _, err := crypt.Extract(context.Background(), row.Archive, crypt.ExtractOptions{OpenOptions: crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}, Dest: tmp}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(tmp, "lönespec_002.pdf")); !bytes.HasPrefix(got, []byte("ny lön")) {
		t.Fatalf("night 2's archive holds %q…", got[:min(len(got), 12)])
	}
	// The same night again: nothing more.
	if sum, err := e.runMail(load(), r); err != nil || sum.AlreadyDone != 3 || len(e.fake.Messages()) != 4 {
		t.Fatalf("night 2 again: %v %+v", err, sum)
	}

	// --new-run: every row again, in a new folder.
	m := night2
	m.ID = night1.ID
	if err := SelectRun(e.log, m, "", true); err != nil || m.ID != night1.ID+"-2" {
		t.Fatalf("%v %s", err, m.ID)
	}
	sum, err = Run(context.Background(), m, Options{OutDir: OutDir(m), Sender: e.tw, Log: e.log, From: "Lön", Jobs: 2, Mail: MailSend, Mailer: r, MailFrom: "lon@kommun.example"})
	if err != nil || sum.Done != 3 || len(relay.Messages()) != 7 || len(e.fake.Messages()) != 7 {
		t.Fatalf("--new-run: %v %+v, %d mails, %d SMS", err, sum, len(relay.Messages()), len(e.fake.Messages()))
	}
	// A plain run afterwards continues the latest run: nothing to do.
	m = load()
	if m.ID != night1.ID+"-2" {
		t.Fatalf("plain run after --new-run: %s", m.ID)
	}
	if sum, err := Run(context.Background(), m, Options{OutDir: OutDir(m), Sender: e.tw, Log: e.log, From: "Lön", Mail: MailSend, Mailer: r, MailFrom: "lon@kommun.example"}); err != nil || sum.AlreadyDone != 3 || len(e.fake.Messages()) != 7 {
		t.Fatalf("%v %+v", err, sum)
	}
	if _, err := e.log.Verify(""); err != nil {
		t.Fatal(err)
	}
}

func TestSelectRunNamed(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(writeManifest(t, e.dir, 1, "file;phone", ";"), LoadOptions{Format: crypt.FormatZip})
	if err := SelectRun(e.log, m, "lon-2026-11", false); err != nil || m.ID != "run:lon-2026-11" {
		t.Fatal(err, m.ID)
	}
	for _, bad := range []string{"../x", "a b", "lön", "19811218-9876", strings.Repeat("a", 65)} {
		if err := SelectRun(e.log, m, bad, false); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := SelectRun(e.log, m, "x", true); err == nil {
		t.Error("--run with --new-run accepted")
	}
}

// The files changed, and so did the recorded archive in the folder:
// kuvert replaces nothing it did not write, so that row fails (the other
// rows are done) and the changed archive is left as it is.
func TestStaleRowWithChangedArchive(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 2, "file;phone", ";")
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	sum, err := e.run(t, m)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(e.dir, "lönespec_001.pdf"), []byte("ny"), 0o644)
	os.WriteFile(sum.Rows[0].Archive, []byte("someone else's"), 0o644)
	sum, err = e.run(t, m)
	if !errors.Is(err, ErrPartial) || sum.Rows[0].Result != ResultFailed || !isFault(sum.Rows[0].Err, CodeStaleChanged) || sum.Rows[1].Result != ResultDone {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if b, _ := os.ReadFile(sum.Rows[0].Archive); string(b) != "someone else's" {
		t.Fatal("the changed archive was replaced")
	}
	if len(e.fake.Messages()) != 2 {
		t.Fatalf("%d SMS", len(e.fake.Messages()))
	}
}

// A changed row whose new sealing fails (here: the relay refuses its
// mail) keeps its old archive: nothing is lost, and the next run tries
// again.
func TestStaleRowFailureKeepsOldArchive(t *testing.T) {
	e := newEnv(t)
	relay, r := startRelay(t)
	m, _ := Load(writeMailManifest(t, e.dir, 1), LoadOptions{Format: crypt.FormatZip})
	sum, err := e.runMail(m, r)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(sum.Rows[0].Archive)
	os.WriteFile(filepath.Join(e.dir, "lönespec_001.pdf"), []byte("ny"), 0o644)
	relay.Refuse(email(1), true)
	sum, err = e.runMail(m, r)
	if !errors.Is(err, ErrRowsFailed) || sum.Rows[0].Result != ResultFailed {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if now, _ := os.ReadFile(sum.Rows[0].Archive); !bytes.Equal(now, old) {
		t.Fatal("the old archive is gone")
	}
	entries, _ := os.ReadDir(filepath.Join(e.dir, "ut"))
	for _, de := range entries {
		if strings.Contains(de.Name(), "superseded") {
			t.Fatalf("left behind: %s", de.Name())
		}
	}
	relay.Refuse(email(1), false)
	if sum, err = e.runMail(m, r); err != nil || sum.Rows[0].Result != ResultSent || len(relay.Messages()) != 2 || len(e.fake.Messages()) != 2 {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
}
