package server

// The registrar's page (server/web) tested the way a registrar uses it: a
// real headless Chromium (Debian's chromium) driven through the DevTools
// protocol by chromedp, against the Handler on a real PostgreSQL. The page
// is reached only through its data-testid hooks and visible text.
//
// One browser serves the whole test binary's browser work: only
// TestRegistrarPage uses it, and it closes it when done (the package's
// TestMain belongs to pgtest).

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"github.com/kuvert-app/kuvert/opener"
	"github.com/kuvert-app/kuvert/server/api"
)

// regBrowser starts the browser for t and closes it when t ends.
func regBrowser(t *testing.T) context.Context {
	t.Helper()
	bctx, stop, err := browsertest.Start(chromedp.Env("LANGUAGE=sv", "LANG=sv_SE.UTF-8")) // dates as 2026-11-23
	browsertest.NeedTool(t, err, "headless Chromium")
	t.Cleanup(stop)
	return bctx
}

// regScreenshots is where the pictures go: a temporary folder, or
// KUVERT_SCREENSHOTS (docs/screenshots when the pictures in
// docs/registrar.md are renewed).
func regScreenshots(t *testing.T) string {
	if d := os.Getenv("KUVERT_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// regTab is one tab on the page, its downloads going to dir and every
// console problem recorded.
type regTab struct {
	t        *testing.T
	ctx      context.Context
	dl       *browsertest.Downloads
	mu       sync.Mutex
	problems []string
	// allowed are the HTTP error statuses this tab provokes on purpose:
	// Chromium logs each failed fetch as a console error.
	allowed []int
}

type regTabOptions struct {
	width, height int64
	mobile, dark  bool
	allow         []int
}

// cspWatch records the page's CSP violations where the test can read them
// (a DevTools-injected script: the page's CSP does not govern it).
const cspWatch = `window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`

func newRegTab(t *testing.T, bctx context.Context, url string, o regTabOptions) *regTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx)
	ctx, cancelT := context.WithTimeout(ctx, time.Minute)
	tb := &regTab{t: t, ctx: ctx, dl: browsertest.NewDownloads(t.TempDir()), allowed: o.allow}
	t.Cleanup(func() {
		tb.checkQuiet()
		cancelT()
		cancel()
	})
	err := chromedp.Listen(ctx, func(ev any) {
		tb.dl.Event(ev)
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				tb.problems = append(tb.problems, fmt.Sprintf("console.%s called", e.Type))
			}
		case *runtime.EventExceptionThrown:
			tb.problems = append(tb.problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError && !tb.expected(e.Entry) {
				tb.problems = append(tb.problems, fmt.Sprintf("console (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	w, h := o.width, o.height
	if w == 0 {
		w, h = 1280, 900
	}
	acts := []chromedp.Action[chromedp.Void]{
		browsertest.Call(network.Enable, network.EnableParams{}),
		browsertest.Call(cdplog.Enable, cdp.Empty{}),
		browsertest.Call(runtime.Enable, cdp.Empty{}),
		browsertest.Call(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch}),
		tb.dl.Enable(),
	}
	if o.mobile {
		acts = append(acts, chromedp.EmulateViewport(w, h, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	} else {
		acts = append(acts, chromedp.EmulateViewport(w, h))
	}
	scheme := "light"
	if o.dark {
		scheme = "dark"
	}
	acts = append(acts,
		// A Swedish registrar's browser: dates as 2026-11-23.
		browsertest.Call(emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "sv-SE"}),
		browsertest.Call(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}),
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=token]`)))
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	return tb
}

// expected reports whether a browser log entry is a failed fetch this tab
// provoked on purpose ("the server responded with a status of 403").
func (tb *regTab) expected(e *cdplog.Entry) bool {
	if e.Source != cdplog.EntrySourceNetwork {
		return false
	}
	for _, s := range tb.allowed {
		if strings.Contains(e.Text, fmt.Sprintf("status of %d", s)) {
			return true
		}
	}
	return false
}

// checkQuiet fails the test on console errors, exceptions and CSP
// violations.
func (tb *regTab) checkQuiet() {
	t := tb.t
	t.Helper()
	csp, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`window.__csp || ['the CSP watch is missing']`))
	if err != nil {
		t.Errorf("reading CSP violations: %v", err)
	}
	for _, v := range csp {
		t.Errorf("CSP violation: %s", v)
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		t.Errorf("browser reported: %s", p)
	}
}

func (tb *regTab) run(acts ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	browsertest.Run(tb.t, tb.ctx, acts...)
}

// poll waits until expr is true in the page.
func (tb *regTab) poll(expr string) {
	tb.t.Helper()
	browsertest.Poll(tb.t, tb.ctx, expr, 20*time.Second)
}

// regState is what the page shows, read through its hooks.
type regState struct {
	URL        string   `json:"url"`
	Session    string   `json:"session"` // the token in sessionStorage
	Local      int      `json:"local"`   // localStorage items
	App        bool     `json:"app"`     // signed in
	LoginError string   `json:"loginError"`
	Error      string   `json:"error"`
	Status     string   `json:"status"`
	Verdict    string   `json:"verdict"`
	Size       string   `json:"size"`
	Key        string   `json:"key"`
	Problem    string   `json:"problem"`
	Sealings   []string `json:"sealings"` // each row's text
	States     []string `json:"states"`
	Others     []string `json:"others"`
	Results    string   `json:"results"` // all result text
}

const readRegState = `(() => {
  const q = s => document.querySelector(s);
  const shown = s => { const e = q(s); return e && !e.hidden ? e.textContent : ''; };
  const texts = s => [...document.querySelectorAll(s)].map(e => e.textContent);
  return {
    url: location.href,
    session: sessionStorage.getItem('kuvert.registrar.token') || '',
    local: localStorage.length,
    app: !q('#app').hidden,
    loginError: shown('[data-testid=login-error]'),
    error: shown('[data-testid=error]'),
    status: q('[data-testid=search-status]').textContent,
    verdict: shown('[data-testid=verdict]'),
    size: shown('[data-testid=size]'),
    key: shown('[data-testid=key]'),
    problem: shown('[data-testid=problem]'),
    sealings: texts('[data-testid=sealing]'),
    states: texts('[data-testid=sealing] [data-testid=state]'),
    others: texts('[data-testid=entry]'),
    results: q('#results').hidden ? '' : q('#results').textContent,
  };
})()`

func (tb *regTab) state() regState {
	tb.t.Helper()
	st, err := chromedp.Run(tb.ctx, chromedp.Evaluate[regState](readRegState))
	if err != nil {
		tb.t.Fatal(err)
	}
	return st
}

// signIn types the token and presses the button, then waits for the app
// or a sign-in error.
func (tb *regTab) signIn(tok string) regState {
	tb.t.Helper()
	tb.run(browsertest.JS(`document.querySelector('[data-testid=login-error]').hidden = true`),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=token]`), tok),
		chromedp.Click(chromedp.CSS(`[data-testid=login]`)))
	tb.poll(`!document.querySelector('#app').hidden || !document.querySelector('[data-testid=login-error]').hidden`)
	return tb.state()
}

// search fills the case field, presses Search and waits for the answer.
func (tb *regTab) search(caseNo string) regState {
	tb.t.Helper()
	tb.run(browsertest.JS(`document.querySelector('[data-testid=case]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=case]`), caseNo),
		chromedp.Click(chromedp.CSS(`[data-testid=search]`)))
	tb.poll(`document.querySelector('#search').getAttribute('aria-busy') === 'false' && /Hittade/.test(document.querySelector('[data-testid=search-status]').textContent) || !document.querySelector('#app').hidden && !document.querySelector('[data-testid=error]').hidden || document.querySelector('#app').hidden`)
	return tb.state()
}

