package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/settings"
)

// The desktop app resends and verifies the server's log through the
// same calls as the CLI (app.App.Resend and app.App.VerifyServer): a
// resend from the log view's details texts a new password through the
// server and records that it supersedes the old sealing, and resending
// the old one again is refused as `kuvert resend` refuses it; the
// central log verifies, and once the server swaps its key and its
// history the app says the central log is not intact, as
// `kuvert log verify --server` does (exit 6).
func TestLogViewResendsAndVerifiesServerThroughApp(t *testing.T) {
	// Seal with an SMS, as a clerk does.
	h, srv, fake := sealThroughRelay(t, "namn;belopp\nAnna;100\n")
	if fake.Posts() != 1 {
		t.Fatalf("twilio got %d; status %q", fake.Posts(), h.u.seal.status.Text)
	}

	// The log view: select the sealing, type the number again, resend.
	lv := h.u.logv
	h.u.SelectTab("log")
	lv.refresh()
	row := -1
	for i, r := range lv.entries {
		if r.Entry.Action == auditlog.ActionSeal {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("no sealing in the log view: %+v", lv.entries)
	}
	old := lv.entries[row].Entry
	lv.table.Select(widget.TableCellID{Row: row, Col: 0})
	if !lv.details.box.Visible() || !strings.Contains(lv.details.what.Text, old.Delivery.Ref) {
		t.Fatalf("details for the sealing: visible %v, %q", lv.details.box.Visible(), lv.details.what.Text)
	}
	// A wrong number is refused by the same rule as the CLI's, and
	// nothing is texted.
	test.Type(lv.details.phone, "0709876543")
	lv.details.dir.SetText(h.workDir)
	test.Tap(lv.details.send)
	lv.work.Wait()
	if !strings.Contains(lv.status.Text, "stämmer inte med loggens") || fake.Posts() != 1 {
		t.Fatalf("wrong number: %q, twilio got %d", lv.status.Text, fake.Posts())
	}
	lv.details.phone.SetText("070-123 45 67")
	test.Tap(lv.details.send)
	lv.work.Wait()
	if !strings.HasPrefix(lv.status.Text, "Förseglat igen") || fake.Posts() != 2 {
		t.Fatalf("resend: %q, twilio got %d", lv.status.Text, fake.Posts())
	}
	var newer string
	for _, s := range auditlog.Sealings(h.entries()) {
		if s.Entry.ID == old.ID {
			newer = s.SupersededBy
		}
	}
	if newer == "" {
		t.Fatalf("the log does not record that %s was superseded", old.ID)
	}
	// The old sealing again: the CLI's refusal, in the window's words.
	lv.details.show(&auditlog.Row{Entry: old})
	lv.details.phone.SetText("0701234567")
	test.Tap(lv.details.send)
	lv.work.Wait()
	if !strings.Contains(lv.status.Text, "redan ersatt") || fake.Posts() != 2 {
		t.Fatalf("resending the superseded sealing: %q, twilio got %d", lv.status.Text, fake.Posts())
	}

	// The central log verifies (a device token may not run the server's
	// full check; the signed head is checked and kept).
	h.u.shipInBackground(mustLog(t, h), h.u.config())
	h.u.shipWork.Wait()
	lv.refresh()
	if !lv.verifyServerBtn.Visible() {
		t.Fatal("no button to verify the central log with a server set")
	}
	test.Tap(lv.verifyServerBtn)
	lv.work.Wait()
	if !strings.HasPrefix(lv.status.Text, "✓ Centrala loggen är hel") || !strings.Contains(lv.status.Text, "registratorns token") {
		t.Fatalf("verify the central log: %q", lv.status.Text)
	}

	// The server rewrites its history under a key of its own.
	tok, _ := srv.Rewrite(t, cluster, auditlog.Entry{ID: "f-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)})
	h.keys.Set(keyringService, settings.ServerTokenKey, tok)
	test.Tap(lv.verifyServerBtn)
	lv.work.Wait()
	if !strings.HasPrefix(lv.status.Text, "✗ Centrala loggen är INTE hel") || !strings.Contains(lv.status.Text, "annan nyckel") || strings.Contains(lv.status.Text, "another key") {
		t.Fatalf("a server that swapped its key and its history: %q", lv.status.Text)
	}
}
