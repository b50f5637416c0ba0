package cli

import (
	"testing"

	"github.com/zalando/go-keyring"
)

// A scheduled job can keep the relay's password in the OS keyring instead
// of its environment; the environment wins when both are set.
func TestSMTPPasswordFromKeyring(t *testing.T) {
	keyring.MockInit()
	t.Setenv("KUVERT_SMTP_PASSWORD", "")
	if got := smtpPassword(); got != "" {
		t.Fatalf("no password anywhere: %q", got)
	}
	if err := keyring.Set("kuvert", "smtp-password", "från-nyckelringen"); err != nil {
		t.Fatal(err)
	}
	if got := smtpPassword(); got != "från-nyckelringen" {
		t.Fatalf("keyring: %q", got)
	}
	t.Setenv("KUVERT_SMTP_PASSWORD", "från-miljön")
	if got := smtpPassword(); got != "från-miljön" {
		t.Fatalf("environment: %q", got)
	}
}
