package gui

import (
	"context"
	"slices"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/settings"
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
	// tokenState says whether the keyring holds a token (never the
	// token); Replace shows the field, Remove deletes it.
	tokenState   *widget.Label
	tokenReplace *widget.Button
	tokenRemove  *widget.Button
	organisation *widget.Entry
	openerURL    *widget.Entry
	// The kuvert server: its address (config.json) and the device token
	// (the OS keyring, never a file; shown only as stored or not).
	serverURL         *widget.Entry
	serverToken       *widget.Entry
	serverTokenState  *widget.Label
	serverTokenRemove *widget.Button
	from              *widget.Entry
	smsLang           *widget.Select
	appLang           *widget.Select
	preview           *widget.Label
	segments          *widget.Label
	format            *widget.Select
	outdir            *widget.Entry
	status            *widget.Label

	// The test SMS: a number, a button and what happened.
	testTo     *widget.Entry
	testSend   *widget.Button
	testResult *widget.Label
	work       sync.WaitGroup // a test SMS on its way, for tests

	// locked are the settings machine policy sets (by key): shown
	// read-only, never saved.
	locked map[string]bool
	form   *widget.Form

	// providerChosen: the user picked a provider in this form; until
	// then Save leaves config.json's sms.provider as it was, so the
	// provider shown (the resolved one) is never written for her.
	providerChosen bool
	// serverState says how the log stands with the kuvert server, when
	// one is set.
	serverState *widget.Label
	// items are every row of the form; relayout shows those that apply
	// (the Twilio rows for Twilio only, the token rows only when the
	// user, not policy or the environment, gives the token).
	items                  []*widget.FormItem
	twilioItems, tokenItem []*widget.FormItem
	formBox                *fyne.Container // holds form; relayout puts a new one in
}

var (
	providerKeys = []string{"console", "twilio", "kuvert-server"}
	langKeys     = []string{"sv", "en"}
	langNames    = []string{"Svenska", "English"}
	appLangKeys  = []string{"", "sv", "en"} // "" follows the OS
)

// indexOf is key's place in keys; an unknown key picks the first.
func indexOf(keys []string, key string) int { return max(slices.Index(keys, key), 0) }

