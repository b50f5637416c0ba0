package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
	"golang.org/x/text/encoding/charmap"
)

func number(i int) string { return fmt.Sprintf("+4670%07d", 1000000+i) }

// writeManifest makes n payslips and a manifest for them.
func writeManifest(t testing.TB, dir string, n int, header string, sep string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("lönespec_%03d.pdf", i)
		os.WriteFile(filepath.Join(dir, name), bytes.Repeat([]byte{byte(i)}, 2000+i), 0o644)
		fmt.Fprintf(&b, "%s%s0%s%sAnställd %d%sKS 2026/%d\n", name, sep, number(i)[3:], sep, i, sep, i)
	}
	p := filepath.Join(dir, "lönekörning.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	return p
}

type env struct {
	dir  string
	fake *twiliotest.Server
	tw   *twilio.Sender
	log  *auditlog.Log
}

func newEnv(t *testing.T) *env {
	e := &env{dir: t.TempDir(), fake: twiliotest.NewServer()}
	t.Cleanup(e.fake.Close)
	var err error
	if e.tw, err = twilio.New(twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: twiliotest.AuthToken, From: twiliotest.From, BaseURL: e.fake.URL}); err != nil {
		t.Fatal(err)
	}
	if e.log, err = auditlog.Open(auditlog.Options{Dir: filepath.Join(e.dir, "log"), KeyDir: filepath.Join(e.dir, "keys")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) run(t *testing.T, m *Manifest) (*Summary, error) {
	return Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), Sender: e.tw, Log: e.log, From: "Lön", Jobs: 4})
}

// 50 rows with the loopback Twilio: 50 archives, each opening with exactly
// the password the fake received for that row's number; 100 log entries
// that verify; a report without passwords.
func TestFiftyRows(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 50, "file;phone;name;case", ";")
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || len(m.Rows) != 50 {
		t.Fatalf("%v %v", err, m.Problems)
	}
	sum, err := e.run(t, m)
	if err != nil || sum.Done != 50 {
		t.Fatalf("%v %+v", err, sum)
	}
	if len(e.fake.Messages()) != 50 {
		t.Fatalf("%d SMS", len(e.fake.Messages()))
	}
	var passwords []string
	for _, r := range sum.Rows {
		msg, ok := e.fake.LastTo(number(r.Row - 1))
		if !ok {
			t.Fatalf("row %d: no SMS", r.Row)
		}
		pw := msg.Body[strings.LastIndex(msg.Body, ": ")+2:]
		passwords = append(passwords, pw)
		if _, err := crypt.Verify(context.Background(), r.Archive, crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}); err != nil {
			t.Fatalf("row %d: %v", r.Row, err)
		}
	}
	res, err := e.log.Verify("")
	if err != nil || res.Entries != 100 {
		t.Fatalf("log: %+v %v", res, err)
	}
	report, _ := os.ReadFile(filepath.Join(e.dir, "ut", "report.csv"))
	for _, pw := range passwords {
		if bytes.Contains(report, []byte(pw)) {
			t.Fatal("password in report.csv")
		}
	}
	if !bytes.HasPrefix(report, []byte("\uFEFFrad;namn;mobil")) || bytes.Count(report, []byte(";sent;")) != 50 {
		t.Fatalf("report:\n%s", report)
	}

	// Running it again sends nothing and skips every row.
	sum, err = e.run(t, m)
	if err != nil || sum.AlreadyDone != 50 || len(e.fake.Messages()) != 50 {
		t.Fatalf("re-run: %v %+v, %d SMS", err, sum, len(e.fake.Messages()))
	}
}

func TestValidationListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pdf"), []byte("x"), 0o644)
	man := "fil;mobil;namn;avdelning\n" +
		"a.pdf;070-123 45 67;Åsa;x\n" +
		"saknas.pdf;070-123 45 68;Bo;x\n" +
		"a.pdf;08-123 456 78;Cia;x\n" +
		"a.pdf;;Dan;x\n"
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(man), 0o644)
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	if len(m.Problems) != 1 || m.Problems[0].Err.Error() != `batch.unknown-column{column="avdelning"}` {
		t.Fatalf("%v", m.Problems)
	}
	// With an e-mail column the addresses are checked too (see
	// TestMailAddressChecked); these are fine.
	os.WriteFile(p, []byte(strings.ReplaceAll(strings.ReplaceAll(man, ";avdelning", ";epost"), ";x\n", ";x@example.se\n")), 0o644)
	m, _ = Load(p, LoadOptions{Format: crypt.FormatZip})
	var got []string
	for _, pr := range m.Problems {
		got = append(got, fmt.Sprintf("row %d: %v", pr.Row, pr.Err))
	}
	// Machine text for the problems batch has codes for: the CLI's words
	// for them are asserted in internal/cli (TestCatalogKeepsBatchWords).
	want := []string{"row 3: batch.file-missing{file=saknas.pdf}", "row 4: \"08-123 456 78\" is a landline", "row 5: batch.row-no-mobile"}
	if len(got) != 3 {
		t.Fatalf("problems: %q", got)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d: %q, want %q…", i, got[i], w)
		}
	}
	if len(m.Rows) != 1 || m.Rows[0].Num != 2 {
		t.Fatalf("valid rows %+v", m.Rows)
	}
}

// Excel in Sweden saves "CSV (semikolonavgränsad)" in Windows-1252.
func TestWindows1252Manifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lönespec_åsa.pdf"), []byte("x"), 0o644)
	text := "Fil;Mobil;Namn;Diarienummer\r\nlönespec_åsa.pdf;070-123 45 67;Åsa Öberg;KS 2026/1\r\n"
	enc, _ := charmap.Windows1252.NewEncoder().String(text)
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(enc), 0o644)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || len(m.Rows) != 1 {
		t.Fatalf("%v %v", err, m.Problems)
	}
	r := m.Rows[0]
	if r.Name != "Åsa Öberg" || r.Case != "KS 2026/1" || r.Phone != "+46701234567" || filepath.Base(r.Files[0]) != "lönespec_åsa.pdf" || r.Output != "Åsa Öberg_rad2.zip" {
		t.Fatalf("%+v", r)
	}
}

func TestFailedSMSLeavesNoArchive(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 3, "file,phone,name,case", ",")
	e.fake.RefuseNumber(number(2), 21608)
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	sum, err := e.run(t, m)
	// Two rows delivered, one failed: a partial run (exit 8), not "all
	// failed" and never success.
	if !errors.Is(err, ErrPartial) || errors.Is(err, ErrRowsFailed) || sum.Failed != 1 || sum.Done != 2 || sum.Delivered() {
		t.Fatalf("%v %+v", err, sum)
	}
	for _, r := range sum.Rows {
		_, serr := os.Stat(r.Archive)
		if (r.Result == ResultFailed) != os.IsNotExist(serr) {
			t.Fatalf("row %d: result %s, archive exists: %v", r.Row, r.Result, serr == nil)
		}
	}
	// Fixed: the failed row is done on the next run, the others skipped.
	e.fake.RefuseNumber(number(2), 0)
	sum, err = e.run(t, m)
	if err != nil || sum.Done != 1 || sum.AlreadyDone != 2 || len(e.fake.Messages()) != 3 || !sum.Delivered() {
		t.Fatalf("%v %+v %d", err, sum, len(e.fake.Messages()))
	}
}

// interrupt leaves the first n rows of m as a run killed after sealing
// them leaves them: each archive in the output folder and its seal entry
// on record, with an SMS reference and no SMS entry. The first row's SMS
// reached the provider before the crash.
func (e *env) interrupt(m *Manifest, n int) {
	out := filepath.Join(e.dir, "ut")
	os.MkdirAll(out, 0o700)
	for i, r := range m.Rows[:n] {
		os.WriteFile(filepath.Join(out, r.Output), []byte("sealed before the crash"), 0o600)
		ref := fmt.Sprintf("ref00%d", i)
		e.log.Append(auditlog.Entry{Action: auditlog.ActionSeal, Batch: m.ID, Row: r.Num, Case: r.Case, Archive: &auditlog.FileRef{Name: r.Output, Size: 23},
			Delivery: &auditlog.Delivery{Provider: "twilio", To: sms.MaskNumber(r.Phone), Ref: ref, Status: "pending"}})
		if i == 0 {
			e.tw.Send(context.Background(), sms.Message{To: r.Phone, Body: "Lösenord från Lön, ref " + ref + ": x"})
		}
	}
}

