package gui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/mailrelay/relaytest"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
)

// outboxRecords reads the outbox provider's file (none: no SMS).
func outboxRecords(t *testing.T, path string) []sms.OutboxRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []sms.OutboxRecord
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r sms.OutboxRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("outbox: %v (%s)", err, line)
		}
		out = append(out, r)
	}
	return out
}

// batchTable is every cell of the batch view's table, row by row.
func batchTable(v *batchView) string {
	var b strings.Builder
	rows, cols := v.table.Length()
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			b.WriteString(v.cell(r, c) + "\t")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// goodManifest writes n valid rows (with e-mail addresses) in dir.
func goodManifest(t *testing.T, dir string, n int) string {
	var rows, files []string
	for i := 1; i <= n; i++ {
		f := fmt.Sprintf("lön_%d.pdf", i)
		files = append(files, f)
		rows = append(rows, fmt.Sprintf("%s;070-123 45 %02d;Person %d;person%d@kommun.example", f, 10+i, i, i))
	}
	return writeManifest(t, dir, "fil;mobil;namn;epost", rows, files...)
}

// TestBatchViewShowsEveryProblem: a manifest with bad rows lists each
// row's problems in the table at once, with batch's own words, and Start
// stays disabled.
func TestBatchViewShowsEveryProblem(t *testing.T) {
	h := newHarness(t, &config.Config{SMS: config.SMS{Provider: "outbox:" + filepath.Join(tempDir(t), "sms.jsonl"), Sender: "Lönekontoret"}})
	h.u.SelectTab("batch")
	v := h.u.batch
	if !v.start.Disabled() {
		t.Fatal("Start is enabled with no manifest")
	}
	p := writeManifest(t, h.workDir, "fil;mobil;namn;epost", []string{
		"anna.pdf;070-123 45 67;Anna;anna@kommun.example",
		"saknas.pdf;070-123 45 68;Bo;bo@kommun.example",
		"cecilia.pdf;08-123 456 78;Cecilia;inte-en-adress",
	}, "anna.pdf", "cecilia.pdf")
	v.LoadManifest(p)
	m, err := batch.Load(p, batch.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	table := batchTable(v)
	for _, pr := range m.Problems {
		if msg := rowProblem(pr.Err); !strings.Contains(table, msg) {
			t.Errorf("the table lacks %q:\n%s", msg, table)
		}
	}
	if !strings.Contains(table, "Anna") || !strings.Contains(table, "anna.pdf") {
		t.Errorf("the valid row is not shown:\n%s", table)
	}
	if !v.start.Disabled() {
		t.Fatal("Start is enabled for a manifest with problems")
	}
	if want := problemsSummary(len(m.Problems), 1); v.summary.Text != want {
		t.Errorf("summary %q, want %q", v.summary.Text, want)
	}
	// A file that is not a manifest at all says so.
	v.LoadManifest(filepath.Join(h.workDir, "finns-inte.csv"))
	if !v.start.Disabled() || !strings.Contains(v.summary.Text, "cannot read the manifest") {
		t.Errorf("missing manifest: summary %q", v.summary.Text)
	}
}

// TestBatchViewRunsOutboxAndDrafts: a good manifest runs against the
// outbox provider with e-mail drafts (the default with an e-mail
// column): one SMS and one draft per row, the report beside them, no
// password anywhere in the window.
func TestBatchViewRunsOutboxAndDrafts(t *testing.T) {
	outbox := filepath.Join(tempDir(t), "sms.jsonl")
	h := newHarness(t, &config.Config{SMS: config.SMS{Provider: "outbox:" + outbox, Sender: "Lönekontoret"}})
	v := h.u.batch
	v.LoadManifest(goodManifest(t, h.workDir, 3))
	if v.start.Disabled() || v.mail.Selected != lang.L("batch.mail.draft") || v.demo.Visible() {
		t.Fatalf("start disabled %v, mail %q, demo shown %v", v.start.Disabled(), v.mail.Selected, v.demo.Visible())
	}
	test.Tap(v.start)
	v.work.Wait()
	sum := v.last
	if sum == nil || v.lastErr != nil || sum.Done != 3 {
		t.Fatalf("summary %+v, error %v", sum, v.lastErr)
	}
	recs := outboxRecords(t, outbox)
	if len(recs) != 3 {
		t.Fatalf("%d SMS, want 3", len(recs))
	}
	drafts, _ := filepath.Glob(filepath.Join(sum.OutDir, batch.DraftDir, "*.eml"))
	if len(drafts) != 3 {
		t.Fatalf("drafts %v", drafts)
	}
	if _, err := os.Stat(filepath.Join(sum.OutDir, "report.csv")); err != nil {
		t.Fatal(err)
	}
	table := batchTable(v)
	if strings.Count(table, lang.L("batch.result.sent")) != 3 || !strings.Contains(table, lang.L("batch.result.mail", map[string]any{"State": lang.L("batch.mailstate.draft")})) {
		t.Errorf("table after the run:\n%s", table)
	}
	shown := table + v.state.Text + v.summary.Text + v.report.Text
	for _, r := range recs {
		pw := r.Body[strings.LastIndex(r.Body, " ")+1:]
		if strings.Contains(shown, pw) {
			t.Fatalf("the window shows a password %q:\n%s", pw, shown)
		}
	}
	if !strings.Contains(v.report.Text, filepath.Join(sum.OutDir, "report.csv")) || !v.openRep.Visible() {
		t.Fatalf("report %q", v.report.Text)
	}
	test.Tap(v.openRep)
	if len(h.opened) != 1 || h.opened[0] != sum.OutDir {
		t.Fatalf("opened %v, want %s", h.opened, sum.OutDir)
	}
}

// TestBatchViewSendsThroughRelay: --mail send's path, through a loopback
// relay (smtp+insecure:// is accepted for loopback only).
func TestBatchViewSendsThroughRelay(t *testing.T) {
	s, err := relaytest.NewServer(relaytest.Options{Plain: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	outbox := filepath.Join(tempDir(t), "sms.jsonl")
	h := newHarness(t, &config.Config{SMS: config.SMS{Provider: "outbox:" + outbox, Sender: "Lönekontoret"}, MailFrom: "lon@kommun.example"})
	h.setenv("KUVERT_SMTP_URL", "smtp+insecure://"+strings.Replace(relaytest.User, "@", "%40", 1)+"@"+s.Addr)
	h.setenv("KUVERT_SMTP_PASSWORD", "")
	h.setenv("KUVERT_MAIL_FROM", "")
	h.keys.Set(keyringService, settings.SMTPPasswordKey, relaytest.Password) // from the keyring
	v := h.u.batch
	v.LoadManifest(goodManifest(t, h.workDir, 2))
	v.mail.SetSelected(lang.L("batch.mail.send"))
	if v.form.Mail != batch.MailSend {
		t.Fatalf("mail %q", v.form.Mail)
	}
	test.Tap(v.start)
	v.work.Wait()
	if v.lastErr != nil || v.last == nil || v.last.Done != 2 {
		t.Fatalf("summary %+v, error %v", v.last, v.lastErr)
	}
	if n, m := len(s.Messages()), len(outboxRecords(t, outbox)); n != 2 || m != 2 {
		t.Fatalf("%d mails and %d SMS, want 2 and 2", n, m)
	}
}

// TestBatchViewResumesAfterCancel: cancelled after the first row, the
// run stops with rows not started; the view says it resumes, and the
// second start does the rest: every row texted exactly once.
func TestBatchViewResumesAfterCancel(t *testing.T) {
	outbox := filepath.Join(tempDir(t), "sms.jsonl")
	h := newHarness(t, &config.Config{SMS: config.SMS{Provider: "outbox:" + outbox, Sender: "Lönekontoret"}})
	v := h.u.batch
	const n = 5
	p := goodManifest(t, h.workDir, n)
	v.LoadManifest(p)
	v.form.Jobs = 1 // one row in flight: the cancel lands between rows
	v.afterRow = func(batch.RowResult) {
		v.afterRow = nil
		fyne.Do(v.Cancel)
		time.Sleep(100 * time.Millisecond) // the feeder sees the cancel first
	}
	test.Tap(v.start)
	v.work.Wait()
	if v.last == nil || !v.last.Interrupted || v.last.Done < 1 || v.last.Done == n {
		t.Fatalf("first attempt: %+v (%v)", v.last, v.lastErr)
	}
	first := len(outboxRecords(t, outbox))
	if first != v.last.Done {
		t.Fatalf("%d SMS for %d rows done", first, v.last.Done)
	}
	if !strings.Contains(batchTable(v), lang.L("batch.result.pending")) {
		t.Errorf("no row shown as not started:\n%s", batchTable(v))
	}

	// The window was closed: a new one, the same manifest chosen again.
	v.LoadManifest(p)
	if !v.form.Resumes || v.start.Text != lang.L("batch.resume") || !strings.Contains(v.summary.Text, lang.L("batch.resumes", map[string]any{"Rows": n, "Dir": v.form.OutDir})) {
		t.Fatalf("reopened: resumes %v, button %q, summary %q", v.form.Resumes, v.start.Text, v.summary.Text)
	}
	test.Tap(v.start)
	v.work.Wait()
	if v.lastErr != nil || v.last.Interrupted || v.last.Done+v.last.AlreadyDone != n || v.last.AlreadyDone != first {
		t.Fatalf("second attempt: %+v (%v)", v.last, v.lastErr)
	}
	per := map[string]int{}
	for _, r := range outboxRecords(t, outbox) {
		per[r.To]++
	}
	if len(per) != n {
		t.Fatalf("SMS went to %d numbers, want %d: %v", len(per), n, per)
	}
	for to, c := range per {
		if c != 1 {
			t.Errorf("%s got %d SMS", to, c)
		}
	}
	if !strings.Contains(batchTable(v), lang.L("batch.result.done")) {
		t.Errorf("rows of the first attempt are not shown as already done:\n%s", batchTable(v))
	}
}

// TestBatchViewDemo: with the demo provider the view says so and no row
// is reported as sent.
func TestBatchViewDemo(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Lönekontoret"}) // the console demo
	v := h.u.batch
	v.LoadManifest(goodManifest(t, h.workDir, 2))
	if !v.demo.Visible() || v.demo.Text != lang.L("batch.demo") {
		t.Fatalf("demo label %q shown %v", v.demo.Text, v.demo.Visible())
	}
	test.Tap(v.start)
	v.work.Wait()
	if v.last == nil || v.last.Demo != 2 || v.last.Done != 0 {
		t.Fatalf("demo run: %+v (%v)", v.last, v.lastErr)
	}
	table := batchTable(v)
	if strings.Count(table, lang.L("batch.result.demo")) != 2 || strings.Contains(table, "\t"+lang.L("batch.result.sent")) {
		t.Errorf("demo rows:\n%s", table)
	}
	if !strings.Contains(v.state.Text, lang.L("batch.done.demo", map[string]any{"Count": 2})) {
		t.Errorf("state %q", v.state.Text)
	}
}
