package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// breakLog makes the compliance log unwritable in a way that holds for
// root too: its folder is replaced by a plain file, so the lock file, the
// entries and the checkpoints can no longer be opened.
func breakLog(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// hookSender is the outbox provider with a hook after each send and
// before each lookup, where a test breaks the log mid-run.
type hookSender struct {
	*sms.Outbox
	mu         sync.Mutex
	sent       int
	afterSend  func(n int)
	beforeFind func()
}

func (h *hookSender) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	rc, err := h.Outbox.Send(ctx, m)
	h.mu.Lock()
	h.sent++
	n := h.sent
	h.mu.Unlock()
	if h.afterSend != nil {
		h.afterSend(n)
	}
	return rc, err
}

func (h *hookSender) FindRef(ctx context.Context, to, ref string) (sms.Receipt, bool, error) {
	if h.beforeFind != nil {
		h.beforeFind()
	}
	return h.Outbox.FindRef(ctx, to, ref)
}

func outboxLen(t *testing.T, path string) int {
	t.Helper()
	recs, err := sms.ReadOutbox(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// The log becomes unwritable after the second row's SMS went out: that
// row is reported failed (its SMS is not on record), the run stops with
// the log's error (exit 1, not "SMS failed"), no later row is sealed or
// texted, and the report says so.
func TestLogFailureStopsRun(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 5, "file;phone;name;case", ";")
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	outbox := filepath.Join(e.dir, "outbox.jsonl")
	logDir := filepath.Join(e.dir, "log")
	snd := &hookSender{Outbox: &sms.Outbox{Path: outbox}}
	snd.afterSend = func(n int) {
		if n == 2 {
			breakLog(t, logDir)
		}
	}
	out := filepath.Join(e.dir, "ut")
	sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: snd, Log: e.log, From: "Lönekontoret", Jobs: 1})
	if !errors.Is(err, auditlog.ErrUnavailable) || errors.Is(err, ErrRowsFailed) {
		t.Fatalf("err = %v, want the log's error", err)
	}
	if n := outboxLen(t, outbox); n != 2 {
		t.Fatalf("%d SMS, want 2 (rows 2 and 3, before the log broke)", n)
	}
	want := []string{ResultSent, ResultFailed, ResultPending, ResultPending, ResultPending}
	for i, r := range sum.Rows {
		if r.Result != want[i] {
			t.Errorf("row %d: result %q, want %q (%s)", r.Row, r.Result, want[i], r.Error)
		}
		if i >= 2 {
			if _, err := os.Stat(filepath.Join(out, m.Rows[i].Output)); !os.IsNotExist(err) {
				t.Errorf("row %d: an archive exists without a record", r.Row)
			}
		}
	}
	if sum.Failed != 1 || sum.Done != 1 {
		t.Fatalf("%+v", sum)
	}
	if _, err := os.Stat(filepath.Join(out, "report.csv")); err != nil {
		t.Fatal("no report after the log failed")
	}
}

// Resuming an interrupted row writes to the log before it acts on what it
// found: when that write fails, the row stops, is not reported done, its
// archive stays, and nothing is texted.
func TestLogFailureOnResume(t *testing.T) {
	for _, smsWentOut := range []bool{true, false} {
		t.Run(fmt.Sprintf("sms-went-out=%v", smsWentOut), func(t *testing.T) {
			e := newEnv(t)
			p := writeManifest(t, e.dir, 1, "file;phone;name;case", ";")
			m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
			outbox := filepath.Join(e.dir, "outbox.jsonl")
			logDir := filepath.Join(e.dir, "log")
			snd := &hookSender{Outbox: &sms.Outbox{Path: outbox}, beforeFind: func() { breakLog(t, logDir) }}
			out := filepath.Join(e.dir, "ut")
			os.MkdirAll(out, 0o700)
			r := m.Rows[0]
			arch := filepath.Join(out, r.Output)
			os.WriteFile(arch, []byte("sealed before the crash"), 0o600)
			e.log.Append(auditlog.Entry{Action: auditlog.ActionSeal, Batch: m.ID, Row: r.Num, Archive: &auditlog.FileRef{Name: r.Output, Size: 23},
				Delivery: &auditlog.Delivery{Provider: "outbox", To: sms.MaskNumber(r.Phone), Ref: "ref001", Status: "pending"}})
			if smsWentOut {
				snd.Outbox.Send(context.Background(), sms.Message{To: r.Phone, Body: "Lösenord från Lön, ref ref001: x"})
			}
			before := outboxLen(t, outbox)
			sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: snd, Log: e.log, From: "Lönekontoret", Jobs: 1})
			if !errors.Is(err, auditlog.ErrUnavailable) {
				t.Fatalf("err = %v, want the log's error", err)
			}
			if sum.Rows[0].Result != ResultFailed {
				t.Fatalf("%+v", sum.Rows[0])
			}
			if outboxLen(t, outbox) != before {
				t.Fatal("texted although the log cannot be written")
			}
			if _, err := os.Stat(arch); err != nil {
				t.Fatal("the archive was removed without a record of why")
			}
		})
	}
}
