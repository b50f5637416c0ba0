package gui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/internal/bytesize"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/sms"
)

// sealView is the Seal tab: widgets bound to a [sealForm]. Each widget
// writes its value into the form as the user changes it; validate then
// redraws hints and the primary button from the form alone.
type sealView struct {
	u       *UI
	content fyne.CanvasObject

	// mu guards form.Files: the guard's background scan updates the
	// personnummer counts while the list draws.
	mu   sync.Mutex
	form sealForm

	list      *widget.List
	dropHint  *fyne.Container
	format    *widget.RadioGroup
	formatTip *widget.Label

	pwMode    *widget.RadioGroup
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
	// archive is the archive's file name: kuvert's proposal until the
	// user types her own; archiveInfo says what is wrong with hers.
	archive     *widget.Entry
	archiveInfo *widget.Label
	proposed    string // the name kuvert proposes for the listed files
	showingName bool   // the view is writing the proposal into archive
	name        *widget.Entry
	caseID      *widget.Entry
	primary     *widget.Button
	cancelBtn   *widget.Button
	progress    *widget.ProgressBar
	status      *widget.Label
	result      *fyne.Container
	org         *orgPrompt

	cancel context.CancelFunc
	busy   bool
	// work counts background jobs (sealing, guard scans), so tests can
	// wait for them; with the test driver fyne.Do runs inside the job.
	work sync.WaitGroup
	last *envelope.Result // the last sealing, for the e-mail draft
}

// The radio groups' options, in the order of their labels.
var (
	formatChoices   = []crypt.Format{crypt.FormatZip, crypt.FormatAge}
	passwordChoices = []passwordChoice{passwordGenerated, passwordOwn}
)

