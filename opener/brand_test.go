package opener

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/crypt"
)

// hostileName is an organisation's name that would be markup if it were
// put into the page as it is.
const hostileName = `Sundsvalls kommun <script>document.title="x"</script> & "<img src=x onerror=alert(1)>"`

// phoneLook is what the recipient sees on a phone, measured in the page.
type phoneLook struct {
	From       string  `json:"from"`       // the text of the organisation's line
	Logo       int     `json:"logo"`       // the logo's decoded width, 0 without one
	Scripts    int     `json:"scripts"`    // <script> elements in the page
	Footer     string  `json:"footer"`     // the footer's text
	KeyOpen    bool    `json:"keyOpen"`    // the age-key part is open
	KeyHeight  float64 `json:"keyHeight"`  // its height in CSS pixels
	OpenBottom float64 `json:"openBottom"` // the Open button's bottom edge, from the top of the page
}

const readLook = `(() => {
  const from = document.querySelector('[data-testid=from]');
  const logo = document.querySelector('[data-testid=logo]');
  const key = document.getElementById('keybox');
  const open = document.querySelector('[data-testid=open]').getBoundingClientRect();
  return {
    from: from ? from.textContent : '',
    logo: logo && logo.complete ? logo.naturalWidth : 0,
    scripts: document.querySelectorAll('script').length,
    footer: document.querySelector('footer').textContent,
    keyOpen: key.open,
    keyHeight: key.getBoundingClientRect().height,
    openBottom: open.bottom + window.scrollY,
  };
})()`

func writePage(t *testing.T, p []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, p, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The recipient on a phone (390×844) sees whose page it is, the name as
// text however it is spelt, the logo drawn; the age-key part is one small
// closed line; once the attachment is open, the page has scrolled to the
// files. In English too.
func TestBrandedPageOnPhone(t *testing.T) {
	p, err := Branded(Brand{Organisation: "Sundsvalls kommun", Logo: smallPNG(t, 120, 40)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := []file{{"lönelista_mars.csv", payroll(40<<10, 71)}, {"intyg.pdf", random(30<<10, 72)}, {"bild.bin", random(20<<10, 73)}}
	arch := seal(t, filepath.Join(dir, "lönelista_mars.zip"), files, crypt.SealOptions{})
	tb := newTab(t, tabOptions{width: 390, height: 844, mobile: true, url: "file://" + writePage(t, p)})
	look, err := chromedp.Run(tb.ctx, chromedp.Evaluate[phoneLook](readLook))
	if err != nil {
		t.Fatal(err)
	}
	if look.From != "Från Sundsvalls kommun" || look.Logo != 120 {
		t.Errorf("the organisation's line reads %q with a logo %d px wide; want %q and the 120 px PNG drawn", look.From, look.Logo, "Från Sundsvalls kommun")
	}
	if strings.Contains(look.Footer, "kommer från kuvert") {
		t.Errorf("footer: %q", look.Footer)
	}
	if look.KeyOpen || look.KeyHeight > 60 {
		t.Errorf("the age-key part is open=%v and %.0f px high on a phone; want one closed line", look.KeyOpen, look.KeyHeight)
	}
	t.Logf("phone: age-key part %.0f px high, Open button ends %.0f px down", look.KeyHeight, look.OpenBottom)
	if png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()); err == nil {
		os.WriteFile(filepath.Join(screenshotDir(t), "opener-branded.png"), png, 0o644)
	}
	if r := tb.open(arch, testPassword, ""); r.Error != "" || len(r.Entries) != 3 {
		t.Fatalf("got %+v", r)
	}
	type position struct {
		Top, ScrollY float64
	}
	pos, err := chromedp.Run(tb.ctx, chromedp.Evaluate[position](`({Top: document.getElementById('results').getBoundingClientRect().top, ScrollY: window.scrollY})`))
	if err != nil {
		t.Fatal(err)
	}
	if pos.ScrollY == 0 || pos.Top < -1 || pos.Top > 40 {
		t.Errorf("after opening, the files start %.0f px down the screen (scrolled %.0f px); want the page scrolled to them", pos.Top, pos.ScrollY)
	}
	t.Logf("phone: after opening, scrolled %.0f px, files start %.0f px down the screen", pos.ScrollY, pos.Top)
	if png, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()); err == nil {
		os.WriteFile(filepath.Join(screenshotDir(t), "opener-branded-files.png"), png, 0o644)
	}
	tb.run(chromedp.Click(chromedp.CSS(`[data-testid=lang]`)))
	from, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=from]').textContent`))
	if err != nil || from != "From Sundsvalls kommun" {
		t.Errorf("in English the line reads %q (%v)", from, err)
	}
}

