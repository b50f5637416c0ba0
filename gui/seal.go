package gui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/internal/bytesize"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

type fileItem struct {
	path string
	size int64
	pnr  int // personnummer found by the guard (name and content)
}

type sealView struct {
	u       *UI
	content fyne.CanvasObject

	mu    sync.Mutex
	files []fileItem

	list      *widget.List
	dropHint  *fyne.Container
	format    *widget.RadioGroup
	formatTip *widget.Label

	pwMode    *widget.RadioGroup
	generated crypt.Password
	pwText    *canvas.Text
	pwCopy    *widget.Button
	pwNew     *widget.Button
	ownPw     *widget.Entry
	strength  *widget.ProgressBar
	strLabel  *widget.Label
	genBox    *fyne.Container
	ownBox    *fyne.Container
	phone     *widget.Entry
	phoneInfo *widget.Label
	name      *widget.Entry
	caseID    *widget.Entry
	primary   *widget.Button
	cancelBtn *widget.Button
	progress  *widget.ProgressBar
	status    *widget.Label
	result    *fyne.Container

	cancel context.CancelFunc
	busy   bool
	// work counts background jobs (sealing, guard scans), so tests can
	// wait for them; with the test driver fyne.Do runs inside the job.
	work sync.WaitGroup
	last *envelope.Result // the last sealing, for the e-mail draft
}

