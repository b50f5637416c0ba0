package gui

import (
	"errors"
	"syscall"

	"fyne.io/fyne/v2/lang"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/sms"
)

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

// friendly explains a failure in plain words with what to do next.
func friendly(err error) string {
	detail := describe(err)
	var ce *configError
	switch {
	case errors.As(err, &ce):
		return lang.L("config.unreadable", map[string]any{"Path": ce.Path, "Detail": detail})
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
		return describe(err)
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

// zipPasswordProblem says why 7-Zip could not take the typed password
// for a zip ([crypt.ZipPasswordError]): å, ä, ö, or more than 99 bytes.
func zipPasswordProblem(err error) string {
	var ze *crypt.ZipPasswordError
	if errors.As(err, &ze) && !ze.NonASCII {
		return lang.L("seal.strength.long", map[string]any{"Bytes": ze.Bytes, "Max": crypt.MaxZipPasswordBytes})
	}
	return lang.L("seal.strength.ascii")
}
