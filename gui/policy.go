package gui

import (
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/kuvert-app/kuvert/settings"
)

// lockByPolicy shows each field the organisation's machine policy sets
// with the policy's value, read-only, and says so under it ("Styrs av din
// organisation"); apply then leaves those settings alone.
func (v *settingsView) lockByPolicy(form *widget.Form) {
	v.locked = map[string]bool{}
	v.form = form
	st, err := v.u.settingsFor(v.u.config())
	if err != nil {
		return
	}
	hint := func(label string) {
		for _, it := range form.Items {
			if it.Text == label {
				it.HintText = lang.L("settings.locked")
			}
		}
	}
	for _, f := range []struct {
		val   settings.Value
		entry *widget.Entry
		label string
	}{
		{st.Organisation, v.organisation, lang.L("settings.organisation")},
		{st.OpenerURL, v.openerURL, lang.L("settings.opener")},
		{st.ServerURL, v.serverURL, lang.L("settings.server")},
	} {
		if !f.val.Locked() {
			continue
		}
		v.locked[f.val.Key] = true
		f.entry.SetText(f.val.Value)
		f.entry.Disable()
		hint(f.label)
	}
	if st.SMSProviders.Locked() {
		v.locked[st.SMSProviders.Key] = true
		v.provider.Disable()
		hint(lang.L("settings.provider"))
	}
	form.Refresh()
}
