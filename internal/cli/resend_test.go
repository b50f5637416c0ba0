package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/app"
)

// Every reason app gives for refusing a resend has its words here: one
// line Swedish first and English beside, a hint, exit code 2.
func TestResendRefusalWords(t *testing.T) {
	t.Parallel()
	for _, reason := range []app.Reason{app.NoSMS, app.Removed, app.Superseded, app.NumberMismatch, app.NumberTag,
		app.FilesUnlisted, app.NameNotLocal, app.NameMasked, app.SourceGone, app.SourceChanged, app.NoBatchRow, app.RefPruned, app.RefUnknown} {
		r := &app.Refusal{Reason: reason, Sealing: "20261203-aa", By: "20261203-bb", ByRef: "k7m2qa", Given: "070-12*** 67",
			Logged: "070-98*** 43", Name: "lista.csv", Path: "/in/lista.csv", Ref: "x9y8z7", Batch: "lön-2026-11", Row: 12}
		err := resendRefusal(r)
		if code := exitCode(err); code != ExitUsage {
			t.Errorf("%s: exit %d, want %d", reason, code, ExitUsage)
		}
		sv, en, ok := strings.Cut(err.Error(), " / ")
		if !ok || sv == "" || en == "" || strings.Contains(err.Error(), "%!") || strings.Contains(err.Error(), "resend refused") {
			t.Errorf("%s: %q is not a Swedish / English line", reason, err)
		}
		var he hintError
		if !errors.As(err, &he) || he.hint == "" {
			t.Errorf("%s: no hint", reason)
		}
	}
	err := resendRefusal(&app.Refusal{Reason: app.Superseded, Sealing: "20261203-aa", By: "20261203-bb", ByRef: "k7m2qa"})
	if want := "förseglingen 20261203-aa är redan ersatt av 20261203-bb / the sealing 20261203-aa was already superseded by 20261203-bb"; err.Error() != want {
		t.Errorf("superseded: %q, want %q", err, want)
	}
	if h := hints(err); len(h) != 1 || h[0] != "resend the newer sealing: kuvert resend k7m2qa --sms NUMBER" {
		t.Errorf("superseded hint %q", h)
	}
}