func newSealView(u *UI) *sealView {
	v := &sealView{u: u}

	v.list = widget.NewList(
		func() int { v.mu.Lock(); defer v.mu.Unlock(); return len(v.files) },
		func() fyne.CanvasObject {
			warn := widget.NewIcon(theme.WarningIcon())
			pnr := widget.NewLabel("")
			pnr.Importance = widget.WarningImportance
			return container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()),
				container.NewHBox(warn, pnr, widget.NewButtonWithIcon("", theme.DeleteIcon(), nil)),
				widget.NewLabel("name"))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			v.mu.Lock()
			if id >= len(v.files) {
				v.mu.Unlock()
				return
			}
			f := v.files[id]
			v.mu.Unlock()
			row := o.(*fyne.Container)
			row.Objects[0].(*widget.Label).SetText(fmt.Sprintf("%s  (%s)", filepath.Base(f.path), bytesize.Human(f.size)))
			right := row.Objects[2].(*fyne.Container)
			warn, pnr := right.Objects[0].(*widget.Icon), right.Objects[1].(*widget.Label)
			if f.pnr > 0 {
				pnr.SetText(lang.L("seal.pnr", map[string]any{"Count": f.pnr}))
				warn.Show()
				pnr.Show()
			} else {
				warn.Hide()
				pnr.Hide()
			}
			del := right.Objects[2].(*widget.Button)
			del.OnTapped = func() { v.removeFile(id) }
		},
	)
	hint := widget.NewLabelWithStyle(lang.L("seal.drop"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	v.dropHint = container.NewVBox(hint, widget.NewLabelWithStyle(lang.L("seal.drop.hint"), fyne.TextAlignCenter, fyne.TextStyle{}))
	addFiles := widget.NewButtonWithIcon(lang.L("seal.addFiles"), theme.FileIcon(), v.chooseFile)
	addFolder := widget.NewButtonWithIcon(lang.L("seal.addFolder"), theme.FolderIcon(), v.chooseFolder)
	listArea := container.NewStack(canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground)), v.dropHint, v.list)
	filesBox := container.NewBorder(nil, container.NewHBox(addFiles, addFolder), nil, nil, listArea)

	v.formatTip = widget.NewLabel(lang.L("seal.format.help.zip"))
	v.formatTip.Wrapping = fyne.TextWrapWord
	v.format = widget.NewRadioGroup([]string{lang.L("seal.format.zip"), lang.L("seal.format.age")}, func(s string) {
		if s == lang.L("seal.format.age") {
			v.formatTip.SetText(lang.L("seal.format.help.age"))
		} else {
			v.formatTip.SetText(lang.L("seal.format.help.zip"))
		}
		if v.strLabel != nil && v.ownPw.Text != "" {
			v.updateStrength()
		}
		v.validate()
	})
	v.format.Horizontal = true
	v.format.Required = true
	if u.config().Format == "age" {
		v.format.SetSelected(lang.L("seal.format.age"))
	} else {
		v.format.SetSelected(lang.L("seal.format.zip"))
	}

	v.pwText = canvas.NewText("", theme.Color(theme.ColorNameForeground))
	v.pwText.TextSize = 26
	v.pwText.TextStyle = fyne.TextStyle{Monospace: true}
	v.pwCopy = widget.NewButtonWithIcon(lang.L("seal.copy"), theme.ContentCopyIcon(), v.copyPassword)
	v.pwNew = widget.NewButtonWithIcon(lang.L("seal.new"), theme.ViewRefreshIcon(), v.newPassword)
	v.genBox = container.NewVBox(v.pwText, container.NewHBox(v.pwCopy, v.pwNew))
	v.ownPw = widget.NewPasswordEntry()
	v.strength = widget.NewProgressBar()
	v.strength.Max = 128
	v.strength.TextFormatter = func() string { return "" }
	v.strLabel = widget.NewLabel("")
	v.ownPw.OnChanged = func(string) { v.updateStrength(); v.validate() }
	v.ownBox = container.NewVBox(v.ownPw, v.strength, v.strLabel)
	v.ownBox.Hide()
	v.pwMode = widget.NewRadioGroup([]string{lang.L("seal.password.generated"), lang.L("seal.password.own")}, func(s string) {
		if s == lang.L("seal.password.own") {
			v.genBox.Hide()
			v.ownBox.Show()
		} else {
			v.ownBox.Hide()
			v.genBox.Show()
		}
		v.validate()
	})
	v.pwMode.Horizontal = true
	v.pwMode.Required = true
	v.pwMode.SetSelected(lang.L("seal.password.generated"))
	v.newPassword()

	v.phone = widget.NewEntry()
	v.phone.SetPlaceHolder(lang.L("seal.phone.placeholder"))
	v.phoneInfo = widget.NewLabel("")
	v.phone.OnChanged = func(string) { v.validate() }
	v.name = widget.NewEntry()
	v.caseID = widget.NewEntry()

	v.primary = widget.NewButtonWithIcon(lang.L("seal.button.seal"), theme.ConfirmIcon(), v.start)
	v.primary.Importance = widget.HighImportance
	v.cancelBtn = widget.NewButtonWithIcon(lang.L("seal.cancel"), theme.CancelIcon(), v.doCancel)
	v.cancelBtn.Hide()
	v.progress = widget.NewProgressBar()
	v.progress.Hide()
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.result = container.NewVBox()

	form := widget.NewForm(
		widget.NewFormItem(lang.L("seal.format"), container.NewVBox(v.format, v.formatTip)),
		widget.NewFormItem(lang.L("seal.password"), container.NewVBox(v.pwMode, v.genBox, v.ownBox)),
		widget.NewFormItem(lang.L("seal.phone"), container.NewVBox(v.phone, v.phoneInfo)),
		widget.NewFormItem(lang.L("seal.name"), v.name),
		widget.NewFormItem(lang.L("seal.case"), v.caseID),
	)
	bottom := container.NewVBox(form, container.NewHBox(v.primary, v.cancelBtn), v.progress, v.status)
	split := container.NewVSplit(filesBox, container.NewVScroll(bottom))
	split.Offset = 0.28
	v.content = split
	v.validate()
	return v
}

// clipboardTTL is how long a copied password stays on the clipboard.
var clipboardTTL = 45 * time.Second

// copyPassword puts the password on the clipboard and takes it off again
// after clipboardTTL, unless something else was copied meanwhile.
func (v *sealView) copyPassword() {
	pw := v.generated.Value
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

func (v *sealView) newPassword() {
	p, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		v.status.SetText(err.Error())
		return
	}
	v.generated = p
	v.pwText.Text = p.Value
	v.pwText.Refresh()
}

func (v *sealView) updateStrength() {
	bits := crypt.Estimate(v.ownPw.Text)
	v.strength.SetValue(min(bits, 128))
	msg := lang.L("seal.strength", map[string]any{"Bits": int(bits)}) + " – "
	switch {
	case bits < crypt.MinPasswordBits:
		msg += lang.L("seal.strength.weak")
	case !v.ownPasswordFitsFormat():
		msg += lang.L("seal.strength.ascii")
	default:
		msg += lang.L("seal.strength.ok")
	}
	v.strLabel.SetText(msg)
}

