package gui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// writeManifest writes files and a manifest in dir; rows are the lines
// after the header.
func writeManifest(t *testing.T, dir, header string, rows []string, files ...string) string {
	t.Helper()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("lön för "+f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "lönekörning.csv")
	if err := os.WriteFile(p, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func testLog(t *testing.T) *auditlog.Log {
	t.Helper()
	home := tempDir(t)
	l, err := auditlog.Open(auditlog.Options{Dir: filepath.Join(home, "log"), KeyDir: filepath.Join(home, "keys"), Tool: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestBatchFormListsEveryProblem: the form holds batch.Load's own
// problems (the CLI's messages), all of them, and cannot start.
func TestBatchFormListsEveryProblem(t *testing.T) {
	dir := tempDir(t)
	p := writeManifest(t, dir, "fil;mobil;namn;epost", []string{
		"anna.pdf;070-123 45 67;Anna;anna@kommun.example",
		"saknas.pdf;070-123 45 68;Bo;bo@kommun.example",
		"cecilia.pdf;08-123 456 78;Cecilia;inte-en-adress",
	}, "anna.pdf", "cecilia.pdf")
	var f batchForm
	f.Load(p, tempDir(t), testLog(t), crypt.FormatZip, false)
	want, err := batch.Load(p, batch.LoadOptions{Format: crypt.FormatZip})
	if err != nil {
		t.Fatal(err)
	}
	// Problems hold errors, compared by their machine text.
	same := func(a, b batch.Problem) bool { return a.Row == b.Row && a.Err.Error() == b.Err.Error() }
	if len(want.Problems) < 3 || !slices.EqualFunc(f.Problems(), want.Problems, same) {
		t.Fatalf("problems %v, batch.Load says %v", f.Problems(), want.Problems)
	}
	if f.CanStart() {
		t.Fatal("a manifest with problems can start")
	}
	if _, err := f.Options(batchEnv{}); err == nil || !errors.Is(err, crypt.ErrInput) {
		t.Fatalf("Options of a bad manifest: %v", err)
	}
	lines := f.Lines()
	if len(lines) != 3 || lines[0].Row != 2 || lines[0].Problem != "" || lines[0].Name != "Anna" || lines[0].File != "anna.pdf" || !strings.Contains(lines[0].Number, "67") {
		t.Fatalf("lines %+v", lines)
	}
	for _, pr := range want.Problems {
		if msg := rowProblem(pr.Err); !strings.Contains(lines[pr.Row-2].Problem, msg) {
			t.Errorf("row %d lacks %q: %+v", pr.Row, msg, lines[pr.Row-2])
		}
	}
	if strings.Count(lines[2].Problem, ";") < 1 {
		t.Errorf("row 4 has two problems, shown %q", lines[2].Problem)
	}
}

// TestBatchFormOptions: the mail step defaults as the CLI's --mail does,
// the SMS policy goes in as batch.Options.UseSMS puts it, and sending
// needs the relay.
func TestBatchFormOptions(t *testing.T) {
	dir := tempDir(t)
	p := writeManifest(t, dir, "fil;mobil;namn", []string{"anna.pdf;070-123 45 67;Anna"}, "anna.pdf")
	l := testLog(t)
	var f batchForm
	f.Load(p, tempDir(t), l, "", false)
	if !f.CanStart() || f.MailMode() != batch.MailNone || f.Resumes {
		t.Fatalf("no e-mail column: can start %v, mail %q, resumes %v", f.CanStart(), f.MailMode(), f.Resumes)
	}
	outbox := &sms.Outbox{Path: filepath.Join(dir, "sms.jsonl")}
	pol := &sms.Policy{Sender: outbox, Organisation: "Lönekontoret", Lang: "sv"}
	o, err := f.Options(batchEnv{Log: l, Config: &config.Config{Operator: "Eva"}, SMS: pol})
	if err != nil {
		t.Fatal(err)
	}
	if o.Mail != batch.MailNone || o.Sender != outbox || o.From != "Lönekontoret" || o.Operator != "Eva" || o.OutDir != f.OutDir || o.NoSMS || o.PasswordOut != "" {
		t.Fatalf("options %+v", o)
	}

	p = writeManifest(t, dir, "fil;mobil;namn;epost", []string{"anna.pdf;070-123 45 67;Anna;anna@kommun.example"}, "anna.pdf")
	f.Load(p, tempDir(t), l, "", false)
	if f.MailMode() != batch.MailDraft {
		t.Fatalf("with an e-mail column the mail step is %q, want draft", f.MailMode())
	}
	f.Mail = batch.MailSend
	_, err = f.Options(batchEnv{Log: l, Config: &config.Config{}, SMS: pol})
	var se *batch.SetupError
	if !errors.As(err, &se) || se.Hint == "" || !errors.Is(err, crypt.ErrInput) {
		t.Fatalf("send without a relay: %v", err)
	}
}
