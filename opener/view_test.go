package opener

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/crypt"
)

// minimalPDF is a one-page PDF that says "Intyg 2026".
func minimalPDF() []byte {
	stream := "BT /F1 24 Tf 40 100 Td (Intyg 2026) Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

func smallPNG(t *testing.T, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Files are shown in the page where a browser can show them: a PDF in a
// frame from a blob: URL, an image, text; the CSP allows exactly that.
func TestViewsFiles(t *testing.T) {
	files := []file{
		{"intyg.pdf", minimalPDF()},
		{"karta.png", smallPNG(t, 64, 48)},
		{"läsmig.txt", []byte("Hej!\nDet här är en textfil med å, ä och ö.\n")},
	}
	arch := seal(t, filepath.Join(t.TempDir(), "visa.zip"), files, crypt.SealOptions{})
	tb := newTab(t, tabOptions{})
	if r := tb.open(arch, testPassword, ""); r.Error != "" || len(r.Entries) != 3 {
		t.Fatalf("got %+v", r)
	}
	for i := 1; i <= 3; i++ {
		tb.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=entry]:nth-of-type(%d) button`, i))))
	}
	tb.poll(`(() => { const i = document.querySelector('.preview img'); return !!i && i.complete && i.naturalWidth > 0 && !!document.querySelector('.preview pre') })()`)
	type shown struct {
		Frame    string `json:"frame"`
		ImgW     int    `json:"imgW"`
		ImgH     int    `json:"imgH"`
		Text     string `json:"text"`
		Expanded string `json:"expanded"`
	}
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[shown](`({
		frame: document.querySelector('.preview iframe').src,
		imgW: document.querySelector('.preview img').naturalWidth,
		imgH: document.querySelector('.preview img').naturalHeight,
		text: document.querySelector('.preview pre').textContent,
		expanded: document.querySelector('[data-testid=entry] button').getAttribute('aria-expanded'),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Frame) < 5 || got.Frame[:5] != "blob:" {
		t.Errorf("the PDF frame shows %q, want a blob: URL", got.Frame)
	}
	if got.ImgW != 64 || got.ImgH != 48 {
		t.Errorf("the image shows as %d×%d, want 64×48", got.ImgW, got.ImgH)
	}
	if got.Text != string(files[2].data) {
		t.Errorf("the text shows as %q", got.Text)
	}
	if got.Expanded != "true" {
		t.Errorf("the View button's aria-expanded is %q", got.Expanded)
	}
}
