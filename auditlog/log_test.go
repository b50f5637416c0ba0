package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Helper process for the crash and concurrency tests.
	if dir := os.Getenv("AUDITLOG_HELPER_DIR"); dir != "" {
		n, _ := strconv.Atoi(os.Getenv("AUDITLOG_HELPER_N"))
		l, err := Open(Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "helper"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := 0; n == 0 || i < n; i++ {
			if _, err := l.Append(sealEntry(i)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func sealEntry(i int) Entry {
	return Entry{
		Action: ActionSeal, Format: "zip-aes256",
		Archive:  &FileRef{Name: fmt.Sprintf("lönelista_%d.zip", i), Size: int64(1000 + i), SHA256: strings.Repeat("ab", 32)},
		Files:    []FileRef{{Name: "lönelista.xlsx", Size: 900, SHA256: strings.Repeat("cd", 32)}},
		Password: &PasswordRef{Origin: "generated", Bits: 99},
	}
}

func newLog(t testing.TB) (*Log, string) {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys"), Tool: "kuvert test"})
	if err != nil {
		t.Fatal(err)
	}
	return l, dir
}

func appendN(t testing.TB, l *Log, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(sealEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func readLines(t *testing.T, p string) [][]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func writeLines(t *testing.T, p string, lines [][]byte) {
	if err := os.WriteFile(p, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAppendAndVerify(t *testing.T) {
	l, dir := newLog(t)
	appendN(t, l, 20)
	res, err := l.Verify("")
	if err != nil {
		t.Fatal(err)
	}
	// One checkpoint per append, and the log's first (no entries) signed
	// when it was started.
	if res.Entries != 20 || res.Checkpoints != 21 || res.Root == "" {
		t.Fatalf("%+v", res)
	}
	// The signing key is private; the verifier key is not.
	fi, _ := os.Stat(filepath.Join(dir, "keys", signingKeyFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode %v", fi.Mode())
	}
	if !strings.HasPrefix(l.VerifierKey(), keyName+"+") {
		t.Fatalf("verifier key %q", l.VerifierKey())
	}
	es, _ := l.Entries()
	if len(es) != 20 || es[0].Seq != 1 || es[0].Operator == "" || es[0].Host == "" || es[0].Tool != "kuvert test" {
		t.Fatalf("entry 1: %+v", es[0])
	}
	if _, err := time.Parse(time.RFC3339, es[0].Time); err != nil {
		t.Fatalf("time %q: %v", es[0].Time, err)
	}
}

func TestTamperDetected(t *testing.T) {
	for _, c := range []struct {
		name     string
		tamper   func(t *testing.T, entries, checkpoints string)
		firstBad int64
	}{
		{"changed byte", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			lines[6] = bytes.Replace(lines[6], []byte(`"size":1006`), []byte(`"size":1007`), 1)
			writeLines(t, p, lines)
		}, 7},
		{"deleted line", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			writeLines(t, p, append(lines[:4:4], lines[5:]...))
		}, 5},
		{"deleted and renumbered", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			lines = append(lines[:4:4], lines[5:]...)
			for i := 4; i < len(lines); i++ {
				lines[i] = bytes.Replace(lines[i], []byte(fmt.Sprintf(`"seq":%d,`, i+2)), []byte(fmt.Sprintf(`"seq":%d,`, i+1)), 1)
			}
			writeLines(t, p, lines)
		}, 5},
		{"inserted line", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			writeLines(t, p, append(lines[:3:3], append([][]byte{lines[2]}, lines[3:]...)...))
		}, 4},
		{"reordered", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			lines[3], lines[4] = lines[4], lines[3]
			writeLines(t, p, lines)
		}, 4},
		{"truncated end", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			writeLines(t, p, lines[:18])
		}, 19},
		{"appended forgery", func(t *testing.T, p, _ string) {
			lines := readLines(t, p)
			forged := bytes.Replace(lines[19], []byte(`"seq":20,`), []byte(`"seq":21,`), 1)
			writeLines(t, p, append(lines, forged))
		}, 21},
		{"checkpoint signature", func(t *testing.T, _, cp string) {
			lines := readLines(t, cp)
			last := lines[len(lines)-1]
			i := bytes.LastIndex(last, []byte("— kuvert-log ")) + len("— kuvert-log ") + 10
			if last[i] == 'A' {
				last[i] = 'B'
			} else {
				last[i] = 'A'
			}
			writeLines(t, cp, lines)
		}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, _ := newLog(t)
			appendN(t, l, 20)
			c.tamper(t, filepath.Join(l.dir, entriesFile), filepath.Join(l.dir, checkpointsFile))
			res, err := l.Verify("")
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("err = %v, want ErrTampered", err)
			}
			if res.FirstBad != c.firstBad {
				t.Fatalf("first bad = %d, want %d (%s)", res.FirstBad, c.firstBad, res.Problem)
			}
			if c.firstBad > 0 && !strings.Contains(err.Error(), strconv.FormatInt(c.firstBad, 10)) {
				t.Fatalf("message does not name entry %d: %v", c.firstBad, err)
			}
		})
	}
}

// An auditor checks with the verifier key they kept: a log re-signed with
// another key (someone rewrote it wholesale) fails.
func TestVerifyWithAuditorKey(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 3)
	if _, err := l.Verify(l.VerifierKey()); err != nil {
		t.Fatal(err)
	}
	other, _ := newLog(t)
	if _, err := l.Verify(other.VerifierKey()); !errors.Is(err, ErrTampered) {
		t.Fatalf("foreign key: %v", err)
	}
	if _, err := l.Verify("not a key"); err == nil {
		t.Fatal("bad key accepted")
	}
}