// ownPasswordFitsFormat: 7-Zip cannot open a zip whose password has
// å, ä, ö, so a zip takes ASCII passwords only (age takes any).
func (v *sealView) ownPasswordFitsFormat() bool {
	return v.format.Selected == lang.L("seal.format.age") || crypt.CheckZipPassword(v.ownPw.Text) == nil
}

// validate updates the phone hint and the primary button as the user
// types: the button is enabled only when sealing can succeed.
func (v *sealView) validate() {
	if v.primary == nil {
		return // still being built
	}
	ok := true
	ph := strings.TrimSpace(v.phone.Text)
	if ph == "" {
		v.phoneInfo.SetText("")
		v.primary.SetText(lang.L("seal.button.seal"))
	} else {
		v.primary.SetText(lang.L("seal.button.send"))
		if n, err := sms.ParseMobile(ph); err != nil {
			v.phoneInfo.SetText("⚠ " + numberProblem(err))
			ok = false
		} else {
			v.phoneInfo.SetText(lang.L("seal.phone.ok", map[string]any{"Number": n}))
		}
	}
	if v.pwMode.Selected == lang.L("seal.password.own") && (crypt.Estimate(v.ownPw.Text) < crypt.MinPasswordBits || !v.ownPasswordFitsFormat()) {
		ok = false
	}
	v.mu.Lock()
	n := len(v.files)
	v.mu.Unlock()
	if n == 0 {
		ok = false
		v.dropHint.Show()
	} else {
		v.dropHint.Hide()
	}
	if ok && !v.busy {
		v.primary.Enable()
	} else {
		v.primary.Disable()
	}
}

// addPaths adds files and folders (folders expand to their files) and
// runs the guard over each in the background for the warning badge.
func (v *sealView) addPaths(paths []string) {
	ins, _, err := crypt.CollectInputs(paths)
	if err != nil {
		v.showError(err)
		return
	}
	v.mu.Lock()
	have := map[string]bool{}
	for _, f := range v.files {
		have[f.path] = true
	}
	var addedPaths []string
	for _, in := range ins {
		if have[in.Path] {
			continue
		}
		v.files = append(v.files, fileItem{path: in.Path, size: in.Size})
		addedPaths = append(addedPaths, in.Path)
	}
	v.mu.Unlock()
	v.list.Refresh()
	v.validate()
	if len(addedPaths) == 0 {
		return
	}
	// One background scan per drop, file after file: the disk is the
	// limit, and the list updates as each file is done.
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		for _, p := range addedPaths {
			rep, err := scan.File(p)
			if err != nil {
				continue
			}
			n := rep.Count()
			fyne.Do(func() {
				v.mu.Lock()
				for i := range v.files { // by path: rows may have been removed meanwhile
					if v.files[i].path == p {
						v.files[i].pnr = n
					}
				}
				v.mu.Unlock()
				v.list.Refresh()
			})
		}
	}()
}

func (v *sealView) removeFile(i int) {
	v.mu.Lock()
	if i < len(v.files) {
		v.files = append(v.files[:i], v.files[i+1:]...)
	}
	v.mu.Unlock()
	v.list.Refresh()
	v.validate()
}

func (v *sealView) chooseFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		v.addPaths([]string{r.URI().Path()})
	}, v.u.win)
}

func (v *sealView) chooseFolder() {
	dialog.ShowFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil || l == nil {
			return
		}
		v.addPaths([]string{l.Path()})
	}, v.u.win)
}

// outputPath proposes a free archive name: beside the first file (or in
// the configured folder), never with a personnummer, never overwriting.
func (v *sealView) outputPath(ins []crypt.Input, f crypt.Format, paths []string) string {
	out := crypt.DefaultOutput(ins, f, false, paths)
	if dir := v.u.config().OutputDir; dir != "" {
		out = filepath.Join(dir, filepath.Base(out))
	}
	ext := ".zip"
	for _, e := range []string{".zip.age", ".age", ".zip"} {
		if strings.HasSuffix(out, e) {
			ext = e
			break
		}
	}
	stem := strings.TrimSuffix(out, ext)
	for i := 2; ; i++ {
		if _, err := os.Lstat(out); os.IsNotExist(err) {
			return out
		}
		out = fmt.Sprintf("%s (%d)%s", stem, i, ext)
	}
}

