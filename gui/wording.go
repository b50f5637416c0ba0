package gui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"

	"fyne.io/fyne/v2/lang"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/naming"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/sms"
)

// smsFailure is what happened, then why in the window's language
// ([smsReason]): never the provider's or the transport's own words.
func smsFailure(err error, what string) string {
	return what + "\n\n" + smsReason(err)
}

// smsReason says why an SMS did not go, from the catalog: the service
// (kuvert server or Twilio) not reached, the server's refusals, Twilio's
// known error codes, else the code or HTTP status alone. Only a
// refusal of the number asks the clerk to check the number.
func smsReason(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		switch {
		case ce.Status == 0:
			return lang.L("sms.reason.unreachable")
		case ce.Code == api.CodeAlreadySent:
			return lang.L("sms.reason.already-sent")
		case ce.Status == http.StatusTooManyRequests:
			return lang.L("sms.reason.rate")
		case ce.Status == http.StatusBadGateway && ce.Code == api.CodeProvider:
			return lang.L("sms.reason.provider-refused")
		case ce.Status == http.StatusUnauthorized:
			return lang.L("sms.reason.token")
		case ce.Status == http.StatusServiceUnavailable:
			return lang.L("sms.reason.server-cannot")
		}
		return lang.L("sms.reason.server", map[string]any{"Status": ce.Status})
	}
	var pe *sms.ProviderError
	if errors.As(err, &pe) && pe.Code != 0 {
		data := map[string]any{"Code": pe.Code, "Status": pe.Status}
		if k := fmt.Sprintf("sms.reason.twilio.%d", pe.Code); lang.L(k, data) != k {
			return lang.L(k, data)
		}
		return lang.L("sms.reason.code", data)
	}
	if unreachable(err) {
		return lang.L("sms.reason.unreachable")
	}
	if pe != nil && pe.Status != 0 {
		return lang.L("sms.reason.status", map[string]any{"Status": pe.Status})
	}
	return lang.L("sms.reason.other")
}

// unreachable reports whether err is a service not reached: no
// connection, no such host, no answer in time.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ne net.Error
	return errors.As(err, &op) || errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// friendly explains a failure in plain words with what to do next.
func friendly(err error) string {
	detail := describe(err)
	var ce *configError
	var held *crypt.LockedError
	switch {
	case errors.As(err, &ce):
		return lang.L("config.unreadable", map[string]any{"Path": ce.Path, "Detail": detail})
	case errors.Is(err, envelope.ErrSMS):
		return smsFailure(err, lang.L("err.sms"))
	case errors.As(err, new(*client.Error)):
		return serverFailure(err)
	case errors.Is(err, auditlog.ErrUnavailable):
		return lang.L("err.log")
	case errors.Is(err, syscall.ENOSPC):
		return lang.L("err.disk")
	case errors.Is(err, scan.ErrSensitive):
		return lang.L("err.sensitive", map[string]any{"Detail": detail})
	case errors.As(err, &held):
		return lang.L("err.held", map[string]any{"Path": held.Path})
	case errors.Is(err, crypt.ErrInput), errors.Is(err, crypt.ErrWeakPassword), errors.Is(err, crypt.ErrExists):
		return lang.L("err.input", map[string]any{"Detail": detail})
	}
	return lang.L("err.other", map[string]any{"Detail": detail})
}

// serverFailure says why a call to the kuvert server failed, in the
// window's language: not reached (or down for now), the token refused,
// else the HTTP status alone; never the transport's words or the
// server's own two-language message.
func serverFailure(err error) string {
	var ce *client.Error
	errors.As(err, &ce)
	switch {
	case errors.Is(err, client.ErrUnreachable):
		return lang.L("err.server.unreachable")
	case errors.Is(err, client.ErrUnauthorized):
		return lang.L("err.server.token")
	}
	return lang.L("err.server.other", map[string]any{"Status": ce.Status})
}

// previewProblem says in the window's language why the SMS cannot be
// shown with these settings: no organisation name, a recipient page's
// address (opener) an SMS cannot carry, or else the settings in general;
// never the SMS package's own English.
func previewProblem(err error, opener string) string {
	switch {
	case errors.Is(err, sms.ErrNoOrganisation):
		return lang.L("settings.preview.noorg")
	case opener != "":
		if _, oerr := sms.CheckOpenerURL(opener); oerr != nil {
			return lang.L("settings.preview.opener")
		}
	}
	return lang.L("settings.preview.other")
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

// plural is key's form for n from the catalog: key+".one" for one,
// key+".other" for every other count (Swedish and English both).
func plural(key string, n int, data map[string]any) string {
	if n == 1 {
		return lang.L(key+".one", data)
	}
	return lang.L(key+".other", data)
}

// keyringFailed is what the clerk reads when the OS keyring (Secret
// Service over D-Bus, Windows Credential Manager, the macOS Keychain)
// refuses: never the keyring library's own words (exec: "dbus-launch" …).
func keyringFailed(error) string { return lang.L("err.keyring") }

// archiveNameProblem words why naming.Archive refused the archive name
// the user typed (err; the decision is naming's): a path, the wrong
// extension, a personnummer, or a character a file name cannot hold.
func archiveNameProblem(err error, name string, f crypt.Format) string {
	ext := ".zip"
	if f == crypt.FormatAge {
		ext = ".age"
	}
	name = naming.StripFormat(strings.TrimSpace(name))
	switch {
	case !errors.Is(err, naming.ErrName):
		return err.Error()
	case strings.ContainsAny(name, `/\`):
		return lang.L("seal.archive.path")
	case !strings.HasSuffix(strings.ToLower(name), ext):
		return lang.L("seal.archive.ext", map[string]any{"Ext": ext, "Has": filepath.Ext(name)})
	case len(personnummer.FindAll(name)) > 0:
		return lang.L("seal.archive.pnr")
	}
	return lang.L("seal.archive.bad")
}