func TestTornLineRepaired(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 3)
	f, _ := os.OpenFile(filepath.Join(l.dir, entriesFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":4,"id":"2026`)
	f.Close()
	res, err := l.Verify("")
	if err != nil || res.Warning == "" {
		t.Fatalf("torn line: %+v %v", res, err)
	}
	if _, err := l.Append(sealEntry(9)); err != nil {
		t.Fatal(err)
	}
	es, _ := l.Entries()
	if len(es) != 5 || es[3].Action != ActionRepair || !strings.Contains(es[3].Details, "incomplete last line") {
		t.Fatalf("entries after repair: %d, %+v", len(es), es[3])
	}
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
}

// An entry without a checkpoint is not what a crash leaves (checkpoints
// are signed before their entries are written): it is refused, never
// signed by a repair.
func TestUncheckpointedEntryIsTampering(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 3)
	cp := filepath.Join(l.dir, checkpointsFile)
	lines := readLines(t, cp)
	writeLines(t, cp, lines[:3]) // genesis + 2 of 3
	if _, err := l.Verify(""); !errors.Is(err, ErrTampered) {
		t.Fatalf("unsigned entry not reported: %v", err)
	}
	if _, err := l.Append(sealEntry(4)); !errors.Is(err, ErrTampered) {
		t.Fatalf("append over an unsigned entry: %v", err)
	}
	if got := readLines(t, cp); len(got) != 3 {
		t.Fatalf("checkpoints changed: %d lines", len(got))
	}
}

// The hash cache is derived data: damage to it is repaired from the
// entries, not trusted.
func TestHashCacheRebuilt(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 10)
	os.WriteFile(filepath.Join(l.dir, hashesFile), make([]byte, 100), 0o600)
	if _, err := l.Append(sealEntry(11)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
}

// Appends refuse to build on a log whose entries were removed.
func TestAppendRefusesTruncatedLog(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 5)
	p := filepath.Join(l.dir, entriesFile)
	writeLines(t, p, readLines(t, p)[:3])
	if _, err := l.Append(sealEntry(6)); !errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v", err)
	}
}

func helper(t *testing.T, dir string, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AUDITLOG_HELPER_DIR="+dir, "AUDITLOG_HELPER_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	return cmd
}

// A writer killed with SIGKILL at random moments leaves a log that the
// next append repairs and that then verifies.
func TestCrashMidWrite(t *testing.T) {
	dir := t.TempDir()
	for round := 0; round < 5; round++ {
		cmd := helper(t, dir, 0)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(150+round*37) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
	}
	l, err := Open(Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(sealEntry(0)); err != nil {
		t.Fatal(err)
	}
	res, err := l.Verify("")
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries < 6 {
		t.Fatalf("only %d entries", res.Entries)
	}
	t.Logf("%d entries after 5 kills", res.Entries)
}

// 8 processes × 200 appends: 1600 entries, none lost or interleaved.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := helper(t, dir, 200).Run(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l, _ := Open(Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys")})
	res, err := l.Verify("")
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 1600 {
		t.Fatalf("%d entries, want 1600", res.Entries)
	}
}

func TestPruneThenVerify(t *testing.T) {
	l, _ := newLog(t)
	old := time.Now().AddDate(0, 0, -120)
	l.now = func() time.Time { return old }
	appendN(t, l, 5)
	l.now = time.Now
	appendN(t, l, 3)
	n, err := l.Prune(time.Now().AddDate(0, 0, -90), "90d")
	if err != nil || n != 5 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	res, err := l.Verify("")
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != 9 || res.Pruned != 5 {
		t.Fatalf("%+v", res)
	}
	body, _ := os.ReadFile(filepath.Join(l.dir, entriesFile))
	if bytes.Count(body, []byte(`"action":"seal"`)) != 3 || bytes.Contains(body, []byte("lönelista_4.zip")) {
		t.Fatal("pruning removed the wrong bodies")
	}
	es, _ := l.Entries()
	// The record says how many in a code and values (the shells' words
	// for it: internal/catalog's TestDetails).
	if ev := es[8].Event; es[8].Action != ActionPrune || ev == nil || ev.Code != CodePruned || ev.Fields["count"] != "5" || es[8].Details != "" {
		t.Fatalf("%+v", es[8])
	}
	// Appends continue after pruning.
	appendN(t, l, 1)
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
	// Tampering with a kept hash is still caught.
	p := filepath.Join(l.dir, entriesFile)
	lines := readLines(t, p)
	lines[1] = bytes.Replace(lines[1], []byte(`"leaf":"`), []byte(`"leaf":"A`), 1)
	lines[1] = bytes.Replace(lines[1], []byte(`="}`), []byte(`}`), 1)
	writeLines(t, p, lines)
	if _, err := l.Verify(""); !errors.Is(err, ErrTampered) {
		t.Fatalf("tampered stub: %v", err)
	}
}

// Nothing sensitive reaches the files: personnummer in names and notes are
// masked; passwords and phone numbers are never fields.
func TestNoSecretsInFiles(t *testing.T) {
	l, _ := newLog(t)
	e := sealEntry(1)
	e.Archive.Name = "lönelista_19811218-9876.zip"
	e.Files[0].Name = "8112189876.xlsx"
	e.Note = "till 811218-9876"
	e.Case = "KS 2026/811218-9876"
	e.Delivery = &Delivery{Provider: "twilio", To: "+46 70-*** ** 67", MessageID: "SM1", Status: "sent"}
	if _, err := l.Append(e); err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(l.dir, "*"))
	for _, p := range entries {
		b, _ := os.ReadFile(p)
		for _, secret := range []string{"9876", "+46701234567", "0701234567"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s contains %q", filepath.Base(p), secret)
			}
		}
	}
}

// Processes opening a new log at the same moment (the desktop app and a
// batch job on first use) share one signing key and never read half of
// one.
func TestKeyCreatedOnceUnderContention(t *testing.T) {
	for round := 0; round < 20; round++ {
		dir := t.TempDir()
		type pair struct{ s, v string }
		got := make(chan pair, 16)
		errs := make(chan error, 16)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, v, err := loadOrCreateKey(dir)
				if err != nil {
					errs <- err
					return
				}
				got <- pair{s, v}
			}()
		}
		wg.Wait()
		close(got)
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		var first pair
		for p := range got {
			if first == (pair{}) {
				first = p
			}
			if p != first || p.s == "" || p.v == "" {
				t.Fatalf("round %d: keys differ or are empty: %q / %q", round, p.v, first.v)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, signingKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("private key: %v %v", fi, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, verifierKeyFile)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Fatalf("verifier key: %v %v", fi, err)
		}
	}
}
