package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// manifestWith writes one payslip per output name and a manifest whose
// output column names them.
func manifestWith(t *testing.T, dir string, outputs ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("fil;mobil;namn;arkiv\n")
	for i, o := range outputs {
		name := filepath.Join(dir, "spec"+string(rune('a'+i))+".pdf")
		os.WriteFile(name, bytes.Repeat([]byte{byte(i)}, 1000), 0o644)
		b.WriteString(filepath.Base(name) + ";" + number(i)[3:] + ";Anställd;" + o + "\n")
	}
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

// An archive may not take the name of the run's own files (state.json,
// report.csv, their backups and temporary files): the row is refused up
// front with a code that says why (the shells word it).
//
// Names without .zip/.age never pass the naming rule; these end in .zip
// and are still the run's own.
func TestOwnFileNamesRefused(t *testing.T) {
	for _, name := range []string{"state.json.zip", "report.csv.zip", "report.csv.bak.zip", "State.JSON.zip", "state.json.old.zip", ".report.csv.123.tmp.zip", ".kuvert-1.tmp.zip"} {
		dir := t.TempDir()
		m, err := Load(manifestWith(t, dir, "ok.zip", name), LoadOptions{Format: crypt.FormatZip})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Problems) != 1 || m.Problems[0].Row != 3 || m.Problems[0].Err.Error() != "batch.row-output-own{output="+name+"}" {
			t.Errorf("%s: problems %v", name, m.Problems)
		}
		if len(m.Rows) != 1 {
			t.Errorf("%s: rows %+v", name, m.Rows)
		}
	}
}

// A file already in the output folder that this batch did not write is
// never replaced: the run is refused before anything is sealed or sent,
// and the file is untouched.
func TestForeignFilesNotReplaced(t *testing.T) {
	cases := map[string]func(t *testing.T, out string){
		"archive name taken": func(t *testing.T, out string) {
			os.WriteFile(filepath.Join(out, "b.zip"), []byte("someone's file"), 0o644)
		},
		"report.csv of someone else": func(t *testing.T, out string) {
			os.WriteFile(filepath.Join(out, "report.csv"), []byte("someone's file"), 0o644)
		},
		"another batch's folder": func(t *testing.T, out string) {
			os.WriteFile(filepath.Join(out, "state.json"), []byte(`{"batch":"0123456789ab","rows":[]}`), 0o600)
		},
		"state.json unreadable": func(t *testing.T, out string) {
			os.WriteFile(filepath.Join(out, "state.json"), []byte("someone's file"), 0o600)
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			m, _ := Load(manifestWith(t, e.dir, "a.zip", "b.zip"), LoadOptions{Format: crypt.FormatZip})
			out := filepath.Join(e.dir, "ut")
			os.MkdirAll(out, 0o700)
			setup(t, out)
			before := snapshot(t, out)
			_, err := e.run(t, m)
			if !errors.Is(err, ErrNotOurs) || !errors.Is(err, crypt.ErrInput) {
				t.Fatalf("err = %v", err)
			}
			if len(e.fake.Messages()) != 0 {
				t.Fatal("texted")
			}
			if after := snapshot(t, out); !equalMaps(before, after) {
				t.Fatalf("the folder changed:\n%v\n%v", before, after)
			}
			if es, _ := e.log.Entries(); len(es) != 0 {
				t.Fatalf("%d log entries", len(es))
			}
		})
	}
}

// The password file may not take a name the run writes in its output
// folder.
func TestPasswordFileCollision(t *testing.T) {
	for _, name := range []string{"a.zip", "report.csv", "state.json"} {
		e := newEnv(t)
		m, _ := Load(manifestWith(t, e.dir, "a.zip", "b.zip"), LoadOptions{Format: crypt.FormatZip, NoSMS: true})
		out := filepath.Join(e.dir, "ut")
		_, err := Run(context.Background(), m, Options{OutDir: out, NoSMS: true, PasswordOut: filepath.Join(out, name), Log: e.log})
		if !errors.Is(err, crypt.ErrInput) || !strings.Contains(err.Error(), "password file") {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("%s: the output folder was made", name)
		}
	}
}

