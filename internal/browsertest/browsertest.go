// Package browsertest starts Debian's headless Chromium for kuvert's
// browser tests (the recipient page in opener/, the registrar's page in
// server/) and holds the helpers they share. Only tests import it.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// InCI is true under CI=true: a missing tool then fails a test instead of
// skipping it.
var InCI = os.Getenv("CI") == "true"

// NeedTool fails (under CI=true) or skips t when err says a tool is
// missing.
func NeedTool(t testing.TB, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if InCI {
		t.Fatalf("%s: %v (CI=true: install it, e.g. with make deps)", what, err)
	}
	t.Skipf("%s: %v (install it with make deps; under CI=true this fails)", what, err)
}

// ChromiumPath finds Debian's chromium (or KUVERT_CHROMIUM).
func ChromiumPath() (string, error) {
	if p := os.Getenv("KUVERT_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found")
}

// Start starts a headless Chromium (Swedish, without the sandbox: tests
// run as root in containers) with extra options, and returns its context
// and the function that stops it. The browser is started at once, so a
// broken install is reported here.
func Start(extra ...chromedp.ExecAllocatorOption) (context.Context, func(), error) {
	exe, err := ChromiumPath()
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "sv-SE"),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	bctx, cancelB := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		cancelB()
		cancelA()
		return nil, nil, fmt.Errorf("starting %s: %w", exe, err)
	}
	return bctx, func() { cancelB(); cancelA() }, nil
}

// Call makes an action of one DevTools command.
func Call[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cmd, params)
		return err
	})
}

// JS runs a script in the page and ignores its value.
func JS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return err
	})
}

// Run runs actions in the tab ctx and fails t on an error.
func Run(t testing.TB, ctx context.Context, acts ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, acts...); err != nil {
		t.Fatal(err)
	}
}

// Poll waits up to timeout until expr is true in the page of ctx.
func Poll(t testing.TB, ctx context.Context, expr string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// Downloads records the files a tab downloads into Dir: give every event
// of the tab to Event, run Enable with the tab's first actions, and Wait
// for them.
type Downloads struct {
	Dir      string
	mu       sync.Mutex
	names    map[string]string // GUID → the name the page suggested
	finished map[string]bool
}

// NewDownloads records downloads into dir.
func NewDownloads(dir string) *Downloads {
	return &Downloads{Dir: dir, names: map[string]string{}, finished: map[string]bool{}}
}

// Enable routes the tab's downloads to Dir, with progress events.
func (d *Downloads) Enable() chromedp.Action[chromedp.Void] {
	yes := true
	return Call(browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: d.Dir, EventsEnabled: &yes})
}

// Event takes note of a download event; other events are ignored.
func (d *Downloads) Event(ev any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch e := ev.(type) {
	case *browser.EventDownloadWillBegin:
		d.names[e.GUID] = e.SuggestedFilename
	case *browser.EventDownloadProgress:
		if e.State == browser.DownloadProgressStateCompleted {
			d.finished[e.GUID] = true
		}
	}
}

// Finished is how many downloads have finished.
func (d *Downloads) Finished() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.finished)
}

// Wait waits up to timeout for n finished downloads and returns every
// finished one by its suggested name.
func (d *Downloads) Wait(t testing.TB, n int, timeout time.Duration) map[string][]byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for d.Finished() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d downloads finished", d.Finished(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string][]byte{}
	for guid := range d.finished {
		b, err := os.ReadFile(filepath.Join(d.Dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		out[d.names[guid]] = b
	}
	return out
}
