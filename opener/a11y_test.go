package opener

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kuvert-app/kuvert/crypt"
)

func (tb *tab) active() string {
	tb.t.Helper()
	id, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(() => { const e = document.activeElement; return e ? (e.id || e.tagName.toLowerCase()) : '' })()`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return id
}

// With a keyboard alone: Tab reaches every control in reading order,
// Enter in the password field opens the attachment, focus moves to the
// list of files, and a file is saved with Tab and Enter.
func TestKeyboardAlone(t *testing.T) {
	files := []file{{"lönelista.csv", payroll(4<<10, 31)}}
	arch := seal(t, filepath.Join(t.TempDir(), "lista.zip"), files, crypt.SealOptions{})
	tb := newTab(t, tabOptions{})
	var order []string
	for i := 0; i < 6; i++ {
		tb.run(chromedp.KeyEvent(kb.Tab))
		order = append(order, tb.active())
	}
	if got, want := strings.Join(order, " "), "lang file password showpw summary open"; got != want {
		t.Errorf("tab order %q, want %q", got, want)
	}
	// The system's file dialog is outside the page; the file is set as
	// the dialog would set it.
	tb.run(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=file]`), []string{arch}),
		chromedp.Focus(chromedp.CSS(`[data-testid=password]`)),
		chromedp.KeyEvent(testPassword), chromedp.KeyEvent(kb.Enter))
	r := tb.wait()
	if r.Error != "" || len(r.Entries) != 1 {
		t.Fatalf("got %+v", r)
	}
	if a := tb.active(); a != "filesheading" {
		t.Errorf("after opening, focus is on %q, want the files' heading", a)
	}
	for i := 0; i < 4 && tb.active() != "a"; i++ {
		tb.run(chromedp.KeyEvent(kb.Tab))
	}
	tb.run(chromedp.KeyEvent(kb.Enter))
	want(t, tb.waitDownloads(1), files)
}

// Text contrast meets WCAG 2.1 AA (4.5:1) in the light and the dark
// scheme, for every kind of text on the page, an error message included.
func TestContrast(t *testing.T) {
	const ratios = `(() => {
	  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
	  const lum = c => { const [r, g, b] = c.match(/[\d.]+/g).map(Number); return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b); };
	  const bg = el => {
	    for (let e = el; e; e = e.parentElement) {
	      const c = getComputedStyle(e).backgroundColor;
	      const m = c.match(/[\d.]+/g);
	      if (m && (m.length < 4 || Number(m[3]) > 0)) return c;
	    }
	    return 'rgb(255, 255, 255)';
	  };
	  const out = {};
	  for (const s of ['h1', 'main > p', '.private', 'label[for=file]', 'label.pick', '#drophint', '.chosen', 'label[for=password]',
	                   '#pwhint', 'label.check span', '#keybox summary', '#lang', '#open', '[data-testid=error]', 'footer p']) {
	    const el = document.querySelector(s);
	    if (!el || el.offsetParent === null) { out[s] = -1; continue; }
	    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
	    out[s] = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
	  }
	  return out;
	})()`
	arch := seal(t, filepath.Join(t.TempDir(), "lista.zip"), []file{{"a.csv", payroll(1000, 32)}}, crypt.SealOptions{})
	for _, dark := range []bool{false, true} {
		tb := newTab(t, tabOptions{dark: dark})
		// A wrong password shows the error and the chosen file.
		tb.open(arch, "fel-lösenord", "")
		got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[map[string]float64](ratios))
		if err != nil {
			t.Fatal(err)
		}
		for sel, r := range got {
			if r < 4.5 {
				t.Errorf("dark=%v: %s has contrast %.2f:1, want at least 4.5:1", dark, sel, r)
			}
		}
	}
}

// waitDownloads waits for n finished downloads and returns them by name.
func (tb *tab) waitDownloads(n int) map[string][]byte {
	tb.t.Helper()
	return tb.dl.Wait(tb.t, n, time.Minute)
}
