package opener

// The page tested the way a recipient uses it: a real headless Chromium
// (Debian's chromium) driven through the DevTools protocol by chromedp. The
// only hooks used are the data-testid contract of docs/opener.md.

import (
	"context"
	"fmt"
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// One browser for the whole test binary; each test opens its own tab.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
	pageServer    *httptest.Server
	pageHits      atomic.Int64 // requests the server got
	pageLoads     atomic.Int64 // of them, the loads of the page by newTab
)

func TestMain(m *testing.M) {
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	if pageServer != nil {
		pageServer.Close()
	}
	os.Exit(code)
}

func startBrowser(t testing.TB) context.Context {
	t.Helper()
	browserOnce.Do(func() {
		// Started now, so that a broken install is reported once.
		browserCtx, browserCancel, browserErr = browsertest.Start()
		if browserErr != nil {
			return
		}
		pageServer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pageHits.Add(1)
			if r.URL.Path == "/probe" {
				// TestNothingLeaves navigates here on purpose. A page
				// with an icon of its own, so that the browser asks for
				// no /favicon.ico after the test has counted the probe.
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, `<!doctype html><link rel="icon" href="data:,"><title>probe</title>`)
				return
			}
			if r.URL.Path != "/"+FileName {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(page)
		}))
	})
	browsertest.NeedTool(t, browserErr, "headless Chromium")
	return browserCtx
}

// request is one entry of the DevTools network log.
type request struct {
	id           network.RequestID
	url          string
	blockedByCSP bool // the browser refused it before it left
}

// tab is one page load in its own tab, with its downloads going to dir and
// every network request and console problem recorded.
type tab struct {
	t        testing.TB
	ctx      context.Context
	dl       *browsertest.Downloads
	loaded   atomic.Bool
	mu       sync.Mutex
	requests []request // requested after load
	problems []string  // console errors, exceptions, CSP reports
}

type tabOptions struct {
	width, height int64
	mobile        bool
	dark          bool
	throttle      float64
	url           string // default: the page on the loopback server
}