func newSettingsView(u *UI) *settingsView {
	v := &settingsView{u: u}
	cfg := u.config()
	names := []string{lang.L("settings.provider.console"), lang.L("settings.provider.twilio"), lang.L("settings.provider.server")}
	v.provider = widget.NewSelect(names, nil)
	// The provider shown is the one that texts now (the resolved
	// setting: a server configured texts through the server), not only
	// what config.json says.
	shown := cfg.SMS.Provider
	if st, err := u.settingsFor(cfg); err == nil {
		shown = st.SMSProvider.Value
	}
	v.provider.SetSelectedIndex(indexOf(providerKeys, shown))
	v.provider.OnChanged = func(string) {
		v.providerChosen = true
		v.relayout()
		v.updatePreview()
	}
	v.sid = widget.NewEntry()
	if s, err := u.deps.Keyring.Get(keyringService, settings.TwilioAccountSIDKey); err == nil {
		v.sid.SetText(s)
	}
	v.token = widget.NewPasswordEntry()
	v.token.SetPlaceHolder(lang.L("settings.token.placeholder"))
	v.tokenState = widget.NewLabel("")
	v.tokenReplace = widget.NewButtonWithIcon(lang.L("settings.token.replace"), theme.DocumentCreateIcon(), func() {
		v.token.Show()
		u.win.Canvas().Focus(v.token)
	})
	v.tokenRemove = widget.NewButtonWithIcon(lang.L("settings.token.remove"), theme.DeleteIcon(), v.removeToken)
	v.testTo = widget.NewEntry()
	v.testTo.SetPlaceHolder(lang.L("settings.test.placeholder"))
	v.testSend = widget.NewButtonWithIcon(lang.L("settings.test.send"), theme.MailSendIcon(), v.sendTest)
	v.testResult = widget.NewLabel("")
	v.testResult.Wrapping = fyne.TextWrapWord
	v.organisation = widget.NewEntry()
	// Older settings named the sender in sms.sender; the organisation
	// takes its place (the SMS policy reads it only when this is empty).
	org := cfg.Organisation
	if org == "" {
		org = cfg.SMS.Sender
	}
	v.organisation.SetText(org)
	v.organisation.OnChanged = func(string) { v.updatePreview() }
	v.organisation.SetPlaceHolder(lang.L("org.placeholder"))
	v.openerURL = widget.NewEntry()
	v.openerURL.SetText(cfg.OpenerURL)
	v.openerURL.SetPlaceHolder("https://exempelby.se/oppna")
	v.openerURL.OnChanged = func(string) { v.updatePreview() }
	v.from = widget.NewEntry()
	v.from.SetText(cfg.SMS.From)
	v.serverURL = widget.NewEntry()
	v.serverURL.SetText(cfg.ServerURL)
	v.serverURL.SetPlaceHolder("https://kuvert.exempelby.se")
	v.serverURL.OnChanged = func(string) { v.relayout() }
	v.serverToken = widget.NewPasswordEntry()
	v.serverToken.SetPlaceHolder(lang.L("settings.server.token.placeholder"))
	v.serverTokenState = widget.NewLabel("")
	v.serverTokenRemove = widget.NewButtonWithIcon(lang.L("settings.token.remove"), theme.DeleteIcon(), v.removeServerToken)
	v.serverState = widget.NewLabel("")
	v.serverState.Wrapping = fyne.TextWrapWord
	v.serverState.Hide()
	v.smsLang = widget.NewSelect(langNames, func(string) { v.updatePreview() })
	v.smsLang.SetSelectedIndex(indexOf(langKeys, cfg.SMS.Language))
	v.appLang = widget.NewSelect(append([]string{lang.L("settings.applang.auto")}, langNames...), nil)
	v.appLang.SetSelectedIndex(indexOf(appLangKeys, cfg.AppLanguage))
	v.preview = widget.NewLabel("")
	v.preview.Wrapping = fyne.TextWrapWord
	v.segments = widget.NewLabel("")
	// Wrapped: a long problem with the text must not widen the window.
	v.segments.Wrapping = fyne.TextWrapWord
	v.format = widget.NewSelect([]string{"zip", "age"}, nil)
	v.format.SetSelected("zip")
	if cfg.Format == "age" {
		v.format.SetSelected("age")
	}
	v.outdir = widget.NewEntry()
	v.outdir.SetText(cfg.OutputDir)
	chooseDir := widget.NewButtonWithIcon(lang.L("settings.chooseDir"), theme.FolderOpenIcon(), func() {
		u.pickFolder(lang.L("picker.outdir"), v.outdir.SetText)
	})
	save := widget.NewButtonWithIcon(lang.L("settings.save"), theme.DocumentSaveIcon(), v.save)
	save.Importance = widget.HighImportance
	v.status = widget.NewLabel("")
	serverTokenItem := widget.NewFormItem(lang.L("settings.server.token"), container.NewVBox(
		container.NewHBox(v.serverTokenState, v.serverTokenRemove), v.serverToken))
	v.tokenItem = []*widget.FormItem{serverTokenItem}
	v.twilioItems = []*widget.FormItem{
		widget.NewFormItem(lang.L("settings.sid"), v.sid),
		widget.NewFormItem(lang.L("settings.token"), container.NewVBox(
			container.NewHBox(v.tokenState, v.tokenReplace, v.tokenRemove), v.token)),
		widget.NewFormItem(lang.L("settings.from"), v.from),
	}
	form := widget.NewForm(
		widget.NewFormItem(lang.L("settings.organisation"), v.organisation),
		widget.NewFormItem(lang.L("settings.opener"), v.openerURL),
		widget.NewFormItem(lang.L("settings.server"), container.NewVBox(v.serverURL, v.serverState)),
		serverTokenItem,
		widget.NewFormItem(lang.L("settings.provider"), v.provider),
		v.twilioItems[0], v.twilioItems[1], v.twilioItems[2],
		widget.NewFormItem(lang.L("settings.smslang"), v.smsLang),
		widget.NewFormItem(lang.L("settings.preview"), container.NewVBox(v.preview, v.segments)),
		widget.NewFormItem(lang.L("settings.test"), container.NewVBox(
			container.NewBorder(nil, nil, nil, v.testSend, v.testTo), v.testResult)),
		widget.NewFormItem(lang.L("settings.format"), v.format),
		widget.NewFormItem(lang.L("settings.outdir"), container.NewBorder(nil, nil, nil, chooseDir, v.outdir)),
		widget.NewFormItem(lang.L("settings.applang"), v.appLang),
	)
	v.items = form.Items
	v.formBox = container.NewStack(form)
	v.content = container.NewVScroll(container.NewVBox(v.formBox, save, v.status))
	v.lockByPolicy(form)
	v.updatePreview()
	v.refreshToken()
	v.refreshServerToken()
	v.relayout()
	if _, err := u.loadConfig(); err != nil {
		v.status.SetText(friendly(err))
	}
	return v
}