func newSealView(u *UI) *sealView {
	v := &sealView{u: u}
	cfg := u.config()

	v.list = widget.NewList(
		func() int { v.mu.Lock(); defer v.mu.Unlock(); return len(v.form.Files) },
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
			if id >= len(v.form.Files) {
				v.mu.Unlock()
				return
			}
			f := v.form.Files[id]
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
	formatLabels := []string{lang.L("seal.format.zip"), lang.L("seal.format.age")}
	v.format = widget.NewRadioGroup(formatLabels, func(s string) {
		if i := slices.Index(formatLabels, s); i >= 0 {
			v.form.Format = formatChoices[i]
		}
		v.validate()
	})
	v.format.Horizontal = true
	v.format.Required = true

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
	v.ownPw.OnChanged = func(s string) { v.form.OwnPassword = s; v.validate() }
	v.ownBox = container.NewVBox(v.ownPw, v.strength, v.strLabel)
	v.ownBox.Hide()
	pwLabels := []string{lang.L("seal.password.generated"), lang.L("seal.password.own")}
	v.pwMode = widget.NewRadioGroup(pwLabels, func(s string) {
		if i := slices.Index(pwLabels, s); i >= 0 {
			v.form.Password = passwordChoices[i]
		}
		v.validate()
	})
	v.pwMode.Horizontal = true
	v.pwMode.Required = true

	v.phone = widget.NewEntry()
	v.phone.SetPlaceHolder(lang.L("seal.phone.placeholder"))
	v.phoneInfo = widget.NewLabel("")
	// Wrapped: a long hint under the number must not widen the window.
	v.phoneInfo.Wrapping = fyne.TextWrapWord
	v.archive = widget.NewEntry()
	v.archiveInfo = widget.NewLabel("")
	v.archiveInfo.Wrapping = fyne.TextWrapWord
	v.archiveInfo.Hide()
	v.archive.OnChanged = func(s string) {
		if v.showingName {
			return
		}
		v.form.ArchiveName = strings.TrimSpace(s)
		if v.form.ArchiveName == v.proposed {
			v.form.ArchiveName = ""
		}
		v.validate()
	}
	v.phone.OnChanged = func(s string) { v.form.Phone = s; v.validate() }
	v.name = widget.NewEntry()
	v.name.OnChanged = func(s string) { v.form.Name = s }
	v.caseID = widget.NewEntry()
	v.caseID.OnChanged = func(s string) { v.form.Case = s }

	v.primary = widget.NewButtonWithIcon(lang.L("seal.button.seal"), theme.ConfirmIcon(), v.start)
	v.primary.Importance = widget.HighImportance
	v.cancelBtn = widget.NewButtonWithIcon(lang.L("seal.cancel"), theme.CancelIcon(), v.doCancel)
	v.cancelBtn.Hide()
	v.progress = widget.NewProgressBar()
	v.progress.Hide()
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.result = container.NewVBox()

	// The form's starting state, shown through the widgets.
	v.form.Format = crypt.FormatZip
	if cfg.Format == "age" {
		v.form.Format = crypt.FormatAge
	}
	v.format.SetSelected(formatLabels[slices.Index(formatChoices, v.form.Format)])
	v.pwMode.SetSelected(pwLabels[0])
	v.newPassword()
	v.refreshProvider()

	form := widget.NewForm(
		widget.NewFormItem(lang.L("seal.archive"), container.NewVBox(v.archive, v.archiveInfo)),
		widget.NewFormItem(lang.L("seal.format"), container.NewVBox(v.format, v.formatTip)),
		widget.NewFormItem(lang.L("seal.password"), container.NewVBox(v.pwMode, v.genBox, v.ownBox)),
		widget.NewFormItem(lang.L("seal.phone"), container.NewVBox(v.phone, v.phoneInfo)),
		widget.NewFormItem(lang.L("seal.name"), v.name),
		widget.NewFormItem(lang.L("seal.case"), v.caseID),
	)
	bottom := container.NewVBox(form, container.NewHBox(v.primary, v.cancelBtn), v.progress, v.status)
	split := container.NewVSplit(filesBox, container.NewVScroll(bottom))
	split.Offset = 0.28
	v.org = newOrgPrompt(u)
	v.content = container.NewBorder(v.org.content, nil, nil, nil, split)
	v.validate()
	return v
}

// refreshProvider asks the SMS policy whether the configured provider
// only shows the message (demo), so the button and hints can say so.
// The Seal tab calls it when shown and Settings after saving.
func (v *sealView) refreshProvider() {
	s, err := v.u.resolveSMS(v.u.config(), nil)
	v.form.SMSDemo = err == nil && s.Demo
	v.validate()
}

// snapshot is a copy of the form, safe to use while the guard's scan
// updates the list.
func (v *sealView) snapshot() sealForm {
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.form
	f.Files = slices.Clone(v.form.Files)
	return f
}

func (v *sealView) newPassword() {
	p, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		v.status.SetText(describe(err))
		return
	}
	v.form.Generated = p
	v.pwText.Text = p.Value
	v.pwText.Refresh()
}

