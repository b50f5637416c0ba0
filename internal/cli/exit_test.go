package cli

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
)

// docCodes is every exit code docs/exit-codes.md has a row for.
func docCodes(t *testing.T) []int {
	t.Helper()
	b, err := os.ReadFile("../../docs/exit-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, m := range regexp.MustCompile(`(?m)^\| ([0-9, ]+) \|`).FindAllStringSubmatch(string(b), -1) {
		for _, f := range strings.Split(m[1], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				t.Fatalf("docs/exit-codes.md: row %q", m[0])
			}
			codes = append(codes, n)
		}
	}
	return codes
}

// The exit-code table, `kuvert --help` and docs/exit-codes.md name the
// same codes: each code the table gives is documented in both, and each
// documented code below 128 is one kuvert gives.
func TestExitTableMatchesDoc(t *testing.T) {
	doc := docCodes(t)
	given := []int{ExitOK, ExitFailure, ExitUsage} // success, the default, usageError
	for _, r := range exitTable {
		if r.code != 0 {
			given = append(given, r.code)
		}
		if r.code == 0 && r.hint == "" && r.hintFor == nil {
			t.Errorf("the rule for %v has neither a code nor a hint", r.err)
		}
	}
	for _, c := range given {
		if !slices.Contains(doc, c) {
			t.Errorf("exit code %d is given but not in docs/exit-codes.md", c)
		}
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^  %d  `, c)).MatchString(rootLong) {
			t.Errorf("exit code %d is given but not in kuvert --help", c)
		}
	}
	for _, c := range doc {
		if c < 128 && !slices.Contains(given, c) {
			t.Errorf("docs/exit-codes.md documents %d, which no rule gives", c)
		}
	}
	if len(doc) < 12 {
		t.Errorf("docs/exit-codes.md: only %d codes read: %v", len(doc), doc)
	}
}

// One table gives both the code and the hint; where an error matches
// several rules, the code and the hint each come from the first rule that
// has one.
func TestExitTableFirstMatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code int
		hint string
	}{
		{"wrong password", fmt.Errorf("open: %w", crypt.ErrWrongPassword), ExitWrongSecret, "check the password"},
		{"exists is 1 with a hint", crypt.ErrExists, ExitFailure, "use --force"},
		{"exists and input", fmt.Errorf("%w: %w", crypt.ErrInput, crypt.ErrExists), ExitUsage, "use --force"},
		{"sms, log tampered", fmt.Errorf("%w: x (and the log could not record it: %w)", envelope.ErrSMS, auditlog.ErrTampered), ExitLogInvalid, "see docs/sms.md"},
		{"sms, log unavailable", fmt.Errorf("%w: x (and the log could not record it: %w)", envelope.ErrSMS, auditlog.ErrUnavailable), ExitSMS, "see docs/sms.md"},
		{"tampered", auditlog.ErrTampered, ExitLogInvalid, "run 'kuvert log verify'"},
		{"tampered, coded", codeError{auditlog.ErrTampered, ExitLogInvalid}, ExitLogInvalid, ""},
		{"batch not ours", fmt.Errorf("%w: %w: x", crypt.ErrInput, batch.ErrNotOurs), ExitUsage, "kuvert batch ersätter aldrig"},
		{"batch rows failed", fmt.Errorf("%w: 2 of 2 rows failed", batch.ErrRowsFailed), ExitSMS, ""},
		{"batch partial", fmt.Errorf("%w: 1 of 2", batch.ErrPartial), ExitPartial, ""},
		{"plain", errors.New("x"), ExitFailure, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.code {
				t.Errorf("exit %d, want %d", got, tc.code)
			}
			h := hints(tc.err)
			switch {
			case tc.hint == "" && len(h) > 0:
				t.Errorf("hints %q, want none", h)
			case tc.hint != "" && (len(h) != 1 || !strings.HasPrefix(h[0], tc.hint)):
				t.Errorf("hints %q, want one starting %q", h, tc.hint)
			}
		})
	}
}
