package opener

import (
	"github.com/kuvert-app/kuvert/internal/browsertest"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/kuvert-app/kuvert/crypt"
)

// On a computer the recipient may drag the attachment from the mail
// program onto the page instead of choosing it.
func TestDragAndDrop(t *testing.T) {
	files := []file{{"protokoll.txt", payroll(2<<10, 41)}}
	arch := seal(t, filepath.Join(t.TempDir(), "protokoll.zip"), files, crypt.SealOptions{})
	tb := newTab(t, tabOptions{})
	box, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.getElementById('drop').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2] })()`))
	if err != nil {
		t.Fatal(err)
	}
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: []string{arch}, DragOperationsMask: 1}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		tb.run(browsertest.Call(input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: box[0], Y: box[1], Data: data}))
	}
	tb.poll(`document.getElementById('chosen').textContent.includes('protokoll.zip')`)
	tb.run(chromedp.SendKeys(chromedp.CSS(`[data-testid=password]`), testPassword), chromedp.Click(chromedp.CSS(`[data-testid=open]`)))
	if r := tb.wait(); r.Error != "" || len(r.Entries) != 1 {
		t.Fatalf("got %+v", r)
	}
	want(t, tb.save(1), files)
}
