package gui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/settings"
)

// orgPrompt asks, on first use, which organisation the user sends for:
// the SMS names it so that recipients know who writes. It sits
// above the Seal view (not a modal dialog: the files can be dropped
// meanwhile) until an organisation is saved, here or in Settings.
type orgPrompt struct {
	u       *UI
	content *fyne.Container
	entry   *widget.Entry
	save    *widget.Button
	status  *widget.Label
}

func newOrgPrompt(u *UI) *orgPrompt {
	p := &orgPrompt{u: u}
	p.entry = widget.NewEntry()
	p.entry.SetPlaceHolder(lang.L("org.placeholder"))
	p.entry.OnSubmitted = func(string) { p.submit() }
	p.save = widget.NewButtonWithIcon(lang.L("org.save"), theme.ConfirmIcon(), p.submit)
	p.status = widget.NewLabel("")
	p.status.Wrapping = fyne.TextWrapWord
	question := widget.NewLabelWithStyle(lang.L("org.question"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	why := widget.NewLabel(lang.L("org.why"))
	why.Wrapping = fyne.TextWrapWord
	p.content = container.NewVBox(question, why, container.NewBorder(nil, nil, nil, p.save, p.entry), p.status, widget.NewSeparator())
	p.refresh()
	return p
}

// refresh shows the prompt while neither config.json nor the
// organisation (machine policy, its server) names it; the older
// sms.sender alone still asks, so that the name moves to its place.
func (p *orgPrompt) refresh() {
	cfg := p.u.config()
	st, err := p.u.settingsFor(cfg)
	if strings.TrimSpace(cfg.Organisation) != "" || err == nil && (st.Organisation.Source == settings.FromPolicy || st.Organisation.Source == settings.FromServer) {
		p.content.Hide()
	} else {
		p.content.Show()
	}
	// The Seal view lays itself out again, so a hidden prompt leaves no
	// empty band above the files.
	if p.u.seal != nil && p.u.seal.content != nil {
		p.u.seal.content.Refresh()
	}
}

// submit saves the organisation (refused while config.json is unreadable).
func (p *orgPrompt) submit() {
	org := strings.TrimSpace(p.entry.Text)
	if org == "" {
		p.status.SetText(lang.L("org.empty"))
		return
	}
	if err := p.u.saveConfig(func(c *config.Config) { c.Organisation = org }); err != nil {
		p.status.SetText(friendly(err))
		return
	}
	p.status.SetText("")
	if p.u.settings != nil {
		p.u.settings.organisation.SetText(org)
	}
	p.refresh()
	// The prompt goes away; the Seal view's status says it was saved.
	if p.u.seal != nil {
		p.u.seal.status.SetText(lang.L("org.saved", map[string]any{"Org": org}))
	}
}
