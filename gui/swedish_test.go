package gui

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"golang.org/x/text/encoding/charmap"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/server/client/shipping"
	"github.com/kuvert-app/kuvert/settings"
)

// english finds words a Swedish window must not show: English prose and
// the raw words of Go's network and keyring errors.
var english = regexp.MustCompile(`(?i)\b(the|not|could|cannot|missing|unreadable|invalid|error|failed|refused|connection|dial|tcp|queued|exec|executable|dbus-launch|is|are|was|and|row|file|no)\b`)

// ownWords are kuvert's own names a Swedish text may quote: the list's
// column names, its run's files, a template's fields.
var ownWords = regexp.MustCompile(`\(kända: [^)]*\)|\(fil eller file\)|\(mobil eller phone\)|recipient:|report\.csv|state\.json|"CSV UTF-8"|\{\{[^}]*\}\}`)

// noEnglish fails when a text shown in the Swedish window has English in
// it.
func noEnglish(t *testing.T, where, text string) {
	t.Helper()
	if text == "" {
		t.Errorf("%s: nothing shown", where)
	}
	if w := english.FindAllString(ownWords.ReplaceAllString(text, ""), -1); len(w) > 0 {
		t.Errorf("%s: English %q in %q", where, w, text)
	}
}

// brokenKeyring is a keyring whose every call fails as go-keyring does
// on a Linux desktop without a D-Bus session.
type brokenKeyring struct{}

var errNoDBus = errors.New(`exec: "dbus-launch": executable file not found in $PATH`)

func (brokenKeyring) Get(string, string) (string, error) { return "", errNoDBus }
func (brokenKeyring) Set(string, string, string) error   { return errNoDBus }
func (brokenKeyring) Delete(string, string) error        { return errNoDBus }

