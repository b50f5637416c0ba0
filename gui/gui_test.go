package gui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/zalando/go-keyring"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio/twiliotest"
)

// A valid personnummer (Skatteverket's published test number).
const testPnr = "19121212-1212"

type memKeyring struct {
	mu sync.Mutex
	m  map[string]string
}

func (k *memKeyring) Get(s, u string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[s+"/"+u]
	if !ok {
		return "", keyring.ErrNotFound // as go-keyring says it
	}
	return v, nil
}

func (k *memKeyring) Set(s, u, p string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[s+"/"+u] = p
	return nil
}

func (k *memKeyring) Delete(s, u string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, s+"/"+u)
	return nil
}

// lockedClipboard is safe for the timer goroutine that clears it.
type lockedClipboard struct {
	mu sync.Mutex
	s  string
}

func (c *lockedClipboard) Content() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s
}

func (c *lockedClipboard) SetContent(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.s = s
}

type harness struct {
	t       *testing.T
	u       *UI
	w       fyne.Window
	home    string
	keys    *memKeyring
	mu      sync.Mutex
	opened  []string // folders the app asked the OS to show
	workDir string
	clip    *lockedClipboard
	env     map[string]string // the app's environment (Deps.Getenv)
}

// setenv sets a variable in the app's environment, as KUVERT_… would be
// set before starting it.
func (h *harness) setenv(k, v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.env[k] = v
}

func (h *harness) getenv(k string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.env[k]
}

// newHarness starts the app headless with its own folder, an in-memory
// keyring and an environment of its own (empty until h.setenv).
func newHarness(t *testing.T, cfg *config.Config) *harness {
	t.Helper()
	return newHarnessAt(t, tempDir(t), cfg)
}