// validate redraws what depends on the form: the format tip, the
// password box and strength, the number hint and the primary button,
// which is enabled only when sealing can succeed.
func (v *sealView) validate() {
	if v.primary == nil {
		return // still being built
	}
	f := v.snapshot()
	problems := map[formField]formProblem{}
	for _, p := range f.Validate() {
		problems[p.Field] = p
	}

	if f.Format == crypt.FormatAge {
		v.formatTip.SetText(lang.L("seal.format.help.age"))
	} else {
		v.formatTip.SetText(lang.L("seal.format.help.zip"))
	}

	if f.Password == passwordOwn {
		v.genBox.Hide()
		v.ownBox.Show()
	} else {
		v.ownBox.Hide()
		v.genBox.Show()
	}
	if f.OwnPassword == "" {
		v.strength.SetValue(0)
		v.strLabel.SetText("")
	} else {
		bits := f.OwnPasswordBits()
		v.strength.SetValue(min(bits, 128))
		msg := lang.L("seal.strength", map[string]any{"Bits": int(bits)}) + " – "
		switch {
		case bits < crypt.MinPasswordBits:
			msg += lang.L("seal.strength.weak")
		case f.passwordFitsFormat() != nil:
			msg += zipPasswordProblem(f.passwordFitsFormat())
		default:
			msg += lang.L("seal.strength.ok")
		}
		v.strLabel.SetText(msg)
	}

	v.showProposal(f)
	p, bad := problems[fieldArchive]
	if bad {
		v.archiveInfo.SetText("⚠ " + archiveNameProblem(p.Err, f.ArchiveName, f.format()))
	}
	if bad != v.archiveInfo.Visible() {
		if bad {
			v.archiveInfo.Show()
		} else {
			v.archiveInfo.Hide()
		}
		// The hint takes or gives back a line: lay the form out again.
		if v.content != nil {
			v.content.Refresh()
		}
	}

	switch p, bad := problems[fieldPhone]; {
	case !f.SendsSMS():
		v.phoneInfo.SetText("")
		v.primary.SetText(lang.L("seal.button.seal"))
	case bad && stillTyping(f.Phone, p.Err):
		// Half a number is not a wrong number: say what is missing.
		v.phoneInfo.SetText(lang.L("seal.phone.typing"))
		v.primary.SetText(v.sendLabel(f))
	case bad:
		v.phoneInfo.SetText("⚠ " + numberProblem(p.Err))
		v.primary.SetText(v.sendLabel(f))
	default:
		n, _ := f.Recipient()
		key := "seal.phone.ok"
		if f.SMSDemo {
			key = "seal.phone.demo"
		}
		v.phoneInfo.SetText(lang.L(key, map[string]any{"Number": n}))
		v.primary.SetText(v.sendLabel(f))
	}

	if _, none := problems[fieldFiles]; none {
		v.dropHint.Show()
	} else {
		v.dropHint.Hide()
	}
	if len(problems) == 0 && !v.busy {
		v.primary.Enable()
	} else {
		v.primary.Disable()
	}
}

// sendLabel names the button when a number is typed: with the demo
// provider nothing is sent, and the button says so.
func (v *sealView) sendLabel(f sealForm) string {
	if f.SMSDemo {
		return lang.L("seal.button.demo")
	}
	return lang.L("seal.button.send")
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
	for _, f := range v.form.Files {
		have[f.path] = true
	}
	var addedPaths []string
	for _, in := range ins {
		if have[in.Path] {
			continue
		}
		v.form.Files = append(v.form.Files, fileItem{path: in.Path, size: in.Size})
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
				for i := range v.form.Files { // by path: rows may have been removed meanwhile
					if v.form.Files[i].path == p {
						v.form.Files[i].pnr = n
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
	if i < len(v.form.Files) {
		v.form.Files = append(v.form.Files[:i], v.form.Files[i+1:]...)
	}
	v.mu.Unlock()
	v.list.Refresh()
	v.validate()
}

func (v *sealView) chooseFile() {
	v.u.pickFiles(lang.L("picker.files"), true, filtersAll(), v.addPaths)
}

func (v *sealView) chooseFolder() {
	v.u.pickFolder(lang.L("picker.folder"), func(dir string) { v.addPaths([]string{dir}) })
}

// showProposal puts the name kuvert proposes for the listed files and
// format into the archive field, unless the user typed her own.
func (v *sealView) showProposal(f sealForm) {
	name := proposedName(f.Paths(), f.format())
	if name == v.proposed {
		return // an emptied field stays empty: the placeholder shows the proposal
	}
	v.proposed = name
	v.archive.SetPlaceHolder(name)
	if f.ArchiveName == "" {
		v.showingName = true
		v.archive.SetText(name)
		v.showingName = false
	}
}

// stillTyping: the number refused is one the user may still be typing,
// digits (and + - ( ) and spaces) too few for a mobile number (a Swedish one
// has ten, 07X-XXX XX XX).
func stillTyping(typed string, err error) bool {
	var ne *sms.NumberError
	if !errors.As(err, &ne) || ne.Problem != sms.NumberInvalid && ne.Problem != sms.NumberUnreadable {
		return false
	}
	digits := 0
	for _, c := range typed {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case !strings.ContainsRune("+-() ", c):
			return false // letters: not a number being typed
		}
	}
	return digits < 10
}