func newTab(t testing.TB, o tabOptions) *tab {
	t.Helper()
	bctx := startBrowser(t)
	ctx, cancel := chromedp.NewContext(bctx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	tb := &tab{t: t, ctx: ctx, dl: browsertest.NewDownloads(t.TempDir())}
	t.Cleanup(func() {
		tb.checkQuiet(t)
		cancelT()
		cancel()
	})
	listenErr := chromedp.Listen(ctx, func(ev any) {
		tb.dl.Event(ev)
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if tb.loaded.Load() {
				tb.requests = append(tb.requests, request{id: e.RequestID, url: e.Request.URL})
			}
		case *network.EventLoadingFailed:
			for i := range tb.requests {
				if tb.requests[i].id == e.RequestID && e.BlockedReason == network.BlockedReasonCsp {
					tb.requests[i].blockedByCSP = true
				}
			}
		case *runtime.EventConsoleAPICalled:
			// The page logs nothing; whatever it did log must not hold
			// a password.
			for _, a := range e.Args {
				if strings.Contains(string(a.Value)+a.Description, testPassword) {
					tb.problems = append(tb.problems, "the password was logged to the console")
				}
			}
		case *runtime.EventExceptionThrown:
			tb.problems = append(tb.problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				tb.problems = append(tb.problems, "console: "+e.Entry.Text)
			}
		}
	})
	if listenErr != nil {
		t.Fatal(listenErr)
	}
	w, h := o.width, o.height
	if w == 0 {
		w, h = 1200, 900
	}
	acts := []chromedp.Action[chromedp.Void]{
		browsertest.Call(network.Enable, network.EnableParams{}),
		browsertest.Call(cdplog.Enable, cdp.Empty{}),
		browsertest.Call(runtime.Enable, cdp.Empty{}),
		tb.dl.Enable(),
	}
	if o.mobile {
		acts = append(acts, chromedp.EmulateViewport(w, h, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	} else {
		acts = append(acts, chromedp.EmulateViewport(w, h))
	}
	if o.dark {
		acts = append(acts, browsertest.Call(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}))
	}
	if o.throttle > 1 {
		acts = append(acts, browsertest.Call(emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: o.throttle}))
	}
	url := o.url
	if url == "" {
		url = pageServer.URL + "/" + FileName
	} else {
		pageLoads.Add(-1) // this load does not reach the server
	}
	acts = append(acts, chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=open]`)))
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatalf("loading the page: %v", err)
	}
	pageLoads.Add(1)
	tb.loaded.Store(true)
	return tb
}

// checkQuiet fails the test if the page made any request after it loaded:
// nothing may leave the device. blob: URLs (the files the page made
// itself, shown or saved) are not requests to anywhere and are allowed;
// the browser's own PDF viewer (a chrome-extension: URL) is not: the page
// never shows a PDF, because that viewer runs the PDF's scripts.
func (tb *tab) checkQuiet(t testing.TB) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, r := range tb.requests {
		u := r.url
		if strings.Contains(u, testPassword) {
			t.Errorf("the password appeared in a URL: %s", u)
		}
		if !strings.HasPrefix(u, "blob:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page made a request after load: %s", u)
		}
	}
	if extra := pageHits.Load() - pageLoads.Load(); extra != 0 {
		// Every request the server got must be a page load by newTab.
		t.Errorf("the server got %d request(s) besides loading the page", extra)
		pageLoads.Add(extra) // report it once
	}
	for _, p := range tb.problems {
		t.Errorf("browser reported: %s", p)
	}
}

func (tb *tab) run(acts ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	browsertest.Run(tb.t, tb.ctx, acts...)
}

// poll waits until expr is true in the page.
func (tb *tab) poll(expr string) {
	tb.t.Helper()
	browsertest.Poll(tb.t, tb.ctx, expr, 30*time.Second)
}

// entry is one opened file as the contract shows it.
type entry struct {
	Name string `json:"name"` // the link's download attribute
	Text string `json:"text"` // the entry's visible text
}

// result is what the page shows after Open.
type result struct {
	Entries []entry `json:"entries"`
	Error   string  `json:"error"`
	URL     string  `json:"url"`
}

const readResult = `(() => ({
  url: location.href,
  entries: [...document.querySelectorAll('[data-testid=entry]')].map(e => {
    const a = e.querySelector('a[download]');
    return {name: a ? a.getAttribute('download') : '', text: e.textContent};
  }),
  error: (() => { const e = document.querySelector('[data-testid=error]'); return e && !e.hidden ? e.textContent : ''; })(),
}))()`

// open picks file, types the password and (if key != "") pastes an age
// key, presses Open and waits for files or an error.
func (tb *tab) open(file, password, key string) result {
	tb.t.Helper()
	acts := []chromedp.Action[chromedp.Void]{
		chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=file]`), []string{file}),
		browsertest.JS(`document.querySelector('[data-testid=password]').value = ''`),
	}
	if password != "" {
		acts = append(acts, chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), password))
	}
	if key != "" {
		acts = append(acts, browsertest.JS(`document.getElementById('keybox').open = true`),
			chromedp.SetValue(chromedp.CSS(`[data-testid=key]`), key))
	}
	acts = append(acts, chromedp.Click(chromedp.CSS(`[data-testid=open]`)))
	tb.run(acts...)
	return tb.wait()
}

func (tb *tab) wait() result {
	tb.t.Helper()
	_, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](`document.querySelectorAll('[data-testid=entry]').length > 0 || !document.querySelector('[data-testid=error]').hidden`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
	if err != nil {
		tb.t.Fatal(err)
	}
	r, err := chromedp.Run(tb.ctx, chromedp.Evaluate[result](readResult))
	if err != nil {
		tb.t.Fatal(err)
	}
	if strings.Contains(r.URL, testPassword) || !strings.HasSuffix(r.URL, "/"+FileName) {
		tb.t.Errorf("the page's address changed to %s", r.URL)
	}
	return r
}

// save clicks the save link of every entry, as a user does, and returns
// the saved bytes by suggested file name.
func (tb *tab) save(n int) map[string][]byte {
	tb.t.Helper()
	for i := 1; i <= n; i++ {
		tb.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=entry]:nth-of-type(%d) a[download]`, i))))
	}
	return tb.waitDownloads(n)
}
