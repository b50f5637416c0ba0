package gui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
)

// clipboardTTL is how long a copied password stays on the clipboard.
var clipboardTTL = 45 * time.Second

// copyPassword puts the password on the clipboard and takes it off again
// after clipboardTTL, unless something else was copied meanwhile.
func (v *sealView) copyPassword() {
	pw := v.form.Generated.Value
	cb := v.u.deps.Clipboard
	cb.SetContent(pw)
	v.status.SetText(lang.L("seal.copied", map[string]any{"Seconds": int(clipboardTTL.Seconds())}))
	v.work.Add(1)
	time.AfterFunc(clipboardTTL, func() {
		defer v.work.Done()
		fyne.Do(func() { clearClipboard(cb, pw) })
	})
}

// clearClipboard empties the clipboard if it still holds pw.
func clearClipboard(cb fyne.Clipboard, pw string) {
	if cb.Content() == pw {
		cb.SetContent("")
	}
}
