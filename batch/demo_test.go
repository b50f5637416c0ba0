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
	"github.com/kuvert-app/kuvert/sms"
)

// With the demo (console) provider nothing is reported as sent: not in
// the rows, the summary or report.csv, and not when the run is repeated.
func TestDemoIsNotSent(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 3, "file;phone;name;case", ";")
	m, _ := Load(p, LoadOptions{Format: crypt.FormatZip})
	var console bytes.Buffer
	out := filepath.Join(e.dir, "ut")
	for attempt := 1; attempt <= 2; attempt++ {
		sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: &sms.Console{W: &console}, Log: e.log, Jobs: 2})
		// A demo run delivered nothing: never success (exit 8).
		if !errors.Is(err, ErrPartial) || !strings.Contains(err.Error(), "DEMO") || sum.Delivered() {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		for _, r := range sum.Rows {
			if r.Result != ResultDemo || r.SMSStatus != string(sms.StatusDemo) {
				t.Fatalf("attempt %d, row %d: result %q, sms %q", attempt, r.Row, r.Result, r.SMSStatus)
			}
		}
		if sum.Demo != 3 || sum.Done != 0 || sum.AlreadyDone != 0 || sum.Skipped != 0 {
			t.Fatalf("attempt %d: %+v", attempt, sum)
		}
		report, _ := os.ReadFile(filepath.Join(out, "report.csv"))
		if bytes.Contains(report, []byte(";sent;")) || bytes.Contains(report, []byte(";"+ResultDone+";")) || bytes.Count(report, []byte(";"+ResultDemo+";")) != 3 {
			t.Fatalf("attempt %d: report:\n%s", attempt, report)
		}
	}
	if n := strings.Count(console.String(), "DEMO: inget sms skickades"); n != 3 {
		t.Fatalf("%d demo messages shown, want 3 (none again on the second run)", n)
	}
}