// A name is text in the page, whatever it holds.
func TestBrandedNameIsText(t *testing.T) {
	p, err := Branded(Brand{Organisation: hostileName})
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, tabOptions{width: 390, height: 844, mobile: true, url: "file://" + writePage(t, p)})
	look, err := chromedp.Run(tb.ctx, chromedp.Evaluate[phoneLook](readLook))
	if err != nil {
		t.Fatal(err)
	}
	if look.From != "Från "+hostileName || look.Scripts != 1 || look.Logo != 0 {
		t.Errorf("the organisation's line reads %q with %d script elements and a logo %d px wide; want %q as text, the page's one script and no logo", look.From, look.Scripts, look.Logo, "Från "+hostileName)
	}
}

// Without a name the page is the built page, byte for byte, and its
// SHA-256 the one published for it; with one, only the marked place
// changes.
func TestBrandedBytes(t *testing.T) {
	p, err := Branded(Brand{})
	if err != nil || !bytes.Equal(p, Page()) || SHA256Of(p) != SHA256() {
		t.Fatalf("unbranded page differs from Page() (%v)", err)
	}
	b, err := Branded(Brand{Organisation: "Å & <b>"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(marker)) || !bytes.Contains(b, []byte(`<strong id="organisation">Å &amp; &lt;b&gt;</strong>`)) {
		t.Errorf("the name is not in its place, escaped")
	}
	i := bytes.Index(page, []byte(marker))
	if !bytes.Equal(b[:i], page[:i]) || !bytes.HasSuffix(b, page[i+len(marker):]) {
		t.Errorf("more than the marked place changed")
	}
	if bytes.Contains(b, []byte(`<img`)) && !bytes.Contains(page, []byte(`<img`)) {
		t.Errorf("a logo appeared that was not given")
	}
}

func jpegBytes(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// What is refused, and why.
func TestBrandRefuses(t *testing.T) {
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	pngb := smallPNG(t, 10, 10)
	for name, c := range map[string]struct {
		b    Brand
		want error
	}{
		"svg":            {Brand{Organisation: "K", Logo: svg}, ErrLogoType},
		"gif":            {Brand{Organisation: "K", Logo: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")}, ErrLogoType},
		"cut png":        {Brand{Organisation: "K", Logo: pngb[:len(pngb)-20]}, ErrLogoType},
		"too many bytes": {Brand{Organisation: "K", Logo: append(smallPNG(t, 10, 10), make([]byte, MaxLogoBytes)...)}, ErrLogoSize},
		"too wide":       {Brand{Organisation: "K", Logo: smallPNG(t, MaxLogoSide+1, 1)}, ErrLogoSize},
		"logo, no name":  {Brand{Logo: pngb}, ErrOrganisation},
		"blank name":     {Brand{Organisation: " \t "}, ErrOrganisation},
		"control":        {Brand{Organisation: "K\u0007ommun"}, ErrOrganisation},
		"newline":        {Brand{Organisation: "K\nommun"}, ErrOrganisation},
		"bad utf-8":      {Brand{Organisation: "K\xffommun"}, ErrOrganisation},
		"long":           {Brand{Organisation: strings.Repeat("å", MaxOrganisationRune+1)}, ErrOrganisation},
	} {
		if p, err := Branded(c.b); !errors.Is(err, c.want) || p != nil {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if p, err := Branded(Brand{Organisation: "K", Logo: jpegBytes(t, 30, 20)}); err != nil || !bytes.Contains(p, []byte(`src="data:image/jpeg;base64,`)) {
		t.Errorf("a JPEG logo: %v", err)
	}
}
