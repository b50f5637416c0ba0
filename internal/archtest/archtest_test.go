// Package archtest holds the layering rules as tests: the arrows point
// down (shells over the core), and the core never imports a shell's
// framework. A folder convention alone would not stop the first import
// that breaks it.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/kuvert-app/kuvert/"

// deps lists every package pkg imports, directly or not.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	ds := strings.Fields(string(out))
	if len(ds) < 2 || ds[len(ds)-1] != mod+pkg {
		t.Fatalf("go list -deps %s listed %d packages", pkg, len(ds))
	}
	return ds
}

func TestLayers(t *testing.T) {
	for _, c := range []struct {
		pkg       string
		forbidden []string
	}{
		// The crypto core: no CLI, GUI, SMS provider, nor the log.
		{"crypt", []string{"github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", mod + "auditlog", mod + "sms", mod + "envelope", mod + "internal/cli", mod + "gui"}},
		{"auditlog", []string{"github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", mod + "crypt", mod + "sms", mod + "envelope"}},
		{"personnummer", []string{"github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", mod + "crypt"}},
		{"scan", []string{"github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", mod + "crypt"}},
		{"sms", []string{"github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", mod + "crypt", mod + "auditlog"}},
		{"envelope", []string{"github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui"}},
		{"batch", []string{"github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui"}},
		// The application layer sits between the shells and the core: no
		// shell's toolkit, no SMS provider's SDK nor the code that picks
		// one (the shells hand in the SMS policy), no database driver, no
		// shell.
		{"app", []string{"github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", "github.com/jackc", mod + "sms/providers", mod + "sms/twilio", mod + "internal/cli", mod + "gui", mod + "cmd"}},
		// Nothing below the application layer calls up into it.
		{"envelope", []string{mod + "app"}},
		{"batch", []string{mod + "app"}},
		{"auditlog", []string{mod + "app"}},
		{"server/client", []string{mod + "app"}},
		{"server/client/heads", []string{mod + "app"}},
		{"server/client/shipping", []string{mod + "app"}},
		{"settings", []string{mod + "app"}},
		// The desktop app's views test headless: the GL driver stays in
		// cmd/kuvert-gui, and the OS's file dialog (gui.Picker) stays in
		// gui/osdialog, which only cmd/kuvert-gui hands to the app: a
		// headless test must never open it.
		{"gui", []string{"fyne.io/fyne/v2/app", "github.com/go-gl", "github.com/spf13/cobra", mod + "internal/cli", "github.com/ncruces/zenity", mod + "gui/osdialog"}},
		{"gui/osdialog", []string{"fyne.io/fyne/v2/app", "github.com/go-gl", "github.com/spf13/cobra", mod + "internal/cli"}},
		{"internal/cli", []string{"fyne.io/fyne", mod + "gui"}},
		// The server is a shell too: no CLI or GUI framework; the wire
		// types are plain data; nothing but the server knows PostgreSQL.
		{"server", []string{"github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui"}},
		{"server/api", []string{"github.com/jackc", "github.com/twilio", mod + "sms", mod + "crypt", mod + "envelope"}},
		// The desktop's side of the server: HTTP and the local log only,
		// no database, no provider (SMS go through the server). The API
		// client knows neither its users (the queue, the seen heads, the
		// relay sender) nor where its settings come from (config).
		{"server/client", []string{"github.com/jackc", "github.com/twilio", "github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui", mod + "crypt", mod + "envelope", mod + "sms", mod + "config", mod + "server/client/clientenv", mod + "server/client/shipping", mod + "server/client/heads", mod + "settings"}},
		{"server/client/shipping", []string{"github.com/jackc", "github.com/twilio", "github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui", mod + "crypt", mod + "envelope", mod + "sms", mod + "config", mod + "server/client/clientenv", mod + "server/client/heads", mod + "settings"}},
		{"server/client/heads", []string{"github.com/jackc", "github.com/twilio", "github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui", mod + "crypt", mod + "envelope", mod + "sms", mod + "config", mod + "server/client/clientenv", mod + "server/client/shipping", mod + "settings"}},
		// The relay sender is an SMS provider beside sms/twilio: the API
		// client, never the shipping queue or the seen heads.
		{"sms/relay", []string{"github.com/jackc", "github.com/twilio", "github.com/spf13/cobra", "fyne.io/fyne", mod + "internal/cli", mod + "gui", mod + "config", mod + "server/client/shipping", mod + "server/client/heads", mod + "server/client/clientenv", mod + "settings"}},
		{"sms/providers", []string{"github.com/jackc", mod + "server/client/shipping", mod + "server/client/heads"}},
		// Settings are read, never written, and from what is handed in:
		// the keyring is the shell's, the words are the shells'.
		{"settings", []string{"github.com/zalando/go-keyring", "github.com/spf13/cobra", "fyne.io/fyne", "github.com/twilio", "github.com/jackc", mod + "sms", mod + "server", mod + "internal/cli", mod + "gui", mod + "crypt", mod + "auditlog"}},
		{"envelope", []string{"github.com/jackc"}},
		{"batch", []string{"github.com/jackc"}},
		{"auditlog", []string{"github.com/jackc"}},
		// Browser drivers are for tests: nothing shipped may carry them.
		{"cmd/kuvert", []string{"github.com/chromedp", mod + "internal/browsertest", mod + "server/pgtest", mod + "server/client/clienttest"}},
	} {
		t.Run(c.pkg, func(t *testing.T) {
			for _, d := range deps(t, c.pkg) {
				for _, f := range c.forbidden {
					if d == f || strings.HasPrefix(d, f+"/") {
						t.Errorf("%s imports %s", c.pkg, d)
					}
				}
			}
		})
	}
}

// fault is under every core package that returns a typed error, so it
// imports no kuvert package (and holds no words: see its doc).
func TestFaultIsALeaf(t *testing.T) {
	for _, d := range deps(t, "fault") {
		if strings.HasPrefix(d, mod) && d != mod+"fault" {
			t.Errorf("fault imports %s", d)
		}
	}
}

// Words belong to the shells: no core package reaches the two-language
// catalog (the CLI's and the server's) or the desktop app's.
func TestCoreHasNoCatalog(t *testing.T) {
	for _, pkg := range []string{"auditlog", "batch", "envelope", "crypt", "sms", "scan", "fault", "mailrelay", "app", "settings"} {
		for _, d := range deps(t, pkg) {
			if d == mod+"internal/catalog" || d == mod+"gui" || d == mod+"internal/cli" || d == mod+"server" {
				t.Errorf("%s imports %s", pkg, d)
			}
		}
	}
}