// A row interrupted after sealing: if its SMS reached the provider it is
// not sent again; if not, it is sealed again with a new password.
func TestInterruptedRows(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 2, "file;phone;name;case", ";")
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	e.interrupt(m, 2)
	sum, err := e.run(t, m)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows[0].Result != ResultDone || sum.Rows[1].Result != ResultSent {
		t.Fatalf("%+v", sum.Rows)
	}
	if n := len(e.fake.Messages()); n != 2 {
		t.Fatalf("%d SMS, want 2 (one before the crash, one for the unsent row)", n)
	}
	if _, err := e.log.Verify(""); err != nil {
		t.Fatal(err)
	}
}

func TestNoSMSPasswordFile(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 3, "file;name", ";")
	m, _ := Load(p, LoadOptions{NoSMS: true, Format: crypt.FormatZip})
	if len(m.Problems) > 0 {
		t.Fatal(m.Problems)
	}
	pwFile := filepath.Join(e.dir, "lösen.csv")
	sum, err := Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), NoSMS: true, PasswordOut: pwFile, Log: e.log})
	if err != nil || sum.Done != 3 {
		t.Fatalf("%v %+v", err, sum)
	}
	st, _ := os.Stat(pwFile)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	b, _ := os.ReadFile(pwFile)
	lines := strings.Split(strings.TrimSpace(string(b)), "\r\n")
	if len(lines) != 4 {
		t.Fatalf("%q", lines)
	}
	for _, l := range lines[1:] {
		f := strings.Split(l, ";")
		if _, err := crypt.Verify(context.Background(), filepath.Join(e.dir, "ut", f[2]), crypt.OpenOptions{Credentials: crypt.Credentials{Password: f[3]}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.fake.Messages()) != 0 {
		t.Fatal("SMS sent with --no-sms")
	}
}

// Rows that mail and text mostly wait, so more run side by side; age
// passphrase rows need scrypt's memory, so one per core.
func TestDefaultJobs(t *testing.T) {
	n := runtime.NumCPU()
	zip := &Manifest{Rows: []Row{{Format: crypt.FormatZip}}}
	if got := DefaultJobs(zip, true); got != 16 {
		t.Errorf("delivering zip rows: %d", got)
	}
	if got := DefaultJobs(zip, false); got != n {
		t.Errorf("password file only: %d", got)
	}
	age := &Manifest{Rows: []Row{{Format: crypt.FormatZip}, {Format: crypt.FormatAge}}}
	if got := DefaultJobs(age, true); got != n {
		t.Errorf("an age passphrase row: %d", got)
	}
}

// A format the list names that is neither zip nor age is the row's
// problem, as a fault the shells word, with the value as written.
func TestUnknownFormatIsARowProblem(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pdf"), []byte("x"), 0o644)
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte("fil;mobil;format\na.pdf;070-123 45 67;7z\na.pdf;070-123 45 68;AGE\n"), 0o644)
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Problems) != 1 || m.Problems[0].Row != 2 || !isFault(m.Problems[0].Err, CodeRowFormat) {
		t.Fatalf("problems %+v", m.Problems)
	}
	if f, _ := fault.As(m.Problems[0].Err); f.Field("format") != `"7z"` {
		t.Fatalf("format field %q", f.Field("format"))
	}
	if len(m.Rows) != 1 || m.Rows[0].Format != crypt.FormatAge {
		t.Fatalf("rows %+v", m.Rows)
	}
}
