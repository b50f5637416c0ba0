package gui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/sms"
)

// showResult shows where the archive is, how the password went and the
// reference. With the demo provider nothing was sent, so the generated
// password is shown as when no number was given.
func (v *sealView) showResult(res *envelope.Result, pw crypt.Password, sent *sentMessage) {
	v.status.SetText(lang.L("result.title"))
	add := func(o fyne.CanvasObject) { v.result.Add(o) }
	wrap := func(s string) *widget.Label { l := widget.NewLabel(s); l.Wrapping = fyne.TextWrapWord; return l }
	add(wrap(lang.L("result.archive", map[string]any{"Path": res.Archive})))
	add(container.NewHBox(
		widget.NewButtonWithIcon(showFileLabel(), theme.FolderOpenIcon(), func() { v.showArchive(res.Archive) }),
		widget.NewButtonWithIcon(lang.L("result.draft"), theme.MailComposeIcon(), v.askDraft),
	))
	showPassword := pw.Origin == "generated"
	if d := res.Delivery; d != nil {
		if d.Status == sms.StatusDemo {
			// Nothing was sent: say so in the app's words, show the text
			// that would have gone, and the password, which reached nobody.
			add(widget.NewLabelWithStyle(lang.L("result.demo.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			add(wrap(lang.L("result.demo.message", map[string]any{"To": d.To})))
			msg := wrap(sent.Body())
			msg.TextStyle = fyne.TextStyle{Italic: true}
			add(msg)
			add(wrap(lang.L("result.demo.hint")))
		} else {
			// The state in the window's language ("köad hos
			// leverantören"), never the provider's word ("queued").
			state := &auditlog.Delivery{Provider: d.Provider, Status: auditlog.Status(d.Status)}
			add(wrap(lang.L("result.sms", map[string]any{"To": d.To, "Status": deliveryWords(state)})))
			showPassword = false
		}
		ref := widget.NewLabelWithStyle(lang.L("result.ref", map[string]any{"Ref": d.Ref}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		add(ref)
	}
	if showPassword {
		add(widget.NewLabelWithStyle(lang.L("result.password", map[string]any{"Password": pw.Value}), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
	}
	if res.Scan.Personnummer > 0 {
		add(wrap(lang.L("result.pnr", map[string]any{"Count": res.Scan.Personnummer})))
	}
	if res.Scan.NamesHidden {
		add(wrap(lang.L("result.hidden")))
	}
	add(widget.NewLabelWithStyle(lang.L("result.reminder"), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}))
	v.u.logv.refresh()
	d := dialog.NewCustom(lang.L("result.title"), lang.L("result.close"), container.NewPadded(v.result), v.u.win)
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
}

// reset empties the form after a sealing, ready for the next recipient:
// no file, number or case carried over by mistake, and a new password.
func (v *sealView) reset() {
	v.mu.Lock()
	v.form.Files = nil
	v.mu.Unlock()
	v.list.Refresh()
	v.phone.SetText("")
	v.name.SetText("")
	v.caseID.SetText("")
	v.form.ArchiveName = ""
	v.ownPw.SetText("")
	v.newPassword()
	v.validate()
}

func (v *sealView) askDraft() {
	if v.last == nil {
		return
	}
	to := widget.NewEntry()
	to.SetPlaceHolder("namn@example.se")
	d := dialog.NewForm(lang.L("result.draft"), "OK", lang.L("seal.cancel"), []*widget.FormItem{widget.NewFormItem(lang.L("result.draft.to"), to)}, func(ok bool) {
		if ok {
			if path := v.writeDraft(to.Text); path != "" {
				v.openDraft(path)
			}
		}
	}, v.u.win)
	// A form dialog is as narrow as its widest part: an empty entry
	// would leave room for a few letters of the address.
	d.Resize(fyne.NewSize(600, d.MinSize().Height))
	d.Show()
	v.u.win.Canvas().Focus(to)
}

// writeDraft writes ARCHIVE.eml beside the last archive: attached, a
// neutral subject, the reference, never the password. It returns the
// draft's path, "" when none was written.
func (v *sealView) writeDraft(to string) string {
	cfg := v.u.config()
	// Force: the draft beside an archive is this window's own (archive
	// names are never reused), and asking again, say after closing the
	// mail program, writes it anew rather than failing.
	d := envelope.Draft{To: strings.TrimSpace(to), Lang: cfg.SMS.Language, ByAge: strings.HasPrefix(v.last.Format, "age"), OpenerURL: cfg.OpenerURL, Force: true}
	// The draft names the SMS's reference only when an SMS went: a demo
	// showed its text to nobody, and the draft must not tell the
	// recipient a password is on its way.
	if v.last.Delivery != nil && v.last.Delivery.Status != sms.StatusDemo {
		d.Ref = v.last.Delivery.Ref
	}
	path, err := envelope.WriteDraft(v.last.Archive, d)
	if err != nil {
		v.showError(err)
		return ""
	}
	v.status.SetText(lang.L("result.draft.done", map[string]any{"Path": path}))
	return path
}
