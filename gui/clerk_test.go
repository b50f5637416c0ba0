package gui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/naming"
	"github.com/kuvert-app/kuvert/settings"
)

// A demo batch that ended every row is shown as finished, now and when
// its manifest is chosen again, never as an attempt to continue.
func TestFinishedBatchShownAsFinished(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Lönekontoret"}) // the console demo
	v := h.u.batch
	manifest := goodManifest(t, h.workDir, 2)
	v.LoadManifest(manifest)
	test.Tap(v.start)
	v.work.Wait()
	if v.last == nil || v.last.Demo != 2 {
		t.Fatalf("demo run: %+v (%v)", v.last, v.lastErr)
	}
	check := func(when string) {
		t.Helper()
		want := lang.L("batch.finished", map[string]any{"Rows": 2, "Dir": v.form.OutDir})
		if v.summary.Text != want || strings.Contains(v.summary.Text, "tidigare försök") {
			t.Errorf("%s: summary %q, want %q", when, v.summary.Text, want)
		}
		if v.start.Text == lang.L("batch.resume") {
			t.Errorf("%s: the button reads %q", when, v.start.Text)
		}
	}
	check("after the run")
	v.LoadManifest(manifest)
	check("chosen again")
}

// A demo batch is not finished once a real provider is set up: nobody
// has its passwords, so the view says it continues, and the run seals the
// rows again and texts each new password once; then it is finished.
func TestDemoBatchNotFinishedWithRealProvider(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Lönekontoret"}) // the console demo
	v := h.u.batch
	manifest := goodManifest(t, h.workDir, 2)
	v.LoadManifest(manifest)
	test.Tap(v.start)
	v.work.Wait()
	if v.last == nil || v.last.Demo != 2 || !v.form.Finished {
		t.Fatalf("demo run: %+v (%v), finished %v", v.last, v.lastErr, v.form.Finished)
	}
	outbox := filepath.Join(tempDir(t), "sms.jsonl")
	if err := config.Save(h.home, &config.Config{Organisation: "Lönekontoret", SMS: config.SMS{Provider: "outbox:" + outbox, Sender: "Lönekontoret"}}); err != nil {
		t.Fatal(err)
	}
	v.LoadManifest(manifest)
	if v.form.Finished || v.summary.Text == lang.L("batch.finished", map[string]any{"Rows": 2, "Dir": v.form.OutDir}) || v.start.Text != lang.L("batch.resume") {
		t.Fatalf("with a real provider: finished %v, summary %q, button %q", v.form.Finished, v.summary.Text, v.start.Text)
	}
	test.Tap(v.start)
	v.work.Wait()
	if v.last == nil || v.last.Done != 2 || v.last.Demo != 0 || v.lastErr != nil {
		t.Fatalf("real run: %+v (%v)", v.last, v.lastErr)
	}
	if b, _ := os.ReadFile(outbox); strings.Count(string(b), "\n") != 2 {
		t.Fatalf("outbox:\n%s", b)
	}
	if !v.form.Finished {
		t.Fatal("not finished after the real run")
	}
}

// The list stays chosen while the clerk sets up a real provider in
// Settings: back on Massutskick, the rows the demo only showed are left
// to do, without choosing the list again; back to the demo, they are done.
func TestBatchRejudgedWhenProviderChanges(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Lönekontoret"})
	v := h.u.batch
	v.LoadManifest(goodManifest(t, h.workDir, 2))
	test.Tap(v.start)
	v.work.Wait()
	finished := lang.L("batch.finished", map[string]any{"Rows": 2, "Dir": v.form.OutDir})
	if !v.form.Finished || v.summary.Text != finished {
		t.Fatalf("demo run: finished %v, summary %q", v.form.Finished, v.summary.Text)
	}
	batchTab := h.u.tabs.Items[1]
	if batchTab.Content != v.content {
		t.Fatal("the second tab is not Massutskick")
	}
	provider := func(p string) {
		t.Helper()
		if err := config.Save(h.home, &config.Config{Organisation: "Lönekontoret", SMS: config.SMS{Provider: p, Sender: "Lönekontoret"}}); err != nil {
			t.Fatal(err)
		}
		h.u.tabs.Select(h.u.tabs.Items[len(h.u.tabs.Items)-1])
		h.u.tabs.Select(batchTab)
	}
	provider("outbox:" + filepath.Join(tempDir(t), "sms.jsonl"))
	if v.form.Finished || v.summary.Text == finished || v.start.Text != lang.L("batch.resume") || v.demo.Visible() {
		t.Errorf("with a real provider: finished %v, summary %q, button %q, demo line %v", v.form.Finished, v.summary.Text, v.start.Text, v.demo.Visible())
	}
	provider("")
	if !v.form.Finished || v.summary.Text != finished || v.start.Text != lang.L("batch.start") || !v.demo.Visible() {
		t.Errorf("back to the demo: finished %v, summary %q, button %q, demo line %v", v.form.Finished, v.summary.Text, v.start.Text, v.demo.Visible())
	}
}