// A clerk with the app in Swedish meets Swedish only on its error paths:
// a list full of problems (each bad row with its cells, the counts in the
// right singular or plural), the kuvert server down while an SMS is sent
// (and no "check the number", which was fine), and a keyring that cannot
// be used.
func TestSwedishOnErrorPaths(t *testing.T) {
	t.Run("batch list", func(t *testing.T) {
		h := newHarness(t, &config.Config{AppLanguage: "sv", SMS: config.SMS{Provider: "outbox:" + t.TempDir() + "/sms.jsonl", Sender: "Lönekontoret"}})
		h.u.SelectTab("batch")
		v := h.u.batch
		p := writeManifest(t, h.workDir, "fil;mobil;namn;epost;output", []string{
			"saknas.pdf;070-123 45 68;Bo;;",
			"anna.pdf;;Cecilia;;",
			"anna.pdf;070-12;Dora;;",
			"anna.pdf;070-123 45 69;Erik;inte en adress;",
			"anna.pdf;070-123 45 70;Frida;19121212-1212@exempelby.se;",
			"anna.pdf;070-123 45 71;Gustav;;report.csv",
			"anna.pdf;070-123 45 72;Hanna;;ut.zip",
			"anna.pdf;070-123 45 73;Ivar;;ut.zip",
		}, "anna.pdf")
		v.LoadManifest(p)
		table := batchTable(v)
		for r := 0; r < len(v.lines); r++ {
			if p := v.cell(r, batchColumns-1); p != "" {
				noEnglish(t, "problem", p)
			}
		}
		for _, want := range []string{"Bo\tsaknas.pdf\t+46 70-*** ** 68", "Cecilia\tanna.pdf", "Dora\tanna.pdf\t070-12\t", "inte giltig", "personnummer", "används också på rad"} {
			if !strings.Contains(table, want) {
				t.Errorf("the table lacks %q:\n%s", want, table)
			}
		}
		noEnglish(t, "summary", v.summary.Text)
		if !strings.Contains(v.summary.Text, "1 rad är giltig.") || strings.Contains(v.summary.Text, "1 rader") {
			t.Errorf("summary %q", v.summary.Text)
		}
		// A header it does not know, in Swedish too.
		v.LoadManifest(writeManifest(t, h.workDir, "fil;mobil;färg", []string{"anna.pdf;070-123 45 67;röd"}, "anna.pdf"))
		if table := batchTable(v); !strings.Contains(table, `okänd kolumn "färg"`) {
			t.Errorf("unknown column:\n%s", table)
		}
		for r := range v.lines {
			noEnglish(t, "header problem", v.cell(r, batchColumns-1))
		}
		noEnglish(t, "header summary", v.summary.Text)
		// A row the CSV reader stumbles on: its reason in Swedish.
		v.LoadManifest(writeManifest(t, h.workDir, "fil;mobil;namn", []string{"anna.pdf;070-123 45 67;Jo\"han"}, "anna.pdf"))
		if table := batchTable(v); !strings.Contains(table, `citattecken (") mitt i ett fält`) {
			t.Errorf("bad CSV:\n%s", table)
		}
		for r := range v.lines {
			noEnglish(t, "CSV problem", v.cell(r, batchColumns-1))
		}
		// A format neither zip nor age: crypt's English reason is not shown.
		v.LoadManifest(writeManifest(t, h.workDir, "fil;mobil;format", []string{"anna.pdf;070-123 45 67;7z"}, "anna.pdf"))
		if table := batchTable(v); !strings.Contains(table, `okänt format "7z"`) {
			t.Errorf("unknown format:\n%s", table)
		}
		for r := range v.lines {
			noEnglish(t, "format problem", v.cell(r, batchColumns-1))
		}
		// A list saved on a Mac: the reason alone, not the core's
		// "invalid input: …" around it.
		mac, _ := charmap.Macintosh.NewEncoder().String("fil;mobil;namn\nanna.pdf;070-123 45 67;Örjan Ärlig\n")
		bad := filepath.Join(h.workDir, "mac.csv")
		if err := os.WriteFile(bad, []byte(mac), 0o644); err != nil {
			t.Fatal(err)
		}
		v.LoadManifest(bad)
		noEnglish(t, "encoding", v.summary.Text)
		if !strings.Contains(v.summary.Text, "kanske sparad på en Mac") {
			t.Errorf("encoding: %q", v.summary.Text)
		}
		// A long problem gets a row tall enough to be read whole.
		one := wrappedHeight("x", batchColumnWidths[batchColumns-1])
		for r := range v.lines {
			if text := v.cell(r, batchColumns-1); len(text) > 120 {
				if h := wrappedHeight(text, batchColumnWidths[batchColumns-1]); h <= one {
					t.Errorf("%q fits in one line of %v", text, batchColumnWidths[batchColumns-1])
				}
			}
		}
	})

	t.Run("server down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing answers there now
		h := newHarness(t, &config.Config{AppLanguage: "sv", Organisation: "Sundsvalls kommun", ServerURL: "http://" + addr})
		h.keys.Set(keyringService, settings.ServerTokenKey, "kvt_enhet")
		v := h.u.seal
		h.drop(h.file("lista.txt", "x"))
		test.Type(v.phone, "070 123 45 67")
		test.Tap(v.primary)
		v.work.Wait()
		h.u.shipWork.Wait()
		noEnglish(t, "status", v.status.Text)
		if !strings.Contains(v.status.Text, lang.L("sms.reason.unreachable")) || strings.Contains(v.status.Text, "Kontrollera numret") {
			t.Errorf("status %q", v.status.Text)
		}
	})

	// A server is set but this computer has no token (it was never
	// enrolled): the Seal view says so in Swedish, without the CLI's
	// environment variables or the English beside it.
	t.Run("server without token", func(t *testing.T) {
		h := newHarness(t, &config.Config{AppLanguage: "sv", Organisation: "Sundsvalls kommun", ServerURL: "https://kuvert.exempelby.se"})
		v := h.u.seal
		h.drop(h.file("lista.txt", "x"))
		test.Type(v.phone, "070 123 45 67")
		test.Tap(v.primary)
		v.work.Wait()
		h.u.shipWork.Wait()
		noEnglish(t, "status", v.status.Text)
		if !strings.Contains(v.status.Text, lang.L("fault.client.no-token")) || strings.Contains(v.status.Text, "KUVERT_") {
			t.Errorf("status %q", v.status.Text)
		}
	})

	// Each of the server client's faults, as the window words it: Swedish
	// only, the fields filled, never the token or the code.
	t.Run("server faults", func(t *testing.T) {
		newHarness(t, &config.Config{AppLanguage: "sv"})
		for _, tc := range []struct {
			err  error
			want string
		}{
			{client.ErrNoToken, "ingen token"},
			// Excel holds the workbook (crypt.LockedFile's error, as on Windows).
			{fmt.Errorf("seal: %w", &crypt.LockedError{Path: `C:\Users\asa\Lönelista december.xlsx`, Err: errors.New("The process cannot access the file because it is being used by another process.")}), `C:\Users\asa\Lönelista december.xlsx är öppen i ett annat program (t.ex. Excel). Stäng filen där`},
			{clientenv.ErrNoEnrollment, "inte registrerad"},
			{shipping.ErrBusy, "skickar redan loggen"},
			{fmt.Errorf("%w: it has 2 entries, but it had 3 when this computer last checked: it was cut back", client.ErrTampered), "Centralloggen"},
			{fault.New(client.CodeEnrollUsedUp, "server", "kuvert.exempelby.se").Also(client.ErrEnrollUsedUp, client.ErrEnrollRefused), "förbrukad"},
			{fault.New(client.CodeEnrollUnknown, "server", "kuvert.exempelby.se").Also(client.ErrEnrollUnknown, client.ErrEnrollRefused), "kuvert.exempelby.se känner inte igen"},
			{fault.New(client.CodeURLPlainHTTP, "url", `"http://kuvert.exempelby.se"`), `"http://kuvert.exempelby.se" använder http`},
			{fault.New(clientenv.CodeTokenNotKept, "name", "ekonomi-pc-0142").Wrap(errNoDBus), "återkalla ekonomi-pc-0142"},
			{fault.New(clientenv.CodeEnrollKeyring).Wrap(errNoDBus), "sparades till senare"},
			// The central log's check: the server's own words stay out.
			{fault.New(app.CodeServerCheckFailed, "entry", "7", "problem", "hash mismatch").Also(client.ErrTampered), "vid post 7"},
			{fault.New(app.CodeServerKeySwapped, "key", "kuvert+1234abcd").Also(client.ErrTampered), "annan nyckel"},
			// A call to the server that failed outside an SMS.
			{&client.Error{Op: "head", Server: "kuvert.exempelby.se", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}}, "svarar inte"},
			{&client.Error{Op: "verify", Server: "kuvert.exempelby.se", Status: 401}, "godtog inte"},
			{&client.Error{Op: "verify", Server: "kuvert.exempelby.se", Status: 418, Message: "the server is a teapot"}, "HTTP 418"},
		} {
			got := friendly(tc.err)
			noEnglish(t, tc.err.Error(), got)
			if !strings.Contains(got, tc.want) || strings.Contains(got, "dbus") || strings.Contains(got, "mismatch") || strings.Contains(got, "teapot") {
				t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
			}
		}
	})

	// The central log's verdict names what does not hold in Swedish.
	t.Run("central log verdict", func(t *testing.T) {
		newHarness(t, &config.Config{AppLanguage: "sv"})
		err := fault.New(app.CodeServerKeyDiffers, "key", "kuvert+1234abcd").Also(client.ErrTampered)
		got := serverVerdict(nil, err)
		noEnglish(t, "verdict", got)
		if !strings.HasPrefix(got, "✗ Centrala loggen är INTE hel") || !strings.Contains(got, "kuvert+1234abcd") {
			t.Errorf("verdict %q", got)
		}
	})

	t.Run("keyring", func(t *testing.T) {
		h := newHarness(t, &config.Config{AppLanguage: "sv", Organisation: "Sundsvalls kommun"})
		v := h.u.settings
		v.u.deps.Keyring = brokenKeyring{}
		v.serverURL.SetText("https://kuvert.exempelby.se")
		test.Type(v.serverToken, "kvt_hemlig-token")
		v.save()
		noEnglish(t, "save", v.status.Text)
		if v.status.Text != lang.L("err.keyring") {
			t.Errorf("save: %q", v.status.Text)
		}
		v.removeServerToken()
		if v.status.Text != lang.L("err.keyring") {
			t.Errorf("remove: %q", v.status.Text)
		}
	})

	t.Run("reasons", func(t *testing.T) {
		h := newHarness(t, &config.Config{AppLanguage: "sv"})
		_ = h
		sv := loadTranslations(t, "sv.json")
		for k, s := range sv {
			if strings.HasPrefix(k, "sms.reason.") || strings.HasPrefix(k, "fault.batch.") || strings.HasPrefix(k, "fault.client.") || strings.HasPrefix(k, "fault.clientenv.") || strings.HasPrefix(k, "fault.shipping.") || k == "err.keyring" || strings.HasPrefix(k, "batch.") {
				if w := english.FindAllString(ownWords.ReplaceAllString(s, ""), -1); len(w) > 0 {
					t.Errorf("sv.json %s: English %q in %q", k, w, s)
				}
			}
		}
	})
}
