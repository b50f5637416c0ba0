package opener

import (
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/crypt"
)

// screenshotDir is where TestPhoneFlow puts its pictures: a temporary
// folder, or KUVERT_SCREENSHOTS (docs/screenshots when the pictures in
// docs/opener.md are renewed: see docs/opener.md).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("KUVERT_SCREENSHOTS"); d != "" {
		return d
	}
	return t.TempDir()
}

// TestPhoneFlow is the recipient on a phone: 390×844 CSS pixels, touch,
// fingers instead of a mouse. The page must fit the width (no sideways
// scrolling), open the attachment and offer its files; the pictures of each
// step go to screenshotDir.
func TestPhoneFlow(t *testing.T) {
	files := []file{{"lönelista_mars.csv", payroll(6<<10, 21)}, {"intyg.pdf", random(30<<10, 22)}}
	arch := seal(t, filepath.Join(t.TempDir(), "lönelista_mars.zip"), files, crypt.SealOptions{})
	shots := screenshotDir(t)
	for _, dark := range []bool{false, true} {
		name := "light"
		if dark {
			name = "dark"
		}
		t.Run(name, func(t *testing.T) {
			tb := newTab(t, tabOptions{width: 390, height: 844, mobile: true, dark: dark})
			shot := func(step string) {
				t.Helper()
				if dark && step != "files" {
					return // one dark picture is enough
				}
				png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				suffix := ""
				if dark {
					suffix = "-dark"
				}
				if err := os.WriteFile(filepath.Join(shots, "opener-"+step+suffix+".png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fits := func(step string) {
				t.Helper()
				w, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				if err != nil {
					t.Fatal(err)
				}
				if w > 390 {
					t.Errorf("%s: the page is %d px wide on a 390 px phone", step, w)
				}
			}
			fits("loaded")
			tb.run(chromedp.SetUploadFiles(chromedp.CSS(`[data-testid=file]`), []string{arch}))
			shot("picked")
			tb.run(chromedp.Tap(chromedp.CSS(`[data-testid=password]`)), chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), "k7pq2-x3mhb-9rtw4-ndc8x"),
				chromedp.Tap(chromedp.CSS(`#showpw`)))
			shot("password")
			tb.run(chromedp.Tap(chromedp.CSS(`[data-testid=open]`)))
			r := tb.wait()
			if len(r.Entries) != 0 || !strings.HasPrefix(r.Error, msgWrongPassword) {
				t.Fatalf("wrong password: got %+v", r)
			}
			fits("error")
			shot("error")
			tb.run(browsertest.JS(`document.querySelector('[data-testid=password]').value = ''`),
				chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), testPassword),
				chromedp.Tap(chromedp.CSS(`[data-testid=open]`)))
			r = tb.wait()
			if r.Error != "" || len(r.Entries) != 2 {
				t.Fatalf("got %+v", r)
			}
			// View the CSV as a table.
			tb.run(chromedp.Tap(chromedp.CSS(`[data-testid=entry]:nth-of-type(1) button`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid=entry] table`)))
			cells, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=entry] th')].map(e => e.textContent)`))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(cells, ";") != "anställningsnummer;namn;enhet;månadslön" {
				t.Errorf("the CSV table's header is %q", cells)
			}
			tb.run(browsertest.JS(`document.activeElement.blur(); document.getElementById('status').scrollIntoView()`))
			fits("files")
			shot("files")
			want(t, tb.save(2), files)
		})
	}
}