// newHarnessAt is newHarness with kuvert's state folder at home.
func newHarnessAt(t *testing.T, home string, cfg *config.Config) *harness {
	t.Helper()
	h := &harness{t: t, home: home, keys: &memKeyring{m: map[string]string{}}, workDir: tempDir(t), clip: &lockedClipboard{}, env: map[string]string{}}
	if cfg != nil {
		if err := config.Save(h.home, cfg); err != nil {
			t.Fatal(err)
		}
	}
	a := test.NewTempApp(t)
	h.w = test.NewTempWindow(t, widget.NewLabel(""))
	h.w.Resize(fyne.NewSize(860, 720))
	u, err := New(a, h.w, Deps{Home: h.home, Keyring: h.keys, Getenv: h.getenv, Clipboard: h.clip, OpenFolder: func(d string) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.opened = append(h.opened, d)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	h.u = u
	// A test that ends with work still running in the background (a
	// draft handed to the mail program, a log shipping) would have that
	// work touch widgets while the next test builds its own: the test
	// driver runs fyne.Do on the worker. Each test ends when its app is
	// quiet.
	t.Cleanup(u.waitIdle)
	return h
}

func (h *harness) file(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.workDir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) drop(paths ...string) {
	var uris []fyne.URI
	for _, p := range paths {
		uris = append(uris, storage.NewFileURI(p))
	}
	h.u.OnDropped(fyne.NewPos(10, 10), uris)
	// The guard scans in the background and reports through fyne.Do,
	// which the real driver runs on the UI thread but the test driver
	// runs on the worker: wait, so the test thread is the only one.
	h.u.seal.work.Wait()
}

// waitFor polls; background work reports through fyne.Do, which the
// test driver runs at once on the worker goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) files() []fileItem {
	h.u.seal.mu.Lock()
	defer h.u.seal.mu.Unlock()
	return slices.Clone(h.u.seal.form.Files)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func (h *harness) entries() []auditlog.Entry {
	h.t.Helper()
	l, err := h.u.openLog()
	if err != nil {
		h.t.Fatal(err)
	}
	es, err := l.Entries()
	if err != nil {
		h.t.Fatal(err)
	}
	return es
}

func TestDropFillsListAndFlagsPersonnummer(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	if !v.primary.Disabled() {
		t.Fatal("the primary button is enabled with no files")
	}
	if !v.dropHint.Visible() {
		t.Fatal("the drop hint is hidden on an empty list")
	}
	list := h.file("lista.csv", "namn;personnummer\nAnna;"+testPnr+"\n")
	plain := h.file("mapp/protokoll.txt", "inget känsligt här, bara 2024-05-01 och 070-123 45 67\n")
	h.file("mapp/under/bilaga.txt", "x")
	h.drop(list, filepath.Dir(plain))

	fs := h.files()
	var names []string
	for _, f := range fs {
		names = append(names, filepath.Base(f.path))
	}
	sort.Strings(names)
	if want := []string{"bilaga.txt", "lista.csv", "protokoll.txt"}; !slices.Equal(names, want) {
		t.Fatalf("list after drop: %v, want %v (a folder adds its files)", names, want)
	}
	if v.primary.Disabled() || v.dropHint.Visible() {
		t.Fatal("with files in the list the button should be enabled and the hint hidden")
	}
	for _, f := range h.files() {
		want := 0
		if filepath.Base(f.path) == "lista.csv" {
			want = 1
		}
		if f.pnr != want {
			t.Errorf("%s flagged with %d personnummer, want %d", f.path, f.pnr, want)
		}
	}
	// Rendered: exactly one visible warning badge, and the size shown.
	v.list.Refresh()
	warn, sizes, counts := 0, 0, 0
	for _, o := range test.LaidOutObjects(h.w.Content()) {
		if ic, ok := o.(*widget.Icon); ok && ic.Visible() && ic.Resource != nil && ic.Resource.Name() == theme.WarningIcon().Name() {
			warn++
		}
		if l, ok := o.(*widget.Label); ok && strings.HasPrefix(l.Text, "lista.csv  (") {
			sizes++
		}
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.Text == lang.L("seal.pnr", map[string]any{"Count": 1}) {
			counts++
		}
	}
	if warn != 1 || sizes != 1 || counts != 1 {
		t.Errorf("rendered %d warning badges, %d counts and %d lista.csv rows, want 1 each", warn, counts, sizes)
	}

	// Dropping the same file again adds nothing; removing empties.
	h.drop(list)
	if n := len(h.files()); n != 3 {
		t.Fatalf("a second drop of the same file gave %d rows", n)
	}
	for len(h.files()) > 0 {
		v.removeFile(0)
	}
	if !v.primary.Disabled() {
		t.Fatal("the button stays enabled after every file was removed")
	}
	// A missing file is refused with a message, not a crash.
	h.drop(filepath.Join(h.workDir, "finns-inte.csv"))
	if len(h.files()) != 0 || v.status.Text == "" {
		t.Fatalf("dropping a missing file: %d rows, status %q", len(h.files()), v.status.Text)
	}
}

func TestPhoneNumberValidatedAsTyped(t *testing.T) {
	// A provider that sends (the demo one says it does not: TestDemoProviderNamedAsDemo).
	h := newHarness(t, &config.Config{SMS: config.SMS{Provider: "outbox:" + filepath.Join(tempDir(t), "sms.jsonl")}})
	v := h.u.seal
	h.drop(h.file("a.txt", "hej"))
	if v.primary.Text != lang.L("seal.button.seal") {
		t.Fatalf("button %q without a number", v.primary.Text)
	}
	cases := []struct {
		typed   string
		ok      bool
		showing string
	}{
		{"08-123 456 78", false, "+46 8 123 456 78"},
		{"020-123 456", false, "⚠"},
		{"hej", false, lang.L("phone.unreadable")},
		{"070-123 45 67", true, "+46701234567"},
		{"0046 70 123 45 67", true, "+46701234567"},
	}
	for _, c := range cases {
		v.phone.SetText("")
		h.w.Canvas().Focus(v.phone)
		test.Type(v.phone, c.typed)
		if v.phone.Text != c.typed {
			t.Fatalf("typed %q, entry holds %q", c.typed, v.phone.Text)
		}
		if got := v.primary.Text; got != lang.L("seal.button.send") {
			t.Errorf("%q: button %q, want %q", c.typed, got, lang.L("seal.button.send"))
		}
		if v.primary.Disabled() == c.ok {
			t.Errorf("%q: button disabled=%v", c.typed, v.primary.Disabled())
		}
		if !strings.Contains(v.phoneInfo.Text, c.showing) || strings.HasPrefix(v.phoneInfo.Text, "⚠") == c.ok {
			t.Errorf("%q: shows %q, want it to contain %q", c.typed, v.phoneInfo.Text, c.showing)
		}
	}
	// A weak own password disables the button too.
	v.pwMode.SetSelected(lang.L("seal.password.own"))
	test.Type(v.ownPw, "sommar2024")
	if !v.primary.Disabled() || !strings.Contains(v.strLabel.Text, lang.L("seal.strength.weak")) {
		t.Fatalf("weak password: disabled=%v, %q", v.primary.Disabled(), v.strLabel.Text)
	}
	v.ownPw.SetText("")
	test.Type(v.ownPw, "Kattens-blå-cykel-står-vid-Nybroviken-7")
	if !v.primary.Disabled() || !strings.Contains(v.strLabel.Text, lang.L("seal.strength.ascii")) {
		t.Fatalf("å in a zip password (7-Zip cannot open it): disabled=%v, %q", v.primary.Disabled(), v.strLabel.Text)
	}
	v.format.SetSelected(lang.L("seal.format.age"))
	if v.primary.Disabled() || !strings.Contains(v.strLabel.Text, lang.L("seal.strength.ok")) {
		t.Fatalf("the same password for age: disabled=%v, %q", v.primary.Disabled(), v.strLabel.Text)
	}
	v.format.SetSelected(lang.L("seal.format.zip"))
	v.ownPw.SetText("Kattens-bla-cykel-star-vid-Nybroviken-7")
	if v.primary.Disabled() {
		t.Fatalf("strong ASCII password still disables the button: %q", v.strLabel.Text)
	}
	// 7-Zip takes at most 99 bytes of a zip password.
	v.ownPw.SetText(strings.Repeat("Kx7-pQ2!mZ", 10))
	long := lang.L("seal.strength.long", map[string]any{"Bytes": 100, "Max": 99})
	if !v.primary.Disabled() || !strings.Contains(v.strLabel.Text, long) {
		t.Fatalf("a 100-byte zip password: disabled=%v, %q", v.primary.Disabled(), v.strLabel.Text)
	}
}

// TestSealSendsPasswordByOutbox: the primary button seals, the outbox
// provider receives the password, and that password opens the archive.
func TestSealSendsPasswordByOutbox(t *testing.T) {
	outbox := filepath.Join(tempDir(t), "sms.jsonl")
	h := newHarness(t, &config.Config{SMS: config.SMS{Provider: "outbox:" + outbox, Sender: "Lönekontoret"}})
	v := h.u.seal
	content := "namn;personnummer\nAnna;" + testPnr + "\n"
	src := h.file("lönelista.csv", content)
	h.drop(src)
	test.Type(v.phone, "070-123 45 67")
	v.caseID.SetText("KS 2026/123")
	shown := v.form.Generated.Value

	test.Tap(v.primary)
	v.work.Wait()
	if v.status.Text != lang.L("result.title") {
		t.Fatalf("status %q", v.status.Text)
	}

	b, err := os.ReadFile(outbox)
	if err != nil {
		t.Fatal(err)
	}
	var rec sms.OutboxRecord
	if err := json.Unmarshal(bytes.TrimSpace(b), &rec); err != nil {
		t.Fatalf("outbox: %v (%s)", err, b)
	}
	if rec.To != "+46701234567" {
		t.Fatalf("SMS to %q", rec.To)
	}
	pw := rec.Body[strings.LastIndex(rec.Body, " ")+1:]
	if pw != shown {
		t.Fatalf("the SMS carries %q, the window showed %q", pw, shown)
	}
	if v.form.Generated.Value == shown {
		t.Error("the next sealing would reuse the same password")
	}
	if !strings.HasPrefix(rec.Body, "Lösenord") && !strings.HasPrefix(rec.Body, "Password") {
		t.Errorf("SMS text %q", rec.Body)
	}

	// The result names the delivery's state in the window's words, never
	// the provider's raw status ("(outbox)", "(queued)").
	result := resultTexts(v)
	if !strings.Contains(result, "("+deliveryWords(&auditlog.Delivery{Provider: "outbox", Status: auditlog.StatusOutbox})+")") || strings.Contains(result, "(outbox)") {
		t.Errorf("the result:\n%s", result)
	}

	es := h.entries()
	if len(es) != 2 || es[0].Action != auditlog.ActionSeal || es[1].Action != auditlog.ActionSMS {
		t.Fatalf("log entries: %+v", es)
	}
	seal := es[0]
	if seal.Case != "KS 2026/123" || seal.Personnummer == nil || *seal.Personnummer != 1 || seal.Delivery == nil || !strings.Contains(seal.Delivery.To, "***") {
		t.Errorf("seal entry: %+v", seal)
	}
	archive := filepath.Join(h.workDir, seal.Archive.Name)
	if !strings.HasSuffix(archive, ".zip") {
		t.Fatalf("archive %s is not a zip", archive)
	}
	dest := tempDir(t)
	res, err := crypt.Extract(context.Background(), archive, crypt.ExtractOptions{OpenOptions: crypt.OpenOptions{Credentials: crypt.Credentials{Password: pw}}, Dest: dest, Force: true})
	if err != nil {
		t.Fatalf("the archive does not open with the texted password: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(res.Dest, "lönelista.csv"))
	if err != nil || string(got) != content {
		t.Fatalf("extracted %q, %v", got, err)
	}
	// The password is nowhere in kuvert's own files.
	filepath.WalkDir(h.home, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(pw)) {
				t.Errorf("the password is in %s", p)
			}
		}
		return nil
	})
	// The result shows the reference, not the password.
	var texts []string
	for _, o := range test.LaidOutObjects(v.result) {
		if l, ok := o.(*widget.Label); ok {
			texts = append(texts, l.Text)
		}
	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, seal.Delivery.Ref) || strings.Contains(all, pw) {
		t.Errorf("result texts:\n%s", all)
	}

	// The log view shows the new entry.
	h.u.SelectTab("log")
	if len(h.u.logv.entries) != 2 || h.u.logv.entries[1].ID != seal.ID {
		t.Fatalf("log view holds %d entries", len(h.u.logv.entries))
	}
	line := entryLine(&h.u.logv.entries[1])
	if st := h.u.logv.entries[1].Delivery.Status; string(st) != string(sms.StatusOutbox) {
		t.Errorf("the sealing row shows SMS status %q, not the outcome", st)
	}
	if !strings.Contains(line, seal.Archive.Name) || !strings.Contains(line, "KS 2026/123") || strings.Contains(line, "701234567") {
		t.Errorf("log line %q", line)
	}

	// The e-mail draft: beside the archive, the archive attached, the
	// reference in it, the password not.
	v.writeDraft("kalle@example.se")
	eml, err := os.ReadFile(archive + ".eml")
	if err != nil {
		t.Fatalf("no draft: %v (status %q)", err, v.status.Text)
	}
	if !bytes.Contains(eml, []byte("X-Unsent: 1")) || !bytes.Contains(eml, []byte(seal.Delivery.Ref)) || bytes.Contains(eml, []byte(pw)) {
		t.Errorf("draft:\n%s", eml)
	}
	// A bad address is explained, not written.
	os.Remove(archive + ".eml")
	v.writeDraft("inte en adress")
	if _, err := os.Stat(archive + ".eml"); !os.IsNotExist(err) {
		t.Errorf("a draft to a bad address was written (status %q)", v.status.Text)
	}

	// "Visa i mappen" ("Visa i Utforskaren" on Windows) asks the OS to
	// show the archive's folder.
	var show *widget.Button
	for _, o := range test.LaidOutObjects(v.result) {
		if b, ok := o.(*widget.Button); ok && b.Text == showFileLabel() {
			show = b
		}
	}
	if show == nil {
		t.Fatal("no show-in-folder button")
	}
	test.Tap(show)
	if len(h.opened) != 1 || h.opened[0] != h.workDir {
		t.Errorf("opened folders %v, want %s", h.opened, h.workDir)
	}

	// The form is empty for the next recipient.
	if len(h.files()) != 0 || v.phone.Text != "" || v.caseID.Text != "" || !v.primary.Disabled() {
		t.Errorf("after sealing: %d files, number %q, case %q, button disabled=%v", len(h.files()), v.phone.Text, v.caseID.Text, v.primary.Disabled())
	}
	// A second sealing of the same file never overwrites the first.
	h.drop(src)
	test.Type(v.phone, "070-123 45 67")
	test.Tap(v.primary)
	v.work.Wait()
	if n := len(h.entries()); n != 4 {
		t.Fatalf("%d entries after the second sealing (status %q)", n, v.status.Text)
	}
	if second := h.entries()[2].Archive.Name; second == seal.Archive.Name {
		t.Errorf("the second archive reused the name %s", second)
	}
}

// twilioHarness points the app at a loopback Twilio fake, with the
// credentials in the (fake) keyring as the settings view stores them.
func twilioHarness(t *testing.T) (*harness, *twiliotest.Server) {
	fake := twiliotest.NewServer()
	t.Cleanup(fake.Close)
	h := newHarness(t, &config.Config{Organisation: "Sundsvalls kommun", SMS: config.SMS{Provider: "twilio", From: twiliotest.From}})
	h.setenv("KUVERT_TWILIO_API_URL", fake.URL)
	h.keys.Set(keyringService, settings.TwilioAccountSIDKey, twiliotest.AccountSID)
	h.keys.Set(keyringService, settings.TwilioAuthTokenKey, twiliotest.AuthToken)
	return h, fake
}

func TestCancelLeavesNothing(t *testing.T) {
	h, fake := twilioHarness(t)
	fake.Script(twiliotest.Behaviour{Hang: 30 * time.Second})
	v := h.u.seal
	src := h.file("medlemmar.csv", "a;b\n")
	h.drop(src)
	test.Type(v.phone, "0701234567")
	test.Tap(v.primary)
	if !v.primary.Disabled() || !v.cancelBtn.Visible() || !v.progress.Visible() {
		t.Fatal("while working the button must be disabled and Cancel shown")
	}
	waitFor(t, "the SMS request to reach Twilio", func() bool { return fake.Posts() == 1 })
	test.Tap(v.cancelBtn)
	v.work.Wait()
	if v.status.Text != lang.L("seal.cancelled") {
		t.Fatalf("status %q", v.status.Text)
	}
	if got := dirNames(t, h.workDir); !slices.Equal(got, []string{"medlemmar.csv"}) {
		t.Fatalf("left behind after cancel: %v", got)
	}
	if len(fake.Messages()) != 0 {
		t.Fatal("a message was stored")
	}
	es := h.entries()
	if len(es) != 2 || es[1].Action != auditlog.ActionSealFailed {
		t.Fatalf("log after cancel: %+v", es)
	}
	if v.primary.Disabled() || v.cancelBtn.Visible() {
		t.Error("the window is not ready for another try")
	}
}

func TestSMSRefusedRemovesArchiveAndExplains(t *testing.T) {
	h, fake := twilioHarness(t)
	fake.RefuseNumber("+46701234567", 21211)
	v := h.u.seal
	h.drop(h.file("lista.txt", "x"))
	test.Type(v.phone, "070 123 45 67")
	test.Tap(v.primary)
	v.work.Wait()
	if !strings.HasPrefix(v.status.Text, lang.L("err.sms")) || !strings.Contains(v.status.Text, "21211") {
		t.Fatalf("status %q", v.status.Text)
	}
	if got := dirNames(t, h.workDir); !slices.Equal(got, []string{"lista.txt"}) {
		t.Fatalf("left behind: %v", got)
	}
	// With the user's own password the archive stays, and the message says so.
	v.pwMode.SetSelected(lang.L("seal.password.own"))
	v.ownPw.SetText("Kattens-bla-cykel-star-vid-Nybroviken-7")
	test.Tap(v.primary)
	v.work.Wait()
	kept := lang.L("err.sms.kept", map[string]any{"Path": filepath.Join(h.workDir, "lista.zip")})
	if !strings.HasPrefix(v.status.Text, kept) || !strings.Contains(v.status.Text, "21211") {
		t.Fatalf("own password, SMS refused: %q", v.status.Text)
	}
	if got := dirNames(t, h.workDir); !slices.Equal(got, []string{"lista.txt", "lista.zip"}) {
		t.Fatalf("own password, SMS refused: the folder holds %v", got)
	}
	os.Remove(filepath.Join(h.workDir, "lista.zip"))
	v.pwMode.SetSelected(lang.L("seal.password.generated"))
	// Without credentials the provider is refused before anything is sealed.
	h.keys.m = map[string]string{}
	test.Tap(v.primary)
	v.work.Wait()
	if got := dirNames(t, h.workDir); !slices.Equal(got, []string{"lista.txt"}) {
		t.Fatalf("sealed without SMS credentials: %v", got)
	}
	if n := len(h.entries()); n != 4 {
		t.Fatalf("%d log entries, want the two tries' 4", n)
	}
}

func TestOpenView(t *testing.T) {
	h := newHarness(t, nil)
	src := h.file("in/rapport.txt", "hemlig rapport")
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ins, _, err := crypt.CollectInputs([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(h.workDir, "rapport.zip")
	if _, err := crypt.Seal(context.Background(), crypt.SealOptions{Inputs: ins, Output: archive, Format: crypt.FormatZip, Password: pw}); err != nil {
		t.Fatal(err)
	}
	v := h.u.open
	h.u.SelectTab("open")
	if !v.button.Disabled() {
		t.Fatal("open button enabled without an archive")
	}
	h.drop(archive) // dropped on the Open view: it is the archive to open
	if v.archive.Text != archive || len(h.files()) != 0 {
		t.Fatalf("archive field %q, seal list %d", v.archive.Text, len(h.files()))
	}
	if h.w.Canvas().Focused() != v.password {
		t.Error("the password field should have the focus after a drop")
	}
	test.Type(v.password, "fel-lösenord")
	test.Tap(v.button)
	v.work.Wait()
	if v.status.Text != lang.L("open.wrong") {
		t.Fatalf("status %q", v.status.Text)
	}
	if got := dirNames(t, h.workDir); !slices.Equal(got, []string{"in", "rapport.zip"}) {
		t.Fatalf("a wrong password left %v", got)
	}
	if v.password.Text != "" {
		t.Error("the password stays in the field after use")
	}
	// Pasted from the SMS on a phone: capitals, spaces for dashes, a
	// space at the end; the generated password it holds opens it.
	test.Type(v.password, "Ref abc234: "+strings.ToUpper(strings.ReplaceAll(pw.Value, "-", " "))+" ")
	// Enter opens: what Entry.TypedKey(Return) calls. (Calling TypedKey
	// itself races here: the test driver runs fyne.Do on the worker, so
	// the entry's own refresh after the callback would overlap it.)
	v.password.OnSubmitted(v.password.Text)
	v.work.Wait()
	got, err := os.ReadFile(filepath.Join(h.workDir, "rapport", "rapport.txt"))
	if err != nil || string(got) != "hemlig rapport" {
		t.Fatalf("extracted %q, %v (status %q)", got, err, v.status.Text)
	}
	if len(h.opened) != 1 || h.opened[0] != filepath.Join(h.workDir, "rapport") {
		t.Errorf("opened %v", h.opened)
	}
	// A damaged archive is refused and leaves nothing.
	b, _ := os.ReadFile(archive)
	// Flip a byte of the encrypted data: after the local header, its
	// name and extra fields, the 16-byte salt and 2-byte verifier.
	dataStart := 30 + int(binary.LittleEndian.Uint16(b[26:])) + int(binary.LittleEndian.Uint16(b[28:]))
	b[dataStart+18+3] ^= 1
	bad := filepath.Join(h.workDir, "skadad.zip")
	os.WriteFile(bad, b, 0o644)
	v.archive.SetText(bad)
	test.Type(v.password, pw.Value)
	test.Tap(v.button)
	v.work.Wait()
	if v.status.Text != lang.L("open.damaged") {
		t.Fatalf("status %q", v.status.Text)
	}
	if _, err := os.Stat(filepath.Join(h.workDir, "skadad")); !os.IsNotExist(err) {
		t.Errorf("a damaged archive left a folder: %v", err)
	}
}

func TestLogViewVerifiesAndExports(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	h.drop(h.file("a.txt", "hej"))
	test.Tap(v.primary)
	v.work.Wait()
	// Without an SMS the generated password is shown once in the result.
	found := false
	for _, o := range test.LaidOutObjects(v.result) {
		if l, ok := o.(*widget.Label); ok && strings.Contains(l.Text, ": ") && strings.HasPrefix(l.Text, strings.Split(lang.L("result.password", map[string]any{"Password": ""}), ":")[0]) {
			found = true
		}
	}
	if !found {
		t.Error("the generated password is not shown when no SMS is sent")
	}
	lv := h.u.logv
	h.u.SelectTab("log")
	if len(lv.entries) != 1 {
		t.Fatalf("%d entries", len(lv.entries))
	}
	if lv.server.Visible() {
		t.Fatalf("no server is set, yet the log view shows a server line %q", lv.server.Text)
	}
	lv.verify()
	if !strings.HasPrefix(lv.status.Text, "✓") {
		t.Fatalf("intact log: %q", lv.status.Text)
	}
	var csv bytes.Buffer
	lv.exportTo(&csv, "x.csv")
	r := bufio.NewScanner(&csv)
	var lines []string
	for r.Scan() {
		lines = append(lines, r.Text())
	}
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "\ufeff") || !strings.Contains(lines[1], lv.entries[0].ID) {
		t.Fatalf("CSV export: %q", lines)
	}
	// One changed byte in the log is reported.
	p := filepath.Join(h.home, "log", "entries.jsonl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, bytes.Replace(b, []byte(`"a.txt"`), []byte(`"b.txt"`), 1), 0o600)
	lv.verify()
	if !strings.HasPrefix(lv.status.Text, "✗") {
		t.Fatalf("tampered log: %q", lv.status.Text)
	}
}

func TestSettingsKeepSecretsInKeyring(t *testing.T) {
	h := newHarness(t, nil)
	s := h.u.settings
	s.provider.SetSelectedIndex(1)
	test.Type(s.sid, twiliotest.AccountSID)
	test.Type(s.token, twiliotest.AuthToken)
	test.Type(s.from, "Kommunen")
	s.organisation.SetText("")
	test.Type(s.organisation, "Lönekontoret")
	if !strings.Contains(s.preview.Text, "Lönekontoret") || !strings.Contains(s.segments.Text, "1") {
		t.Fatalf("preview %q / %q", s.preview.Text, s.segments.Text)
	}
	s.organisation.SetText("Löne”kontoret")
	if !strings.HasPrefix(s.segments.Text, "⚠") {
		t.Errorf("a non-GSM-7 character is not flagged: %q", s.segments.Text)
	}
	s.organisation.SetText("Lönekontoret")
	s.format.SetSelected("age")
	s.smsLang.SetSelected("English")
	if !strings.HasPrefix(s.preview.Text, "Password for the encrypted attachment") {
		t.Errorf("English SMS preview: %q", s.preview.Text)
	}
	s.save()
	if s.status.Text != lang.L("settings.saved") {
		t.Fatalf("status %q", s.status.Text)
	}
	// The app's own language is saved apart from the recipients' and
	// takes effect at the next start (TestLanguageFollowsLocale).
	s.appLang.SetSelected("English")
	s.save()
	if s.status.Text != lang.L("settings.saved")+" "+lang.L("settings.applang.restart") {
		t.Fatalf("status after a language change %q", s.status.Text)
	}
	if tok, _ := h.keys.Get(keyringService, settings.TwilioAuthTokenKey); tok != twiliotest.AuthToken {
		t.Fatal("the token is not in the keyring")
	}
	if sid, _ := h.keys.Get(keyringService, settings.TwilioAccountSIDKey); sid != twiliotest.AccountSID {
		t.Fatal("the SID is not in the keyring")
	}
	if s.token.Text != "" {
		t.Error("the token stays in the field after saving")
	}
	b, err := os.ReadFile(config.Path(h.home))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(twiliotest.AuthToken)) || bytes.Contains(b, []byte(twiliotest.AccountSID)) {
		t.Fatalf("config.json holds a credential:\n%s", b)
	}
	cfg, err := config.Load(h.home)
	if err != nil || cfg.SMS.Provider != "twilio" || cfg.SMS.From != "Kommunen" || cfg.Organisation != "Lönekontoret" || cfg.Format != "age" ||
		cfg.SMS.Language != "en" || cfg.AppLanguage != "en" {
		t.Fatalf("saved config %+v, %v", cfg, err)
	}
	// (Switching this test process to English would leak into the others.)
	cfg.AppLanguage = ""
	if err := config.Save(h.home, cfg); err != nil {
		t.Fatal(err)
	}
	// A new window picks up the saved default format.
	h2 := &harness{t: t}
	u2, err := New(test.NewTempApp(t), test.NewTempWindow(t, widget.NewLabel("")), Deps{Home: h.home, Keyring: h.keys, OpenFolder: func(string) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	h2.u = u2
	if u2.seal.format.Selected != lang.L("seal.format.age") {
		t.Errorf("default format %q after saving age", u2.seal.format.Selected)
	}
}

func TestCopiedPasswordLeavesClipboard(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	old := clipboardTTL
	clipboardTTL = 50 * time.Millisecond
	t.Cleanup(func() { clipboardTTL = old })
	cb := h.clip
	test.Tap(v.pwCopy)
	if cb.Content() != v.form.Generated.Value {
		t.Fatal("Kopiera did not put the password on the clipboard")
	}
	v.work.Wait()
	if cb.Content() != "" {
		t.Fatal("the password is still on the clipboard")
	}
	// Something the user copied afterwards is left alone.
	cb.SetContent("annat")
	clearClipboard(cb, v.form.Generated.Value)
	if cb.Content() != "annat" {
		t.Fatalf("the clipboard holds %q", cb.Content())
	}
}

func TestFolderURL(t *testing.T) {
	for in, want := range map[string]string{"/home/a/b c": "file:///home/a/b%20c", `C:\Users\a`: "file:///C:/Users/a"} {
		if filepath.Separator == '/' && strings.Contains(in, `\`) {
			in = strings.ReplaceAll(in, `\`, "/") // ToSlash is a no-op on Unix
		}
		if got := folderURL(in).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestKeyboardOrder: Tab moves through the recipient fields to the
// primary button, in reading order.
func TestKeyboardOrder(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	h.drop(h.file("a.txt", "x"))
	c := h.w.Canvas()
	c.Focus(v.phone)
	var order []fyne.Focusable
	for i := 0; i < 4; i++ {
		test.FocusNext(c)
		order = append(order, c.Focused())
	}
	want := []fyne.Focusable{v.name, v.caseID, v.primary}
	if !slices.Equal(order[:3], want) {
		t.Fatalf("tab order after the phone field: %T %T %T", order[0], order[1], order[2])
	}
	// Space on the focused button seals.
	v.primary.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
	v.work.Wait()
	if v.status.Text != lang.L("result.title") {
		t.Fatalf("keyboard sealing: %q", v.status.Text)
	}
}

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func loadTranslations(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := translations.ReadFile("translations/" + name)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestTranslationsComplete: both languages have the same keys with the
// same placeholders, and every key the code asks for exists.
func TestTranslationsComplete(t *testing.T) {
	sv, en := loadTranslations(t, "sv.json"), loadTranslations(t, "en.json")
	for k, s := range sv {
		e, ok := en[k]
		if !ok {
			t.Errorf("%s: missing in en.json", k)
			continue
		}
		if strings.TrimSpace(s) == "" || strings.TrimSpace(e) == "" {
			t.Errorf("%s: empty text", k)
		}
		ps, pe := placeholder.FindAllString(s, -1), placeholder.FindAllString(e, -1)
		sort.Strings(ps)
		sort.Strings(pe)
		if !slices.Equal(ps, pe) {
			t.Errorf("%s: placeholders %v in Swedish, %v in English", k, ps, pe)
		}
	}
	for k := range en {
		if _, ok := sv[k]; !ok {
			t.Errorf("%s: missing in sv.json", k)
		}
	}
	used := regexp.MustCompile(`lang\.L\("([^"]+)"`)
	srcs, _ := filepath.Glob("*.go")
	for _, f := range srcs {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			if _, ok := sv[m[1]]; !ok && !strings.HasSuffix(m[1], ".") {
				t.Errorf("%s asks for %q, which sv.json lacks", f, m[1])
			}
		}
	}
	// The kinds of non-mobile numbers sms reports all have a text.
	for _, kind := range []string{"landline", "toll-free", "premium-rate", "shared-cost", "VoIP", "pager", "company", "voicemail", "non-mobile"} {
		if _, ok := sv["phone.kind."+kind]; !ok {
			t.Errorf("no text for number kind %s", kind)
		}
	}
}

// TestLanguageFollowsLocale runs the app's strings in a child process
// under several locales: English for English, Swedish for everything
// else (a German desktop, a bare "C" locale), unless Settings chose a
// language.
func TestLanguageFollowsLocale(t *testing.T) {
	if os.Getenv("KUVERT_GUI_LANG_CHILD") == "1" {
		if _, err := New(test.NewTempApp(t), test.NewTempWindow(t, widget.NewLabel("")), Deps{Home: tempDir(t) + "/home", Keyring: &memKeyring{m: map[string]string{}}}); err != nil {
			t.Fatal(err)
		}
		if l := os.Getenv("KUVERT_GUI_LANG_CHOICE"); l != "" {
			home := tempDir(t)
			if err := config.Save(home, &config.Config{AppLanguage: l}); err != nil {
				t.Fatal(err)
			}
			if _, err := New(test.NewTempApp(t), test.NewTempWindow(t, widget.NewLabel("")), Deps{Home: home, Keyring: &memKeyring{m: map[string]string{}}}); err != nil {
				t.Fatal(err)
			}
		}
		os.Stdout.WriteString("\nTEXT=" + lang.L("seal.drop") + "\n")
		return
	}
	sv, en := loadTranslations(t, "sv.json"), loadTranslations(t, "en.json")
	for _, c := range []struct{ locale, choice, want string }{
		{"sv_SE.UTF-8", "", sv["seal.drop"]},
		{"en_GB.UTF-8", "", en["seal.drop"]},
		{"en_US.UTF-8", "", en["seal.drop"]},
		{"de_DE.UTF-8", "", sv["seal.drop"]},
		{"C", "", sv["seal.drop"]},
		{"sv_SE.UTF-8", "en", en["seal.drop"]},
		{"de_DE.UTF-8", "en", en["seal.drop"]},
		{"en_GB.UTF-8", "sv", sv["seal.drop"]},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLanguageFollowsLocale$", "-test.v")
		env := []string{"KUVERT_GUI_LANG_CHILD=1", "KUVERT_GUI_LANG_CHOICE=" + c.choice, "LANG=" + c.locale, "LC_ALL=" + c.locale, "LANGUAGE=", "LC_MESSAGES=" + c.locale}
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "LANG") && !strings.HasPrefix(e, "LC_") {
				env = append(env, e)
			}
		}
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.locale, err, out)
		}
		m := regexp.MustCompile(`(?m)^TEXT=(.*)$`).FindSubmatch(out)
		if m == nil || string(m[1]) != c.want {
			t.Errorf("%s, choice %q: got %q, want %q", c.locale, c.choice, m, c.want)
		}
	}
}

// waitIdle waits for every view's background work.
func (u *UI) waitIdle() {
	u.seal.work.Wait()
	u.batch.work.Wait()
	u.open.work.Wait()
	u.logv.work.Wait()
	u.settings.work.Wait()
	u.shipWork.Wait()
	u.pickWork.Wait()
}
