package opener

import (
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"strings"
	"testing"
	"time"
)

// TestNothingLeaves tries, from inside the page, every way a script could
// send something out (fetch, an image, a beacon, a script, a frame, a
// form), as a compromised dependency would: the Content-Security-Policy
// must stop each one before it reaches the network. Then it checks that
// the network log of these tests would see a request if there were one.
func TestNothingLeaves(t *testing.T) {
	tb := newTab(t, tabOptions{})
	base := pageServer.URL
	tb.run(browsertest.JS(`(() => {
	  const u = '` + base + `/leak';
	  fetch(u + '?fetch').catch(() => {});
	  new Image().src = u + '?img';
	  try { navigator.sendBeacon(u + '?beacon', 'x'); } catch (e) {}
	  const s = document.createElement('script'); s.src = u + '?script'; document.body.append(s);
	  const f = document.createElement('iframe'); f.src = u + '?frame'; document.body.append(f);
	  const l = document.createElement('link'); l.rel = 'stylesheet'; l.href = u + '?css'; document.head.append(l);
	  try { new Worker(u + '?worker'); } catch (e) {}
	  const form = document.createElement('form'); form.method = 'post'; form.action = u + '?form'; document.body.append(form);
	  try { form.submit(); } catch (e) {}
	})()`))
	// Wait for the browser's reports (the refusals are asynchronous):
	// the form's, sent last, too, and then until no more come for half a
	// second (on a busy machine the form's came after a fixed 200 ms,
	// and the tab then took it for an unexpected problem).
	eventually(func() bool {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		all := strings.Join(tb.problems, "\n")
		return strings.Count(all, "Content Security Policy") >= 5 && strings.Contains(all, "form-action")
	})
	for n := -1; ; {
		tb.mu.Lock()
		m := len(tb.problems)
		tb.mu.Unlock()
		if m == n {
			break
		}
		n = m
		time.Sleep(500 * time.Millisecond)
	}
	tb.mu.Lock()
	refused := strings.Join(tb.problems, "\n")
	tb.problems = nil // expected: the browser reports each refusal
	// Chromium logs some attempts (img, script, css) before its CSP check
	// refuses them: each must be marked blocked by CSP.
	for _, r := range tb.requests {
		if !r.blockedByCSP && !strings.HasPrefix(r.url, "data:") { // data: is the browser's own error page
			t.Errorf("not blocked by the CSP: %s", r.url)
		}
	}
	tb.requests = nil
	tb.mu.Unlock()
	if !strings.Contains(refused, "Content Security Policy") {
		t.Errorf("the browser reported no CSP refusal; it reported:\n%s", refused)
	}
	if extra := pageHits.Load() - pageLoads.Load(); extra != 0 {
		t.Fatalf("%d request(s) reached the server", extra)
	}

	// The check itself: a navigation after load is a request, and the
	// recorder and the server both see it.
	probe := newTab(t, tabOptions{})
	probe.run(browsertest.JS(`location.href = '` + base + `/probe'`))
	eventually(func() bool {
		probe.mu.Lock()
		defer probe.mu.Unlock()
		return len(probe.requests) > 0 && pageHits.Load() > pageLoads.Load()
	})
	probe.mu.Lock()
	var seen []string
	for _, r := range probe.requests {
		seen = append(seen, r.url)
	}
	probe.requests = nil
	probe.problems = nil
	probe.mu.Unlock()
	if len(seen) == 0 || !strings.Contains(seen[0], "/probe") {
		t.Errorf("the network recorder missed a navigation: %q", seen)
	}
	extra := pageHits.Load() - pageLoads.Load()
	if extra < 1 {
		t.Errorf("the server counted no probe")
	}
	pageLoads.Add(extra) // the probe (and the browser's favicon request for it) were meant
}

// eventually waits up to 10 s for cond.
func eventually(cond func() bool) {
	for deadline := time.Now().Add(10 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}