func (tb *regTab) waitVerdict() regState {
	tb.t.Helper()
	tb.poll(`!!document.querySelector('[data-testid=verdict]') || !!document.querySelector('#verify-result .problem')`)
	return tb.state()
}

// regContrast finds every visible text on the page whose contrast with
// its background is under WCAG 2.1 AA's 4.5:1.
const regContrast = `(() => {
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = c => { const [r, g, b] = c.match(/[\d.]+/g).map(Number); return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b); };
  const bg = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      const m = c.match(/[\d.]+/g);
      if (m && (m.length < 4 || Number(m[3]) > 0)) return c;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.offsetParent === null) continue;
    const hidden = el.closest('.sr, .skip, thead');
    if (hidden && getComputedStyle(hidden).position === 'absolute') continue;
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    let op = 1;
    for (let e = el; e; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
    if (op < 1) { out.push(el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 30) + '" is translucent'); continue; }
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (r < 4.5) out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' "' + el.textContent.trim().slice(0, 30) + '" ' + r.toFixed(2) + ':1');
  }
  return out;
})()`

func (tb *regTab) checkContrast(what string) {
	tb.t.Helper()
	bad, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](regContrast))
	if err != nil {
		tb.t.Fatal(err)
	}
	for _, b := range bad {
		tb.t.Errorf("%s: contrast under 4.5:1: %s", what, b)
	}
}