// updatePreview renders the SMS with a sample password, through the same
// SMS policy as sealing (providers.Preview, which needs no credentials),
// and counts its GSM-7 characters and segments.
func (v *settingsView) updatePreview() {
	if v.segments == nil {
		return // still being built
	}
	// The texts as Save would set them up; a provider that cannot be set
	// up yet (no token) still has its texts filled in.
	cfg := v.u.config()
	v.apply(cfg)
	st, err := v.u.settingsFor(cfg)
	if err != nil {
		v.preview.SetText("")
		v.segments.SetText("⚠ " + describe(err))
		return
	}
	body, n, err := providers.Preview(st, providers.Options{Provider: cfg.SMS.Provider})
	if err != nil {
		v.preview.SetText("")
		v.segments.SetText("⚠ " + previewProblem(err, st.OpenerURL.Value))
		return
	}
	v.preview.SetText(body)
	v.segments.SetText(lang.L("settings.segments", map[string]any{"Chars": n, "Segments": sms.Segments(n)}))
}

func (v *settingsView) save() {
	if u := strings.TrimSpace(v.openerURL.Text); u != "" {
		if _, err := sms.CheckOpenerURL(u); err != nil {
			v.status.SetText(lang.L("settings.opener.bad"))
			return
		}
	}
	if u := strings.TrimSpace(v.serverURL.Text); u != "" {
		if _, err := client.CheckURL(u); err != nil {
			v.status.SetText(lang.L("settings.server.bad"))
			return
		}
	}
	langChanged := false
	err := v.u.saveConfig(func(cfg *config.Config) {
		v.apply(cfg)
		langChanged = cfg.AppLanguage != appLangKeys[v.appLang.SelectedIndex()]
		cfg.AppLanguage = appLangKeys[v.appLang.SelectedIndex()]
	})
	if err != nil {
		v.status.SetText(friendly(err))
		return
	}
	if sid := strings.TrimSpace(v.sid.Text); sid != "" {
		if err := v.u.deps.Keyring.Set(keyringService, settings.TwilioAccountSIDKey, sid); err != nil {
			v.status.SetText(keyringFailed(err))
			return
		}
	}
	if tok := v.token.Text; tok != "" {
		if err := v.u.deps.Keyring.Set(keyringService, settings.TwilioAuthTokenKey, tok); err != nil {
			v.status.SetText(keyringFailed(err))
			return
		}
		v.token.SetText("")
	}
	if tok := strings.TrimSpace(v.serverToken.Text); tok != "" {
		if err := v.u.deps.Keyring.Set(keyringService, settings.ServerTokenKey, tok); err != nil {
			v.status.SetText(keyringFailed(err))
			return
		}
		v.serverToken.SetText("")
	}
	v.providerChosen = false
	v.refreshToken()
	v.refreshServerToken()
	v.relayout()
	v.u.seal.refreshProvider()
	v.u.seal.org.refresh()
	if langChanged {
		v.status.SetText(lang.L("settings.saved") + " " + lang.L("settings.applang.restart"))
		return
	}
	v.status.SetText(lang.L("settings.saved"))
}