// start seals in the background; the window stays responsive and Cancel
// stops it, leaving nothing behind.
func (v *sealView) start() {
	v.mu.Lock()
	var paths []string
	for _, f := range v.files {
		paths = append(paths, f.path)
	}
	v.mu.Unlock()
	if len(paths) == 0 {
		v.status.SetText(lang.L("seal.nofiles"))
		return
	}
	ins, _, err := crypt.CollectInputs(paths)
	if err != nil {
		v.showError(err)
		return
	}
	format := crypt.FormatZip
	if v.format.Selected == lang.L("seal.format.age") {
		format = crypt.FormatAge
	}
	pw := v.generated
	if v.pwMode.Selected == lang.L("seal.password.own") {
		if pw, err = crypt.UserPassword(v.ownPw.Text, false); err != nil {
			v.showError(err)
			return
		}
	}
	cfg := v.u.config()
	log, err := v.u.openLog()
	if err != nil {
		v.showError(err)
		return
	}
	var total int64
	for _, in := range ins {
		total += in.Size
	}
	req := envelope.Request{
		Seal:     crypt.SealOptions{Inputs: ins, Output: v.outputPath(ins, format, paths), Format: format, Password: pw},
		Case:     strings.TrimSpace(v.caseID.Text),
		Note:     strings.TrimSpace(v.name.Text),
		Operator: cfg.Operator,
	}
	demo := &syncBuffer{}
	if ph := strings.TrimSpace(v.phone.Text); ph != "" {
		pol, err := providers.Build(cfg, providers.Options{Console: demo, Credentials: v.twilioCredentials})
		if err != nil {
			v.showError(err)
			return
		}
		req.SMS = &envelope.SMS{Policy: pol, To: ph}
	}

	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.busy = true
	v.primary.Disable()
	v.cancelBtn.Show()
	v.progress.SetValue(0)
	v.progress.Show()
	v.status.SetText(lang.L("seal.working"))
	v.result.RemoveAll()
	var done int64
	req.Seal.Progress = func(n int64) {
		done += n
		d := done
		if total > 0 {
			fyne.Do(func() { v.progress.SetValue(float64(d) / float64(total)) })
		}
	}
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		res, err := envelope.Seal(ctx, log, req)
		fyne.Do(func() {
			v.busy = false
			v.cancel = nil
			v.cancelBtn.Hide()
			v.progress.Hide()
			v.validate()
			// A failed (or cancelled) SMS with the user's own password
			// keeps its archive: say so rather than "nothing was saved".
			var smsErr *envelope.SMSError
			kept := errors.As(err, &smsErr) && smsErr.Kept != ""
			if errors.Is(err, context.Canceled) && !kept {
				v.status.SetText(lang.L("seal.cancelled"))
				return
			}
			if kept {
				msg := smsFailure(err, lang.L("err.sms.kept", map[string]any{"Path": smsErr.Kept}))
				dialog.ShowError(errors.New(msg), v.u.win)
				v.status.SetText(msg)
				return
			}
			if err != nil {
				v.status.SetText("")
				v.showError(err)
				return
			}
			v.last = res
			v.showResult(res, pw, demo.String())
			v.reset()
		})
	}()
}

func (v *sealView) doCancel() {
	if v.cancel != nil {
		v.cancel()
	}
}

func (v *sealView) twilioCredentials() (string, string) {
	sid, _ := v.u.deps.Keyring.Get(keyringService, "twilio-account-sid")
	tok, _ := v.u.deps.Keyring.Get(keyringService, "twilio-auth-token")
	return sid, tok
}