func (tb *regTab) shot(name string, dir string) {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// downloads waits for n finished downloads and returns them by name.
func (tb *regTab) downloads(n int) map[string][]byte {
	tb.t.Helper()
	return tb.dl.Wait(tb.t, n, 20*time.Second)
}

// Plain words the page uses for refused tokens and a database that is
// down (server/web/app.js).
const (
	msg401 = "Token är okänd eller återkallad"
	msg403 = "det är en enhets-token"
	msg503 = "Databasen svarar inte"
)

func TestRegistrarPage(t *testing.T) {
	s, url, key := newStore(t)
	bctx := regBrowser(t)
	ctx := context.Background()

	// The log: a sealing for KS 2026/123 whose SMS was sent, then found
	// delivered (an sms-status follow-up without a case: the sealing's
	// state must fold it in all the same), by device pc1; others by pc1
	// and pc2 under other cases.
	seal := entry(auditlog.ActionSeal, "KS 2026/123")
	seal.OperatorName = "Anna Berg"
	seal.Format = "zip-aes"
	seal.Archive = &auditlog.FileRef{Name: "bygglov_beslut.zip", Size: 48213, SHA256: strings.Repeat("ab", 32)}
	seal.Files = []auditlog.FileRef{{Name: "beslut.pdf", Size: 40000, SHA256: strings.Repeat("cd", 32)}, {Name: "ritning.pdf", Size: 8000, SHA256: strings.Repeat("ef", 32)}}
	seal.Password = &auditlog.PasswordRef{Origin: auditlog.OriginGenerated, Bits: 77.5}
	seal.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusPending, Ref: "K7Q2"}
	sms := entry(auditlog.ActionSMS, "KS 2026/123")
	sms.Refers = seal.ID
	sms.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusSent, Ref: "K7Q2", MessageID: "SM0001"}
	status := entry(auditlog.ActionSMSStatus, "")
	status.Refers = seal.ID
	status.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusDelivered, Ref: "K7Q2", MessageID: "SM0001"}
	mail := entry(auditlog.ActionMail, "BUN 2026/55")
	mail.Details = "draft written"
	other := entry(auditlog.ActionSeal, "KS 2026/7")
	other.Operator, other.Host = "bo", "pc2"
	other.Archive = &auditlog.FileRef{Name: "lönelista_mars.zip", Size: 1000, SHA256: strings.Repeat("12", 32)}
	other.Delivery = &auditlog.Delivery{Provider: "twilio", To: "+46 73-*** ** 12", Status: auditlog.StatusFailed, Ref: "X9P4", Error: "invalid number"}
	// An entry that tries to inject markup: shown as text, never run.
	evil := entry(auditlog.ActionMail, `<img src=x onerror="document.title='pwned'">`)
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{seal, sms, mail}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, "pc2", []auditlog.Entry{other, evil}); err != nil {
		t.Fatal(err)
	}
	// The server relayed that SMS for pc1 and recorded it too: the same
	// text (its reference and message id), which the page shows once.
	relayed := s.ownEntry(auditlog.Entry{Action: auditlog.ActionSMS, Refers: seal.ID, Case: "KS 2026/123", Operator: "pc1",
		Delivery: &auditlog.Delivery{Provider: "twilio", To: "+46 70-*** ** 67", Status: auditlog.StatusSent, Ref: "K7Q2", MessageID: "SM0001"}})
	if _, _, err := s.Append(ctx, ServerDevice, []auditlog.Entry{relayed}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append(ctx, "pc1", []auditlog.Entry{status}); err != nil {
		t.Fatal(err)
	}
	const size = 7

	regTok, err := s.AddToken(ctx, "registrator-anna", api.RoleRegistrar)
	if err != nil {
		t.Fatal(err)
	}
	devTok, _ := s.AddToken(ctx, "pc1", api.RoleDevice)
	goneTok, _ := s.AddToken(ctx, "registrator-gammal", api.RoleRegistrar)
	if err := s.RevokeToken(ctx, "registrator-gammal"); err != nil {
		t.Fatal(err)
	}
	laterTok, _ := s.AddToken(ctx, "registrator-bo", api.RoleRegistrar)

	srv := httptest.NewServer(&Handler{Store: s})
	defer srv.Close()
	shots := regScreenshots(t)

	t.Run("desktop", func(t *testing.T) {
		tb := newRegTab(t, bctx, srv.URL+"/", regTabOptions{})
		// By keyboard: the token field has the focus on load, Enter
		// signs in, and the focus moves on to the search.
		tb.run(chromedp.KeyEvent(regTok + "\r"))
		tb.poll(`!document.querySelector('#app').hidden || !document.querySelector('[data-testid=login-error]').hidden`)
		st := tb.state()
		if !st.App || st.LoginError != "" {
			t.Fatalf("signing in: %+v", st)
		}
		if f, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.activeElement.id`)); f != "search-h" {
			t.Errorf("after signing in the focus is on %q, want the search heading", f)
		}
		// The token is in this tab's sessionStorage, nowhere else.
		if st.Session != regTok || st.Local != 0 || strings.Contains(st.URL, regTok) || st.URL != srv.URL+"/" {
			t.Errorf("token kept wrongly: session %q, %d localStorage items, url %s", st.Session, st.Local, st.URL)
		}
		// The first view: the latest entries, both sealings.
		if len(st.Sealings) != 2 {
			t.Errorf("first view: %d sealings, want 2: %q", len(st.Sealings), st.Sealings)
		}
		if !strings.Contains(st.Results, `<img src=x onerror="document.title='pwned'">`) {
			t.Errorf("the entry with markup in its case is not shown as text")
		}
		if title, _ := chromedp.Run(tb.ctx, chromedp.Title()); title == "pwned" {
			t.Errorf("markup from an entry ran")
		}

		st = tb.waitVerdict()
		if !strings.Contains(st.Verdict, "Loggen verifierar.") || strings.Contains(st.Verdict, "INTE") {
			t.Errorf("verdict: %q (problem %q)", st.Verdict, st.Problem)
		}
		if st.Size != fmt.Sprint(size) {
			t.Errorf("verified size %q, want %d", st.Size, size)
		}
		if st.Key != s.VerifierKey() {
			t.Errorf("verifier key %q, want %q", st.Key, s.VerifierKey())
		}

		st = tb.search("KS 2026/123")
		if st.Error != "" {
			t.Fatalf("search: %s", st.Error)
		}
		if len(st.Sealings) != 1 || !strings.Contains(st.Sealings[0], "KS 2026/123") || !strings.Contains(st.Sealings[0], "bygglov_beslut.zip") ||
			!strings.Contains(st.Sealings[0], "+46 70-*** ** 67") || !strings.Contains(st.Sealings[0], "K7Q2") {
			t.Errorf("sealings for KS 2026/123: %q", st.Sealings)
		}
		if len(st.States) != 1 || st.States[0] != auditlog.StatusDelivered.Swedish() {
			t.Errorf("delivery state %q, want %q", st.States, auditlog.StatusDelivered.Swedish())
		}
		// One text, one row: the device's and the relay's records of the
		// SMS (and the status check) in its current state.
		if len(st.Others) != 1 || !strings.Contains(st.Others[0], "sms") || !strings.Contains(st.Others[0], auditlog.StatusDelivered.Swedish()) {
			t.Errorf("other entries for KS 2026/123: %q", st.Others)
		}
		for _, c := range []string{"KS 2026/7", "BUN 2026/55", "lönelista", "pwned"} {
			if strings.Contains(st.Results, c) {
				t.Errorf("the search for KS 2026/123 shows %q", c)
			}
		}
		// The number as people write it: without the prefix, run
		// together, with a dash: the same sealing, nothing else.
		for _, q := range []string{"2026/123", "ks2026-123"} {
			st := tb.search(q)
			if len(st.Sealings) != 1 || !strings.Contains(st.Sealings[0], "KS 2026/123") || strings.Contains(st.Results, "KS 2026/7") {
				t.Errorf("search %q: %q", q, st.Sealings)
			}
		}
		tb.checkContrast("results, light")
		// The recipient page is a link away, and the server serves it.
		if ok, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`!!document.querySelector('a[href="/`+opener.FileName+`"]')`)); !ok {
			t.Errorf("no link to /%s", opener.FileName)
		}
		if res, err := http.Get(srv.URL + "/" + opener.FileName); err != nil || res.StatusCode != 200 {
			t.Errorf("GET /%s: %v %v", opener.FileName, res, err)
		} else {
			res.Body.Close()
		}
		// Every field has a label.
		unlabelled, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id || e.outerHTML)`))
		if err != nil || len(unlabelled) > 0 {
			t.Errorf("fields without a label: %q %v", unlabelled, err)
		}
		tb.shot("registrar-desktop.png", shots)

		// Export: the CSV of the same search, downloaded under today's
		// name.
		tb.run(chromedp.Click(chromedp.CSS(`[data-testid=export]`)))
		got := tb.downloads(1)
		name := "kuvert-logg-" + time.Now().Format("2006-01-02") + ".csv"
		csv, ok := got[name]
		if !ok {
			t.Fatalf("downloads: %v, want %s", keys(got), name)
		}
		if !bytes.HasPrefix(csv, []byte("\uFEFFlöpnummer;")) || !bytes.Contains(csv, []byte("KS 2026/123")) || !bytes.Contains(csv, []byte("levererad")) {
			t.Errorf("the export lacks the header, the case or its state:\n%s", csv)
		}
		if bytes.Contains(csv, []byte("KS 2026/7")) || bytes.Contains(csv, []byte("BUN 2026/55")) {
			t.Errorf("the export holds other cases:\n%s", csv)
		}
		// The sealing and one row for its one text, naming the relay's
		// record of it.
		if lines := bytes.Split(bytes.TrimSpace(csv), []byte("\r\n")); len(lines) != 3 || bytes.Count(csv, []byte("SM0001")) != 2 || !bytes.Contains(lines[2], []byte(relayed.ID)) {
			t.Errorf("the export does not show the SMS once:\n%s", csv)
		}
		tb.poll(`/nedladdad/.test(document.querySelector('[data-testid=search-status]').textContent)`)

		// A reload in the same tab stays signed in (sessionStorage).
		tb.run(chromedp.Reload())
		tb.poll(`!document.querySelector('#app').hidden && document.querySelectorAll('[data-testid=sealing]').length === 2`)
		if st := tb.state(); st.Session != regTok || strings.Contains(st.URL, regTok) {
			t.Errorf("after a reload: session %q, url %s", st.Session, st.URL)
		}
		tb.waitVerdict()

		// Logging out forgets the token and what was shown.
		tb.run(chromedp.Click(chromedp.CSS(`[data-testid=logout]`)))
		tb.poll(`!document.querySelector('#login').hidden`)
		st = tb.state()
		if st.Session != "" || st.App || len(st.Sealings) != 0 || st.Verdict != "" {
			t.Errorf("after logging out: %+v", st)
		}
	})

	t.Run("phone", func(t *testing.T) {
		for _, dark := range []bool{false, true} {
			tb := newRegTab(t, bctx, srv.URL+"/", regTabOptions{width: 360, height: 780, mobile: true, dark: dark})
			if st := tb.signIn(regTok); !st.App {
				t.Fatalf("signing in: %+v", st)
			}
			tb.waitVerdict()
			st := tb.search("KS 2026/123")
			if len(st.Sealings) != 1 || len(st.States) != 1 || st.States[0] != "levererad" {
				t.Errorf("phone search: %q %q", st.Sealings, st.States)
			}
			w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if w > 360 {
				t.Errorf("the page is %d px wide on a 360 px phone", w)
			}
			tb.checkContrast(fmt.Sprintf("phone, dark %v", dark))
			if !dark {
				tb.shot("registrar-phone.png", shots) // the whole page
				continue
			}
			// Dark: one screen, the results as they look on a phone.
			tb.run(browsertest.JS(`document.getElementById('sealings-h').scrollIntoView({block: 'start'})`))
			png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(shots, "registrar-phone-dark.png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("refused tokens", func(t *testing.T) {
		tb := newRegTab(t, bctx, srv.URL+"/", regTabOptions{allow: []int{401, 403}})
		for _, c := range []struct {
			name, tok, want string
		}{
			{"device token", devTok, msg403},
			{"wrong token", "kvt_" + strings.Repeat("A", 43), msg401},
			{"revoked token", goneTok, msg401},
			{"not a token", "hemligt", msg401},
		} {
			st := tb.signIn(c.tok)
			if st.App || !strings.Contains(st.LoginError, c.want) || st.Session != "" {
				t.Errorf("%s: signed in %v, message %q (want %q), session %q", c.name, st.App, st.LoginError, c.want, st.Session)
			}
			if strings.Contains(st.LoginError, "{") || strings.Contains(strings.ToLower(st.LoginError), "goroutine") {
				t.Errorf("%s: not plain words: %q", c.name, st.LoginError)
			}
			if c.name == "device token" {
				tb.checkContrast("sign-in error")
				tb.shot("registrar-refused.png", shots)
			}
		}
		// A token revoked while the page is open: the next search goes
		// back to the sign-in form with the reason.
		if st := tb.signIn(laterTok); !st.App {
			t.Fatalf("signing in: %+v", st)
		}
		tb.waitVerdict()
		if err := s.RevokeToken(ctx, "registrator-bo"); err != nil {
			t.Fatal(err)
		}
		st := tb.search("KS 2026/123")
		if st.App || !strings.Contains(st.LoginError, msg401) || st.Session != "" || len(st.Sealings) != 0 {
			t.Errorf("revoked during the session: %+v", st)
		}
	})

	t.Run("database down", func(t *testing.T) {
		down := openStore(t, url, key)
		down.Close()
		srv2 := httptest.NewServer(&Handler{Store: down})
		defer srv2.Close()
		tb := newRegTab(t, bctx, srv2.URL+"/", regTabOptions{allow: []int{503}})
		st := tb.signIn(regTok)
		if st.App || !strings.Contains(st.LoginError, msg503) {
			t.Errorf("database down: signed in %v, message %q", st.App, st.LoginError)
		}
	})

	t.Run("tampered", func(t *testing.T) { regTampered(t, s, bctx, regTok, shots) })
}

// TestRegistrarPage's last step, run after the others since it edits the
// database behind the log's back.
func regTampered(t *testing.T, s *Store, bctx context.Context, regTok, shots string) {
	if _, err := s.pool.Exec(context.Background(), `UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), 'BUN 2026/55', 'BUN 2026/56'), 'UTF8') WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	// A Handler of its own: the first one keeps its last verdict for a
	// minute while the tree head is unchanged.
	srv := httptest.NewServer(&Handler{Store: s})
	defer srv.Close()
	tb := newRegTab(t, bctx, srv.URL+"/", regTabOptions{})
	if st := tb.signIn(regTok); !st.App {
		t.Fatalf("signing in: %+v", st)
	}
	st := tb.waitVerdict()
	if !strings.Contains(st.Verdict, "Loggen verifierar INTE") || !strings.Contains(st.Problem, "entry 3 was changed") || !strings.Contains(st.Problem, "nr 3") {
		t.Errorf("tampered log: verdict %q, problem %q", st.Verdict, st.Problem)
	}
	bad, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid=verdict]').classList.contains('bad')`))
	if err != nil || !bad {
		t.Errorf("the verdict of a tampered log is not marked bad (%v)", err)
	}
	tb.checkContrast("tampered log")
	png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "registrar-tampered.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	// A search that comes upon the changed entry says so and does not
	// show it as if it were true.
	st = tb.search("BUN 2026/5")
	if !strings.Contains(st.Status, "stämmer inte med den signerade loggen") || !strings.Contains(st.Status, "plats 3") {
		t.Errorf("a search across a changed entry: status %q", st.Status)
	}
	if strings.Contains(st.Results, "BUN 2026/56") {
		t.Errorf("the changed entry is shown: %q", st.Results)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
