package cli

import (
	"testing"
)

// A scheduled job can keep the relay's password in the OS keyring instead
// of its environment; the environment wins when both are set.
func TestSMTPPasswordFromKeyring(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	st, err := e.factory(&IOStreams{}).settings()
	if err != nil {
		t.Fatal(err)
	}
	if got := st.SMTPPassword(); got != "" {
		t.Fatalf("no password anywhere: %q", got)
	}
	e.keyring["kuvert/smtp-password"] = "från-nyckelringen"
	if got := st.SMTPPassword(); got != "från-nyckelringen" {
		t.Fatalf("keyring: %q", got)
	}
	e.env["KUVERT_SMTP_PASSWORD"] = "från-miljön"
	if got := st.SMTPPassword(); got != "från-miljön" {
		t.Fatalf("environment: %q", got)
	}
}