// apply puts the form's choices into cfg; the settings the form does
// not show (template, operator, retention) stay as they were.
func (v *settingsView) apply(cfg *config.Config) {
	// What machine policy sets is not the user's to save: the file keeps
	// its own value, and the policy's shows in the field.
	if !v.locked["organisation"] {
		cfg.Organisation = strings.TrimSpace(v.organisation.Text)
	}
	if !v.locked["opener_url"] {
		cfg.OpenerURL = strings.TrimSpace(v.openerURL.Text)
	}
	if !v.locked["server_url"] {
		cfg.ServerURL = strings.TrimSpace(v.serverURL.Text)
	}
	if !v.locked["sms.providers"] && v.providerChosen {
		cfg.SMS.Provider = providerKeys[v.provider.SelectedIndex()]
	}
	if v.from.Visible() {
		cfg.SMS.From = strings.TrimSpace(v.from.Text)
	}
	cfg.SMS.Language = langKeys[v.smsLang.SelectedIndex()]
	cfg.Format = v.format.Selected
	cfg.OutputDir = strings.TrimSpace(v.outdir.Text)
}

// refreshToken shows whether the keyring holds a Twilio token. The token
// itself is never read into the window: the field stays empty, and shows
// only when there is no token or the user chooses Replace.
func (v *settingsView) refreshToken() {
	if _, err := v.u.deps.Keyring.Get(keyringService, settings.TwilioAuthTokenKey); err == nil {
		v.tokenState.SetText(lang.L("settings.token.stored"))
		v.tokenReplace.Show()
		v.tokenRemove.Show()
		if v.token.Text == "" {
			v.token.Hide()
		}
		return
	}
	v.tokenState.SetText(lang.L("settings.token.none"))
	v.tokenReplace.Hide()
	v.tokenRemove.Hide()
	v.token.Show()
}

// refreshServerToken shows whether the keyring holds a server token,
// never the token, and how the log stands with the server.
func (v *settingsView) refreshServerToken() {
	v.serverState.Hide()
	if l, err := v.u.openLog(); err == nil {
		if line := v.u.serverLine(l); line != "" {
			v.serverState.SetText(line)
			v.serverState.Show()
		}
	}
	if _, err := v.u.deps.Keyring.Get(keyringService, settings.ServerTokenKey); err == nil {
		v.serverTokenState.SetText(lang.L("settings.token.stored"))
		v.serverTokenRemove.Show()
		return
	}
	v.serverTokenRemove.Hide()
	if st, err := v.u.settingsFor(v.u.config()); err == nil {
		if src := st.ServerToken.Source(); src == settings.FromPolicy || src == settings.FromEnv {
			v.serverTokenState.SetText(lang.L("settings.server.token.given"))
			return
		}
	}
	v.serverTokenState.SetText(lang.L("settings.token.none"))
	v.serverTokenRemove.Hide()
}

// removeServerToken takes the server token out of the keyring.
func (v *settingsView) removeServerToken() {
	if err := v.u.deps.Keyring.Delete(keyringService, settings.ServerTokenKey); err != nil {
		v.status.SetText(keyringFailed(err))
		return
	}
	v.serverToken.SetText("")
	v.refreshServerToken()
	v.status.SetText(lang.L("settings.token.removed"))
}

// removeToken takes the Twilio token out of the keyring.
func (v *settingsView) removeToken() {
	if err := v.u.deps.Keyring.Delete(keyringService, settings.TwilioAuthTokenKey); err != nil {
		v.status.SetText(keyringFailed(err))
		return
	}
	v.token.SetText("")
	v.refreshToken()
	v.status.SetText(lang.L("settings.token.removed"))
}

// formConfig is config.json with the form's unsaved choices applied, so a
// preview or test SMS shows what Save would set up.
func (v *settingsView) formConfig() (*config.Config, error) {
	cfg, err := v.u.loadConfig()
	if err != nil {
		return nil, err
	}
	v.apply(cfg)
	return cfg, nil
}

