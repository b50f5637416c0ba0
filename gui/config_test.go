package gui

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/config"
)

// TestUnreadableConfigIsNeverReplaced: a config.json that cannot be read
// is shown as an error, and Save refuses to write defaults over it (issue
// 12: the app used to overwrite it with an empty configuration).
func TestUnreadableConfigIsNeverReplaced(t *testing.T) {
	h := newHarness(t, nil)
	broken := []byte("{\"sms\": {\"provider\": \"twilio\", \"from\": \"+4676\"\n") // cut short by a crash
	if err := os.WriteFile(config.Path(h.home), broken, 0o600); err != nil {
		t.Fatal(err)
	}
	// A window opened on the broken file says so in Settings.
	u2, err := New(test.NewTempApp(t), test.NewTempWindow(t, widget.NewLabel("")), Deps{Home: h.home, Keyring: h.keys, OpenFolder: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	s := u2.settings
	want := strings.SplitN(lang.L("config.unreadable", map[string]any{"Path": config.Path(h.home), "Detail": ""}), "\n", 2)[0]
	if !strings.Contains(s.status.Text, want) || !strings.Contains(s.status.Text, config.Path(h.home)) {
		t.Fatalf("settings on a broken config.json show %q, want the error %q", s.status.Text, want)
	}
	// Save is refused and the file is left as it was, in both windows.
	for _, sv := range []*settingsView{s, h.u.settings} {
		sv.from.SetText("Kommunen")
		sv.save()
		if got, _ := os.ReadFile(config.Path(h.home)); !bytes.Equal(got, broken) {
			t.Fatalf("Save replaced the unreadable config.json with:\n%s", got)
		}
		if sv.status.Text == lang.L("settings.saved") || !strings.Contains(sv.status.Text, want) {
			t.Errorf("after a refused save the status reads %q", sv.status.Text)
		}
	}
	// Sealing does not quietly use defaults (the demo provider) instead.
	v := u2.seal
	f := h.file("a.txt", "x")
	u2.AddFiles([]string{f})
	v.work.Wait()
	test.Tap(v.primary)
	v.work.Wait()
	if !strings.Contains(v.status.Text, want) {
		t.Errorf("sealing with a broken config.json: status %q", v.status.Text)
	}
	if got := dirNames(t, h.workDir); len(got) != 1 {
		t.Errorf("sealed with a broken config.json: %v", got)
	}
}