// Before sealing anything, a run claims its archive names in state.json;
// the claim is closed when the run ends normally.
func TestClaimsWrittenBeforeSealing(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(manifestWith(t, e.dir, "a.zip", "b.zip"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	var mid state
	snd := &hookSender{Outbox: &sms.Outbox{Path: filepath.Join(e.dir, "outbox.jsonl")}, afterSend: func(n int) {
		if n == 1 {
			b, _ := os.ReadFile(filepath.Join(out, "state.json"))
			json.Unmarshal(b, &mid)
		}
	}}
	if _, err := Run(context.Background(), m, Options{OutDir: out, Sender: snd, Log: e.log, From: "Lönekontoret", Jobs: 1}); err != nil {
		t.Fatal(err)
	}
	if mid.BatchID != m.ID || !contains(mid.Claimed, "a.zip") || !contains(mid.Claimed, "b.zip") || mid.ClaimedAt == "" {
		t.Fatalf("state during the run: %+v", mid)
	}
	var end state
	b, _ := os.ReadFile(filepath.Join(out, "state.json"))
	if err := json.Unmarshal(b, &end); err != nil || len(end.Claimed) != 0 {
		t.Fatalf("state after the run: %s", b)
	}
}

// A crash between an archive's rename and its log entry leaves an archive
// nobody can open and no record. The interrupted run had claimed the name
// before sealing, so the next attempt knows the file as its own: it
// records the removal, seals again and texts once.
func TestResumeReplacesOnlyItsOwnFiles(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(manifestWith(t, e.dir, "a.zip", "b.zip"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	os.MkdirAll(out, 0o700)
	// The claim as the interrupted attempt wrote it (see checkOutDir).
	st, _ := json.Marshal(state{BatchID: m.ID, Manifest: m.Path, Claimed: []string{"a.zip", "b.zip"}, ClaimedAt: time.Now().Add(-claimMargin).Format(time.RFC3339Nano)})
	os.WriteFile(filepath.Join(out, "state.json"), st, 0o600)
	os.WriteFile(filepath.Join(out, "b.zip"), []byte("sealed, never recorded"), 0o600)
	sum, err := e.run(t, m)
	if err != nil || sum.Done != 2 {
		t.Fatalf("%v %+v", err, sum)
	}
	if len(e.fake.Messages()) != 2 {
		t.Fatalf("%d SMS", len(e.fake.Messages()))
	}
	if b, _ := os.ReadFile(filepath.Join(out, "b.zip")); bytes.Equal(b, []byte("sealed, never recorded")) {
		t.Fatal("not sealed again")
	}
	es, _ := e.log.Entries()
	found := false
	for _, en := range es {
		found = found || en.Row == 3 && en.Action == auditlog.ActionSealFailed && strings.Contains(en.Details, "never recorded")
	}
	if !found {
		t.Fatal("the removal of the unrecorded archive is not in the log")
	}
}

// A file that appeared under a claimed name before the claim was made is
// not the run's own.
func TestOldFileUnderClaimedName(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(manifestWith(t, e.dir, "a.zip", "b.zip"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	os.MkdirAll(out, 0o700)
	os.WriteFile(filepath.Join(out, "b.zip"), []byte("someone's file"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(out, "b.zip"), old, old)
	st, _ := json.Marshal(state{BatchID: m.ID, Manifest: m.Path, Claimed: []string{"a.zip", "b.zip"}, ClaimedAt: time.Now().Add(-time.Minute).Format(time.RFC3339Nano)})
	os.WriteFile(filepath.Join(out, "state.json"), st, 0o600)
	if _, err := e.run(t, m); !errors.Is(err, ErrNotOurs) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "b.zip")); string(b) != "someone's file" {
		t.Fatal("replaced")
	}
}

// An archive recorded in the log but changed since (someone replaced it)
// is not removed when its row is redone.
func TestChangedArchiveNotRemoved(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(manifestWith(t, e.dir, "a.zip"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	e.fake.RefuseNumber(number(0), 21608)
	e.run(t, m) // the SMS fails: the archive is removed, the row failed
	e.fake.RefuseNumber(number(0), 0)
	os.WriteFile(filepath.Join(out, "a.zip"), []byte("someone's file"), 0o644)
	_, err := e.run(t, m)
	if !errors.Is(err, ErrNotOurs) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "a.zip")); string(b) != "someone's file" {
		t.Fatal("replaced")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			got[p] = fi.Mode().String() + " " + string(b)
		}
		return nil
	})
	return got
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A row interrupted before its SMS is sealed again, but not over an
// archive that changed since the log recorded it: that row fails, the
// file stays, nothing is texted.
func TestChangedRecordedArchiveKept(t *testing.T) {
	e := newEnv(t)
	m, _ := Load(manifestWith(t, e.dir, "a.zip"), LoadOptions{Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	os.MkdirAll(out, 0o700)
	r := m.Rows[0]
	e.log.Append(auditlog.Entry{Action: auditlog.ActionSeal, Batch: m.ID, Row: r.Num, Archive: &auditlog.FileRef{Name: r.Output, Size: 23},
		Delivery: &auditlog.Delivery{Provider: "twilio", To: sms.MaskNumber(r.Phone), Ref: "ref001", Status: "pending"}})
	os.WriteFile(filepath.Join(out, "a.zip"), []byte("replaced by someone else"), 0o644)
	sum, err := e.run(t, m)
	if !errors.Is(err, ErrRowsFailed) || sum.Rows[0].Result != ResultFailed || !strings.Contains(sum.Rows[0].Error, "changed") {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "a.zip")); string(b) != "replaced by someone else" {
		t.Fatal("replaced")
	}
	if len(e.fake.Messages()) != 0 {
		t.Fatal("texted")
	}
}
