package gui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/providers"
)

// settingsView edits config.json; the Twilio SID and token go to the OS
// keyring, never to a file.
type settingsView struct {
	u        *UI
	content  fyne.CanvasObject
	provider *widget.Select
	sid      *widget.Entry
	token    *widget.Entry
	from     *widget.Entry
	sender   *widget.Entry
	smsLang  *widget.Select
	appLang  *widget.Select
	preview  *widget.Label
	segments *widget.Label
	format   *widget.Select
	outdir   *widget.Entry
	status   *widget.Label
}

var (
	providerKeys = []string{"console", "twilio"}
	langKeys     = []string{"sv", "en"}
	langNames    = []string{"Svenska", "English"}
	appLangKeys  = []string{"", "sv", "en"} // "" follows the OS
)

// indexOf is key's place in keys; an unknown key picks the first.
func indexOf(keys []string, key string) int { return max(slices.Index(keys, key), 0) }

func newSettingsView(u *UI) *settingsView {
	v := &settingsView{u: u}
	cfg := u.config()
	names := []string{lang.L("settings.provider.console"), lang.L("settings.provider.twilio")}
	v.provider = widget.NewSelect(names, func(string) { v.updatePreview() })
	v.provider.SetSelectedIndex(0)
	if cfg.SMS.Provider == "twilio" {
		v.provider.SetSelectedIndex(1)
	}
	v.sid = widget.NewEntry()
	if s, err := u.deps.Keyring.Get(keyringService, "twilio-account-sid"); err == nil {
		v.sid.SetText(s)
	}
	v.token = widget.NewPasswordEntry()
	v.token.SetPlaceHolder("••••••••")
	v.from = widget.NewEntry()
	v.from.SetText(cfg.SMS.From)
	v.sender = widget.NewEntry()
	v.sender.SetText(cfg.SMS.Sender)
	v.sender.OnChanged = func(string) { v.updatePreview() }
	v.smsLang = widget.NewSelect(langNames, func(string) { v.updatePreview() })
	v.smsLang.SetSelectedIndex(indexOf(langKeys, cfg.SMS.Language))
	v.appLang = widget.NewSelect(append([]string{lang.L("settings.applang.auto")}, langNames...), nil)
	v.appLang.SetSelectedIndex(indexOf(appLangKeys, cfg.AppLanguage))
	v.preview = widget.NewLabel("")
	v.preview.Wrapping = fyne.TextWrapWord
	v.segments = widget.NewLabel("")
	v.format = widget.NewSelect([]string{"zip", "age"}, nil)
	v.format.SetSelected("zip")
	if cfg.Format == "age" {
		v.format.SetSelected("age")
	}
	v.outdir = widget.NewEntry()
	v.outdir.SetText(cfg.OutputDir)
	chooseDir := widget.NewButtonWithIcon(lang.L("settings.chooseDir"), theme.FolderOpenIcon(), func() {
		dialog.ShowFolderOpen(func(l fyne.ListableURI, err error) {
			if err == nil && l != nil {
				v.outdir.SetText(l.Path())
			}
		}, u.win)
	})
	save := widget.NewButtonWithIcon(lang.L("settings.save"), theme.DocumentSaveIcon(), v.save)
	save.Importance = widget.HighImportance
	v.status = widget.NewLabel("")
	form := widget.NewForm(
		widget.NewFormItem(lang.L("settings.provider"), v.provider),
		widget.NewFormItem(lang.L("settings.sid"), v.sid),
		widget.NewFormItem(lang.L("settings.token"), v.token),
		widget.NewFormItem(lang.L("settings.from"), v.from),
		widget.NewFormItem(lang.L("settings.sender"), v.sender),
		widget.NewFormItem(lang.L("settings.smslang"), v.smsLang),
		widget.NewFormItem(lang.L("settings.preview"), container.NewVBox(v.preview, v.segments)),
		widget.NewFormItem(lang.L("settings.format"), v.format),
		widget.NewFormItem(lang.L("settings.outdir"), container.NewBorder(nil, nil, nil, chooseDir, v.outdir)),
		widget.NewFormItem(lang.L("settings.applang"), v.appLang),
	)
	v.content = container.NewVScroll(container.NewVBox(form, save, v.status))
	v.updatePreview()
	return v
}

// updatePreview renders the SMS with a sample password and counts its
// GSM-7 characters and segments.
func (v *settingsView) updatePreview() {
	if v.segments == nil {
		return // still being built
	}
	body, n, err := providers.Preview(v.u.config(), providers.Options{
		Provider:     providerKeys[v.provider.SelectedIndex()],
		Organisation: v.sender.Text,
		Lang:         langKeys[v.smsLang.SelectedIndex()],
	})
	if err != nil {
		v.preview.SetText("")
		v.segments.SetText("⚠ " + err.Error())
		return
	}
	v.preview.SetText(body)
	v.segments.SetText(lang.L("settings.segments", map[string]any{"Chars": n, "Segments": sms.Segments(n)}))
}

func (v *settingsView) save() {
	cfg := v.u.config()
	cfg.SMS.Provider = providerKeys[v.provider.SelectedIndex()]
	cfg.SMS.From = strings.TrimSpace(v.from.Text)
	cfg.SMS.Sender = strings.TrimSpace(v.sender.Text)
	cfg.SMS.Language = langKeys[v.smsLang.SelectedIndex()]
	cfg.Format = v.format.Selected
	cfg.OutputDir = strings.TrimSpace(v.outdir.Text)
	langChanged := cfg.AppLanguage != appLangKeys[v.appLang.SelectedIndex()]
	cfg.AppLanguage = appLangKeys[v.appLang.SelectedIndex()]
	if err := config.Save(v.u.deps.Home, cfg); err != nil {
		v.status.SetText(friendly(err))
		return
	}
	if sid := strings.TrimSpace(v.sid.Text); sid != "" {
		if err := v.u.deps.Keyring.Set(keyringService, "twilio-account-sid", sid); err != nil {
			v.status.SetText(friendly(err))
			return
		}
	}
	if tok := v.token.Text; tok != "" {
		if err := v.u.deps.Keyring.Set(keyringService, "twilio-auth-token", tok); err != nil {
			v.status.SetText(friendly(err))
			return
		}
		v.token.SetText("")
	}
	if langChanged {
		v.status.SetText(lang.L("settings.saved") + " " + lang.L("settings.applang.restart"))
		return
	}
	v.status.SetText(lang.L("settings.saved"))
}