// formKeyring is the keyring as the form would leave it: the Twilio SID
// and token and the server token typed in the form (not yet saved), else
// the keyring's.
func (v *settingsView) formKeyring() Keyring {
	return typedSecrets{base: v.u.deps.Keyring, typed: map[string]string{
		settings.TwilioAccountSIDKey: strings.TrimSpace(v.sid.Text),
		settings.TwilioAuthTokenKey:  v.token.Text,
		settings.ServerTokenKey:      strings.TrimSpace(v.serverToken.Text),
	}}
}

// typedSecrets answers with what was typed, else asks base.
type typedSecrets struct {
	Keyring
	base  Keyring
	typed map[string]string
}

func (t typedSecrets) Get(service, user string) (string, error) {
	if v := t.typed[user]; v != "" && service == keyringService {
		return v, nil
	}
	return t.base.Get(service, user)
}

// sendTest sends the harmless test text (sms.TestTemplate, no password)
// to the typed number through the provider chosen in the form, and says
// what happened; the demo provider is named as demo. Nothing is saved.
func (v *settingsView) sendTest() {
	to, err := sms.ParseMobile(v.testTo.Text)
	if err != nil {
		v.testResult.SetText("⚠ " + numberProblem(err))
		return
	}
	cfg, err := v.formConfig()
	if err != nil {
		v.testResult.SetText(friendly(err))
		return
	}
	setup, err := v.u.resolveSMS(cfg, v.formKeyring())
	if err != nil {
		v.testResult.SetText(lang.L("settings.test.failed") + "\n" + describe(err))
		return
	}
	body, err := setup.testBody()
	if err != nil {
		v.testResult.SetText(lang.L("settings.test.failed") + "\n" + describe(err))
		return
	}
	masked := sms.MaskNumber(to)
	v.testSend.Disable()
	v.testResult.SetText(lang.L("settings.test.sending", map[string]any{"To": masked}))
	v.work.Add(1)
	go func() {
		defer v.work.Done()
		rc, err := setup.Sender.Send(context.Background(), sms.Message{To: to, Body: body})
		fyne.Do(func() {
			v.testSend.Enable()
			switch {
			case err != nil:
				v.testResult.SetText(smsFailure(err, lang.L("settings.test.failed")))
			case rc.Status == sms.StatusDemo:
				v.testResult.SetText(lang.L("settings.test.demo", map[string]any{"To": masked}) + "\n" + body)
			default:
				v.testResult.SetText(lang.L("settings.test.sent", map[string]any{"To": masked, "Status": deliveryWords(&auditlog.Delivery{Provider: rc.Provider, Status: auditlog.Status(rc.Status)}), "ID": rc.ID}))
			}
		})
	}()
}

// relayout shows the form's rows that apply: the Twilio rows only with
// Twilio chosen and its credentials not given by policy or the
// environment; the server token's row only when a server is set and
// its token is not given by policy or the environment.
func (v *settingsView) relayout() {
	if v.formBox == nil || v.items == nil {
		return
	}
	st, err := v.u.settingsFor(v.u.config())
	givenElsewhere := func(sec *settings.Secret) bool {
		src := sec.Source()
		return src == settings.FromPolicy || src == settings.FromEnv || src == settings.FromServer
	}
	hide := map[*widget.FormItem]bool{}
	twilio := providerKeys[v.provider.SelectedIndex()] == "twilio"
	if !twilio || err == nil && givenElsewhere(st.TwilioAccountSID) && givenElsewhere(st.TwilioAuthToken) {
		for _, it := range v.twilioItems {
			hide[it] = true
		}
	}
	serverSet := strings.TrimSpace(v.serverURL.Text) != "" || err == nil && st.ServerURL.Value != ""
	if !serverSet || err == nil && givenElsewhere(st.ServerToken) {
		for _, it := range v.tokenItem {
			hide[it] = true
		}
	}
	var items []*widget.FormItem
	for _, it := range v.items {
		it.Widget.Show()
		if hide[it] {
			it.Widget.Hide()
			continue
		}
		items = append(items, it)
	}
	// A form lays out its rows once: a new form with the rows that
	// apply (the same items, with their policy hints) takes its place.
	v.form = widget.NewForm(items...)
	v.formBox.Objects = []fyne.CanvasObject{v.form}
	v.formBox.Refresh()
}