// A batch with a failed row is not finished: it says it continues.
func TestUnfinishedBatchResumes(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Lönekontoret"})
	v := h.u.batch
	manifest := goodManifest(t, h.workDir, 2)
	v.LoadManifest(manifest)
	test.Tap(v.start)
	v.work.Wait()
	// The folder's record as a run leaves it when one row failed.
	if err := os.WriteFile(filepath.Join(v.form.OutDir, "state.json"), []byte(`{"batch":"`+v.form.Manifest.ID+`","rows":[{"row":2,"result":"demo-not-sent"},{"row":3,"result":"failed"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	v.LoadManifest(manifest)
	if v.form.Finished || !strings.HasPrefix(v.summary.Text, strings.Split(lang.L("batch.resumes", map[string]any{"Rows": 2, "Dir": "@"}), "(")[0]) || v.start.Text != lang.L("batch.resume") {
		t.Errorf("summary %q, button %q", v.summary.Text, v.start.Text)
	}
}

// A demo sealing's e-mail draft never tells the recipient that the
// password came by SMS; the address field is wide enough to read.
func TestDemoDraftSaysNoSMS(t *testing.T) {
	h := newHarness(t, nil)
	op := &opener{}
	h.u.deps.OpenFile, h.u.deps.ShowFile = op.open, op.show
	v := h.u.seal
	h.drop(h.file("Lönelista maj.csv", "x"))
	test.Type(v.phone, "070-123 45 67")
	test.Tap(v.primary)
	v.work.Wait()
	archive := filepath.Join(h.workDir, h.entries()[0].Archive.Name)
	test.Tap(findButton(test.LaidOutObjects(v.result), lang.L("result.draft")))
	objs := topObjects(h.w)
	var to *widget.Entry
	for _, o := range objs {
		if e, ok := o.(*widget.Entry); ok {
			to = e
		}
	}
	if to == nil {
		t.Fatal("no address field")
	}
	if w := to.Size().Width; w < 300 {
		t.Errorf("the address field is %.0f px wide", w)
	}
	test.Type(to, "kalle@example.se")
	test.Tap(findButton(objs, "OK"))
	v.work.Wait()
	b, err := os.ReadFile(archive + ".eml")
	if err != nil {
		t.Fatal(err)
	}
	body := string(b)
	if strings.Contains(body, "skickats till dig med sms") || strings.Contains(body, "(ref ") {
		t.Errorf("the demo draft speaks of an SMS:\n%s", body)
	}
}

// With a server configured (here by the environment, as an
// administrator sets it up), Settings names the server as the SMS
// provider and how the log stands with it, hides the token that the
// environment gives and the Twilio rows, and Save writes no provider the
// user did not choose.
func TestSettingsWithServerConfigured(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Sundsvalls kommun"})
	h.setenv("KUVERT_SERVER_URL", "https://kuvert.exempelby.se")
	h.setenv("KUVERT_SERVER_TOKEN", "kvt_hemlig")
	h.u.settings = newSettingsView(h.u)
	v := h.u.settings
	if v.provider.Selected != lang.L("settings.provider.server") || v.provider.Selected == lang.L("settings.provider.console") {
		t.Errorf("provider %q", v.provider.Selected)
	}
	if !v.serverState.Visible() || v.serverState.Text != lang.L("log.server.synced") {
		t.Errorf("server state %q shown %v", v.serverState.Text, v.serverState.Visible())
	}
	for _, it := range v.form.Items {
		switch it.Text {
		case lang.L("settings.server.token"), lang.L("settings.sid"), lang.L("settings.token"), lang.L("settings.from"):
			t.Errorf("row %q shown", it.Text)
		}
	}
	if v.serverTokenState.Text != lang.L("settings.server.token.given") {
		t.Errorf("token state %q", v.serverTokenState.Text)
	}
	v.save()
	cfg, err := config.Load(h.home)
	if err != nil || cfg.SMS.Provider != "" {
		t.Fatalf("saved provider %q (%v)", cfg.SMS.Provider, err)
	}
	// Chosen, it is written.
	v.provider.SetSelectedIndex(1)
	names := map[string]bool{}
	for _, it := range v.form.Items {
		names[it.Text] = true
	}
	if !names[lang.L("settings.sid")] || !names[lang.L("settings.token")] {
		t.Errorf("Twilio chosen, its rows hidden: %v", names)
	}
	v.save()
	if cfg, _ := config.Load(h.home); cfg.SMS.Provider != "twilio" {
		t.Fatalf("saved provider %q", cfg.SMS.Provider)
	}
}

// Without a server the token row is hidden; typing an address shows it.
// A provider in config.json survives a Save that did not touch it.
func TestSettingsTokenRowFollowsServer(t *testing.T) {
	h := newHarness(t, &config.Config{Organisation: "Sundsvalls kommun", SMS: config.SMS{Provider: "twilio"}})
	v := h.u.settings
	shown := func(label string) bool {
		for _, it := range v.form.Items {
			if it.Text == label {
				return true
			}
		}
		return false
	}
	if shown(lang.L("settings.server.token")) || !shown(lang.L("settings.sid")) {
		t.Errorf("no server: token row %v, Twilio row %v", shown(lang.L("settings.server.token")), shown(lang.L("settings.sid")))
	}
	test.Type(v.serverURL, "https://kuvert.exempelby.se")
	if !shown(lang.L("settings.server.token")) {
		t.Error("the token row stays hidden after typing an address")
	}
	v.serverURL.SetText("")
	test.Type(v.organisation, " AB")
	v.save()
	if cfg, _ := config.Load(h.home); cfg.SMS.Provider != "twilio" {
		t.Fatalf("saved provider %q", cfg.SMS.Provider)
	}
	_ = settings.ServerTokenKey
}

// The form shows the archive's proposed name (kuvert's one rule: the
// first file's name, never a personnummer), lets the user change it,
// refuses a name with a personnummer, a folder or the wrong extension in
// her words, and seals under the name she chose.
func TestArchiveNamedByUser(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	h.drop(h.file("protokoll.pdf", "x"), h.file("lönelista.csv", "y"))
	if v.archive.Text != "protokoll.zip" {
		t.Fatalf("proposed %q", v.archive.Text)
	}
	for typed, want := range map[string]string{
		"lön " + testPnr + ".zip": lang.L("seal.archive.pnr"),
		"../lön.zip":              lang.L("seal.archive.path"),
		`C:\lön.zip`:              lang.L("seal.archive.path"),
		"lönelista maj.7z":        lang.L("seal.archive.ext", map[string]any{"Ext": ".zip"}),
		"lön?.zip":                lang.L("seal.archive.bad"),
	} {
		v.archive.SetText("")
		test.Type(v.archive, typed)
		if !v.archiveInfo.Visible() || v.archiveInfo.Text != "⚠ "+want || !v.primary.Disabled() {
			t.Errorf("%q: hint %q (shown %v), button disabled %v", typed, v.archiveInfo.Text, v.archiveInfo.Visible(), v.primary.Disabled())
		}
		// The hint sits under the field, not over it.
		if v.archiveInfo.Position().Y < v.archive.Position().Y+v.archive.Size().Height || v.archiveInfo.Size().Height == 0 {
			t.Errorf("%q: the hint at y=%.0f (h %.0f) overlaps the field (y=%.0f, h %.0f)", typed, v.archiveInfo.Position().Y, v.archiveInfo.Size().Height, v.archive.Position().Y, v.archive.Size().Height)
		}
	}
	v.archive.SetText("")
	test.Type(v.archive, "Lönelista maj.zip")
	if v.archiveInfo.Visible() || v.primary.Disabled() {
		t.Fatalf("a good name refused: %q", v.archiveInfo.Text)
	}
	// The age format needs .age: the same name is now wrong.
	v.format.SetSelected(lang.L("seal.format.age"))
	if !v.archiveInfo.Visible() || !v.primary.Disabled() {
		t.Error("a .zip name accepted for age")
	}
	v.format.SetSelected(lang.L("seal.format.zip"))
	test.Tap(v.primary)
	v.work.Wait()
	if _, err := os.Stat(filepath.Join(h.workDir, "Lönelista maj.zip")); err != nil {
		t.Fatalf("not sealed under the chosen name (status %q, in the folder %q): %v", v.status.Text, dirNames(t, h.workDir), err)
	}
	if _, err := os.Stat(filepath.Join(h.workDir, "protokoll.zip")); err == nil {
		t.Error("sealed under the proposed name too")
	}
	// The next sealing starts from the proposal again, and never
	// overwrites: the same name again becomes "… (2).zip".
	if v.archive.Text != "" || v.form.ArchiveName != "" {
		t.Errorf("after sealing: %q / %q", v.archive.Text, v.form.ArchiveName)
	}
	h.drop(h.file("brev.txt", "z"))
	if v.archive.Text != "brev.zip" {
		t.Errorf("proposed %q", v.archive.Text)
	}
	v.archive.SetText("Lönelista maj.zip")
	test.Tap(v.primary)
	v.work.Wait()
	if _, err := os.Stat(filepath.Join(h.workDir, "Lönelista maj (2).zip")); err != nil {
		t.Fatalf("second sealing: %v (status %q)", err, v.status.Text)
	}
}

// A proposal never carries a personnummer, and the field shows the same
// name the sealing uses.
func TestArchiveProposalHidesPersonnummer(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	h.drop(h.file("intyg "+testPnr+".pdf", "x"))
	if v.archive.Text != "intyg.zip" {
		t.Fatalf("proposed %q", v.archive.Text)
	}
	test.Tap(v.primary)
	v.work.Wait()
	if _, err := os.Stat(filepath.Join(h.workDir, "intyg.zip")); err != nil {
		t.Fatal(err)
	}
}

// Half a number is not called wrong while it is typed, and a long hint
// under the number does not widen the window.
func TestPhoneHintWhileTyping(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	h.drop(h.file("lista.txt", "x"))
	width := h.u.tabs.MinSize().Width
	for _, partial := range []string{"0", "07", "070-12", "070-123 4"} {
		v.phone.SetText(partial)
		if v.phoneInfo.Text != lang.L("seal.phone.typing") || strings.Contains(v.phoneInfo.Text, "finns inte") {
			t.Errorf("%q: %q", partial, v.phoneInfo.Text)
		}
		if !v.primary.Disabled() {
			t.Errorf("%q: sealing enabled", partial)
		}
	}
	v.phone.SetText("070-123 45 67 89 12 34")
	if !strings.HasPrefix(v.phoneInfo.Text, "⚠ ") || v.phoneInfo.Text == "⚠ "+lang.L("seal.phone.typing") {
		t.Errorf("too long: %q", v.phoneInfo.Text)
	}
	if w := h.u.tabs.MinSize().Width; w > width {
		t.Errorf("the window's least width grew from %.0f to %.0f", width, w)
	}
}

// The form refuses a sealing under a name naming.Archive refuses, and
// seals under a good one beside the first file.
func TestSealFormArchiveName(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "protokoll.pdf")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := sealForm{Files: []fileItem{{path: p, size: 1}}, Generated: mustGenerate(t), ArchiveName: "a/" + testPnr + ".zip"}
	if _, err := f.Request(requestEnv{}); !errors.Is(err, naming.ErrName) {
		t.Fatalf("bad name: %v", err)
	}
	f.ArchiveName = "Lön maj.zip"
	req, err := f.Request(requestEnv{})
	if err != nil || req.Seal.Output != filepath.Join(dir, "Lön maj.zip") {
		t.Fatalf("%q %v", req.Seal.Output, err)
	}
	f.ArchiveName = ""
	if req, _ := f.Request(requestEnv{}); req.Seal.Output != filepath.Join(dir, "protokoll.zip") {
		t.Fatalf("proposal %q", req.Seal.Output)
	}
}

func mustGenerate(t *testing.T) crypt.Password {
	t.Helper()
	p, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The log view answers a phone call: it shows each row's reference,
// the recipient's name and the case, and its search box finds a row by
// reference ("ref 6h7mse"), by case number ("2026/118" finds
// "SN 2026/118") or by part of the name.
func TestLogSearchFindsRefCaseName(t *testing.T) {
	h := newHarness(t, nil) // the console demo: an SMS row with a reference
	v := h.u.seal
	seal := func(file, name, caseNo string) {
		t.Helper()
		h.drop(h.file(file, "x"))
		test.Type(v.phone, "070-123 45 67")
		test.Type(v.name, name)
		test.Type(v.caseID, caseNo)
		test.Tap(v.primary)
		v.work.Wait()
	}
	seal("a.txt", "Åsa Öberg", "SN 2026/118")
	seal("b.txt", "Kalle Ek", "KS 2025/7")
	var ref string
	for _, e := range h.entries() {
		if e.Delivery != nil && e.Note == "Åsa Öberg" {
			ref = e.Delivery.Ref
		}
	}
	if ref == "" {
		t.Fatal("no reference in the log")
	}
	h.u.SelectTab("log")
	lv := h.u.logv
	header := map[string]int{}
	for i, c := range logColumns {
		header[lang.L(c.key)] = i
	}
	for _, k := range []string{"log.col.ref", "log.col.name", "log.col.case"} {
		if _, ok := header[lang.L(k)]; !ok || lang.L(k) == k {
			t.Fatalf("no column %s", k)
		}
	}
	found := func(q string) []string {
		t.Helper()
		lv.search.SetText(q)
		var out []string
		for i := range lv.entries {
			out = append(out, entryCell(&lv.entries[i], header[lang.L("log.col.name")]))
		}
		return out
	}
	all := len(found(""))
	if all < 2 {
		t.Fatalf("%d rows unsearched", all)
	}
	for _, q := range []string{ref, "ref " + ref, "Ref: " + strings.ToUpper(ref), "2026/118", "sn2026-118", "åsa", "Öberg"} {
		got := found(q)
		if len(got) == 0 || len(got) >= all || slices.ContainsFunc(got, func(n string) bool { return n != "Åsa Öberg" }) {
			t.Errorf("%q found %q", q, got)
		}
	}
	row := lv.entries[0]
	if entryCell(&row, header[lang.L("log.col.ref")]) != ref || entryCell(&row, header[lang.L("log.col.case")]) != "SN 2026/118" {
		t.Errorf("row: %q", entryLine(&row))
	}
	if got := found("zz9zz9"); len(got) != 0 || lv.status.Text != lang.L("log.search.none", map[string]any{"Query": "zz9zz9"}) {
		t.Errorf("no match: %q, status %q", got, lv.status.Text)
	}
	if found(""); lv.status.Text != "" || len(lv.entries) != all {
		t.Errorf("cleared: status %q, %d rows", lv.status.Text, len(lv.entries))
	}
}

// Saving the organisation says "Sparat" and leaves no empty band: the
// files move up to where the prompt was.
func TestOrganisationSavedLeavesNoBand(t *testing.T) {
	h := newHarness(t, nil)
	v := h.u.seal
	var split *container.Split
	for _, o := range v.content.(*fyne.Container).Objects {
		if s, ok := o.(*container.Split); ok {
			split = s
		}
	}
	if split == nil || split.Position().Y <= 0 {
		t.Fatalf("the prompt does not sit above the files: %v", split)
	}
	test.Type(v.org.entry, "Exempelby kommun")
	test.Tap(v.org.save)
	if v.org.content.Visible() || split.Position().Y != 0 {
		t.Errorf("after saving: prompt shown %v, the files start at y=%.0f", v.org.content.Visible(), split.Position().Y)
	}
	if v.status.Text != lang.L("org.saved", map[string]any{"Org": "Exempelby kommun"}) || !strings.HasPrefix(v.status.Text, "Sparat") {
		t.Errorf("status %q", v.status.Text)
	}
}

// A long problem under the SMS preview wraps: the Settings view does not
// grow wider than the window.
func TestSettingsPreviewProblemWraps(t *testing.T) {
	h := newHarness(t, nil)
	h.setenv("KUVERT_SERVER_URL", "https://kuvert.exempelby.se")
	h.u.settings = newSettingsView(h.u) // no organisation: the preview says so
	v := h.u.settings
	if !strings.HasPrefix(v.segments.Text, "⚠") {
		t.Fatalf("preview %q", v.segments.Text)
	}
	if w := v.segments.MinSize().Width; w > 100 {
		t.Errorf("the problem needs %.0f px of width", w)
	}
}

// With a server's relay and no organisation name, the SMS preview in
// Settings says what is missing in the window's language, never the SMS
// package's English; an address the SMS cannot carry is named as such.
func TestSettingsPreviewProblemInSwedish(t *testing.T) {
	h := newHarness(t, nil)
	h.setenv("KUVERT_SERVER_URL", "https://kuvert.exempelby.se")
	h.setenv("KUVERT_SERVER_TOKEN", "kvt_hemlig")
	h.u.settings = newSettingsView(h.u)
	v := h.u.settings
	v.updatePreview()
	if want := "⚠ " + lang.L("settings.preview.noorg"); v.segments.Text != want || !strings.Contains(want, "Organisationens namn saknas") {
		t.Fatalf("no organisation: %q, want %q", v.segments.Text, want)
	}
	v.organisation.SetText("Sundsvalls kommun")
	v.openerURL.SetText("http://sundsvall.se/oppna")
	if want := "⚠ " + lang.L("settings.preview.opener"); v.segments.Text != want {
		t.Fatalf("http opener: %q, want %q", v.segments.Text, want)
	}
	v.openerURL.SetText("https://sundsvall.se/oppna")
	if strings.HasPrefix(v.segments.Text, "⚠") || !strings.Contains(v.preview.Text, "Sundsvalls kommun") {
		t.Fatalf("a good setting still flagged: %q / %q", v.segments.Text, v.preview.Text)
	}
}