func (v *sealView) showResult(res *envelope.Result, pw crypt.Password, demo string) {
	v.status.SetText(lang.L("result.title"))
	add := func(o fyne.CanvasObject) { v.result.Add(o) }
	wrap := func(s string) *widget.Label { l := widget.NewLabel(s); l.Wrapping = fyne.TextWrapWord; return l }
	add(wrap(lang.L("result.archive", map[string]any{"Path": res.Archive})))
	dir := filepath.Dir(res.Archive)
	add(container.NewHBox(
		widget.NewButtonWithIcon(lang.L("result.showFolder"), theme.FolderOpenIcon(), func() { v.u.deps.OpenFolder(dir) }),
		widget.NewButtonWithIcon(lang.L("result.draft"), theme.MailComposeIcon(), v.askDraft),
	))
	if d := res.Delivery; d != nil {
		if d.Status == sms.StatusDemo {
			add(wrap(lang.L("result.demo")))
			add(wrap(strings.TrimSpace(demo)))
		} else {
			add(wrap(lang.L("result.sms", map[string]any{"To": d.To, "Status": string(d.Status)})))
		}
		ref := widget.NewLabelWithStyle(lang.L("result.ref", map[string]any{"Ref": d.Ref}), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		add(ref)
	} else if pw.Origin == "generated" {
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
	v.files = nil
	v.mu.Unlock()
	v.list.Refresh()
	v.phone.SetText("")
	v.name.SetText("")
	v.caseID.SetText("")
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
	dialog.ShowForm(lang.L("result.draft"), "OK", lang.L("seal.cancel"), []*widget.FormItem{widget.NewFormItem(lang.L("result.draft.to"), to)}, func(ok bool) {
		if ok {
			v.writeDraft(to.Text)
		}
	}, v.u.win)
}

// writeDraft writes ARCHIVE.eml beside the last archive: attached, a
// neutral subject, the reference, never the password.
func (v *sealView) writeDraft(to string) {
	d := envelope.Draft{To: strings.TrimSpace(to), Lang: v.u.config().SMS.Language, ByAge: strings.HasPrefix(v.last.Format, "age")}
	if v.last.Delivery != nil {
		d.Ref = v.last.Delivery.Ref
	}
	path, err := envelope.WriteDraft(v.last.Archive, d)
	if err != nil {
		v.showError(err)
		return
	}
	v.status.SetText(lang.L("result.draft.done", map[string]any{"Path": path}))
}

// showError explains a failure in plain words with what to do next.
func (v *sealView) showError(err error) {
	dialog.ShowError(errors.New(friendly(err)), v.u.win)
	v.status.SetText(friendly(err))
}

// smsFailure is what to do, then the provider's own words (with the
// Twilio error code) when there are any.
func smsFailure(err error, what string) string {
	var pe *sms.ProviderError
	if errors.As(err, &pe) {
		what += "\n\n" + pe.Error()
		if pe.Hint != "" {
			what += "\n" + pe.Hint
		}
	}
	return what
}

func friendly(err error) string {
	detail := err.Error()
	switch {
	case errors.Is(err, envelope.ErrSMS):
		return smsFailure(err, lang.L("err.sms"))
	case errors.Is(err, auditlog.ErrUnavailable):
		return lang.L("err.log")
	case errors.Is(err, syscall.ENOSPC):
		return lang.L("err.disk")
	case errors.Is(err, scan.ErrSensitive):
		return lang.L("err.sensitive", map[string]any{"Detail": detail})
	case errors.Is(err, crypt.ErrInput), errors.Is(err, crypt.ErrWeakPassword), errors.Is(err, crypt.ErrExists):
		return lang.L("err.input", map[string]any{"Detail": detail})
	}
	return lang.L("err.other", map[string]any{"Detail": detail})
}

// numberProblem says in the user's language what is wrong with a typed
// mobile number, showing how it was read.
func numberProblem(err error) string {
	var ne *sms.NumberError
	if !errors.As(err, &ne) {
		return err.Error()
	}
	switch ne.Problem {
	case sms.NumberUnreadable:
		return lang.L("phone.unreadable")
	case sms.NumberInvalid:
		return lang.L("phone.invalid", map[string]any{"Read": ne.ReadAs})
	case sms.NumberNotMobile:
		return lang.L("phone.notmobile", map[string]any{"Read": ne.ReadAs, "Kind": lang.L("phone.kind." + ne.Kind)})
	}
	return lang.L("phone.empty")
}

// syncBuffer collects what the console demo provider prints.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
