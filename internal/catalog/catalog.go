// Package catalog is the words of the two-language shells — the CLI and
// the server's registrar page and CSV — for the core's codes: each
// [fault.Code] a domain error or a log event carries, as one line
// "svenska / English" (English alone where kuvert's line always was).
// The desktop app has its own catalog, in one language at a time
// (gui/translations). The core never imports this package.
package catalog

import (
	"sort"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/fault"
)

// lines are the words, with {name} for a field and {cause} for the
// wrapped cause in these words. Each is the line kuvert printed or
// logged before the core returned codes; TestKeepsWords holds them to it.
var lines = map[fault.Code]string{
	batch.CodeFileAbsolute:   "file {file}: an absolute path; name files relative to the manifest, in its folder or below",
	batch.CodeFileOutside:    "file {file}: outside the manifest's folder; files must lie in its folder or below",
	batch.CodeFileViaLink:    "file {file}: outside the manifest's folder (through a link); files must lie in its folder or below",
	batch.CodeFileMissing:    "file {file}: missing",
	batch.CodeFileNotFound:   "file {file}: missing or unreadable",
	batch.CodeFileSymlink:    "file {file}: a symbolic link; name the file itself",
	batch.CodeFileNotRegular: "file {file}: not a regular file (a folder, a named pipe or a device)",
	batch.CodeFileUnreadable: "file {file}: unreadable",
	batch.CodeFileChanging:   "file {file}: changed while it was checked; run again",
	batch.CodeFileInHome:     "file {file}: in kuvert's own folder (KUVERT_HOME, with the log and its signing key); kuvert seals nothing from there",
	batch.CodeFileSwapped:    "file {file}: not the file that was checked",
	batch.CodeFileHeld:       "file {file}: öppen i ett annat program (t.ex. Excel), stäng den och försök igen / open in another program (e.g. Excel): close it and try again",
	batch.CodeRowNoFile:      "no file",
	batch.CodeRowNoMobile:    "no mobile number",

	batch.CodeEncodingReplaced:   `manifestet innehåller ersättningstecken (rad {line}: {char}), så bokstäver har redan gått förlorade; spara det från originalet som "CSV UTF-8" i Excel / the manifest holds replacement characters (line {line}: {char}), so letters were already lost; save it from the original as "CSV UTF-8" in Excel`,
	batch.CodeEncodingUnknown:    `manifestet är varken UTF-8 eller Windows-1252; spara det som "CSV UTF-8" i Excel / the manifest is neither UTF-8 nor Windows-1252; save it as "CSV UTF-8" in Excel`,
	batch.CodeEncodingImprobable: `manifestet är inte UTF-8, och som Windows-1252 blir det osannolika tecken (rad {line}: {char}) — kanske sparat på en Mac; spara det som "CSV UTF-8" i Excel och försök igen / the manifest is not UTF-8, and read as Windows-1252 it gives improbable characters (line {line}: {char}) — perhaps saved on a Mac; save it as "CSV UTF-8" in Excel and try again`,
	batch.CodeWorkbookUnreadable: `arbetsboken går inte att läsa — skadad eller skyddad med lösenord; spara den utan lösenord eller som "CSV UTF-8" / the workbook cannot be read — damaged or protected with a password; save it without one or as "CSV UTF-8"`,
	batch.CodeWorkbookNoSheet:    "arbetsboken har inget blad / the workbook has no sheet",

	batch.CodeUnknownColumn:  "unknown column {column} (known: file/fil, phone/mobil, name/namn, email/epost, case/diarienummer, output, format, recipient)",
	batch.CodeColumnTwice:    "column {column} appears twice",
	batch.CodeNoFileColumn:   "no file column (file or fil)",
	batch.CodeNoPhoneColumn:  "no phone column (phone or mobil)",
	batch.CodeNoRows:         "the manifest has no rows",
	batch.CodeRowNotCSV:      "not valid CSV: {cause}",
	batch.CodeRowRecipient:   "recipient: not an age public key",
	batch.CodeRowFormat:      "unknown format {format} (use zip or age)",
	batch.CodeRowOutput:      "output: {cause}",
	batch.CodeRowOutputOwn:   "output {output}: the name is kept for the run's own files (state.json, report.csv, their backups, names starting with a dot); choose another name",
	batch.CodeRowOutputTwice: "output {output} is also row {row}'s",
	batch.CodeRowEmailPnr:    "e-mail address holds a personnummer",
	batch.CodeRowEmail:       "e-mail {email}: {cause}",

	batch.CodeStaleChanged:       "its files changed since it was sealed, and its archive {archive} was changed too; kuvert does not replace it (move it away and run again)",
	batch.CodeMailedChanged:      "its e-mail went out in an earlier run, but its archive {archive} was changed since; the SMS is not sent",
	batch.CodeInterruptedChanged: "interrupted in an earlier run, and its archive {archive} was changed since; kuvert does not replace it (move it away and run again)",
	batch.CodeShownChanged:       "lösenordet visades bara av demoleverantören i en tidigare körning, och arkivet {archive} har ändrats sedan dess; kuvert ersätter det inte (flytta undan det och kör igen) / its password was only shown by the demo provider in an earlier run, and its archive {archive} was changed since; kuvert does not replace it (move it away and run again)",

	batch.CodeOutDirLink:       "utmappen {dir} är en länk / the output folder {dir} is a symbolic link; name the folder itself",
	batch.CodeOutDirNotFolder:  "utmappen {dir} är ingen mapp / the output folder {dir} is not a folder",
	batch.CodeOutDirOtherOwner: "utmappen {dir} ägs av ett annat konto (uid {uid}) / the output folder {dir} is owned by another account (uid {uid}); choose a folder of your own",
	batch.CodeOutDirShared:     "utmappen {dir} kan skrivas av andra ({mode}) / the output folder {dir} can be written by others ({mode}); run chmod go-w on it, or choose a folder only you can write to",
	batch.CodeOutDirOtherBatch: "{dir} belongs to another batch ({batch}); choose another --out-dir",
	batch.CodeOutDirNotWritten: "{path} exists and was not written by this batch; choose another --out-dir",

	auditlog.CodePruned:       "gallring: {count} poster äldre än {before} ({retention}) / pruned {count} entries older than {before} (retention {retention}); their hashes remain",
	auditlog.CodeSupersedes:   "ersätter / supersedes {entry} (nytt lösenord / new password)",
	auditlog.CodeSupersededBy: "ersatt av / superseded by {entry}",
	auditlog.CodeSMSResent:    "lösenord skickat med kuvert sms send / password sent with kuvert sms send",
	auditlog.CodeRelayed:      "förmedlat av kuvert server för {device} / relayed by kuvert server for {device}",

	auditlog.CodeSMSFailedKeptOwn:       "sms:et misslyckades; arkivet behölls (avsändaren valde lösenordet) / SMS failed; the archive was kept (the sender chose the password)",
	auditlog.CodeSMSFailedKeptDelivered: "sms:et misslyckades; arkivet behölls eftersom det redan var levererat / SMS failed; the archive was kept, because it was already delivered",
	auditlog.CodeSMSFailedRemoved:       "sms:et misslyckades; arkivet togs bort eftersom lösenordet inte nådde någon / SMS failed; the archive was removed because its generated password reached nobody",
	auditlog.CodeDraftFailedRemoved:     "e-postutkastet kunde inte skrivas; arkivet togs bort eftersom lösenordet inte nådde någon / the e-mail draft could not be written; the archive was removed because its generated password reached nobody",
	auditlog.CodeDeliveryFailedRemoved:  "arkivet kunde inte levereras; det togs bort eftersom lösenordet inte nådde någon / the archive could not be delivered; it was removed because its generated password reached nobody",

	envelope.CodeSMSNeedsPassword:      "SMS delivery needs a password, not age recipients",
	envelope.CodeNameHasPersonnummer:   "the archive name {name} holds a personnummer ({masked}), and it travels in the clear",
	envelope.CodeNotRecordedRemoved:    "{cause}; the archive was removed, because nothing may be sealed without a record",
	envelope.CodeDraftFailedKept:       "the archive {archive} is sealed and kept, but the e-mail draft could not be written: {cause}",
	envelope.CodeDraftFailedRemoved:    "the e-mail draft could not be written: {cause}; the archive was removed, because its password reached nobody",
	envelope.CodeDeliveryFailedKept:    "the archive {archive} is sealed and kept, but it could not be delivered: {cause}",
	envelope.CodeDeliveryFailedRemoved: "{cause}; the archive was removed, because its password reached nobody",
	envelope.CodeSentNotLogged:         "the SMS was sent (id {id}) but the compliance log could not record it: {cause}",

	// The kuvert server's client, the enrollment and the shipping queue
	// (server/client…): their codes written out, as the server imports
	// this package and the client's tests import the server.
	"client.no-token":             "ingen token för kuvert-servern / no token for the kuvert server: set KUVERT_SERVER_TOKEN or save it in the desktop app's settings",
	"client.token-damaged":        "serverns token är skadad / the server token holds spaces or line breaks; copy it again",
	"client.url-not-https":        "serverns adress är inte en https-adress / the server address {url} is not an https:// URL",
	"client.url-userinfo":         "serverns adress får inte innehålla användare eller lösenord / the server address must not hold a user or password; the token goes in KUVERT_SERVER_TOKEN or the keyring",
	"client.url-query":            "the server address {url} must not have a query or fragment",
	"client.url-plain-http":       "serverns adress använder http / the server address {url} uses http: the token would travel unencrypted; use https (plain http only to 127.0.0.1, ::1 or localhost)",
	"client.no-enrollment-code":   "ingen registreringskod / no enrollment code",
	"client.enroll-unknown":       "kuvert-servern / kuvert server {server}: servern känner inte igen registreringskoden; kontrollera att den är rätt inskriven / the server does not know the enrollment code; check that it is typed correctly",
	"client.enroll-used-up":       "kuvert-servern / kuvert server {server}: registreringskoden är förbrukad (alla datorer den räckte till är registrerade); be IT om en ny kod / the enrollment code is used up; ask IT for a new one",
	"client.enroll-expired":       "kuvert-servern / kuvert server {server}: registreringskoden har gått ut; be IT om en ny kod / the enrollment code has expired; ask IT for a new one",
	"client.enroll-revoked":       "kuvert-servern / kuvert server {server}: registreringskoden är återkallad; be IT om en ny kod / the enrollment code has been revoked; ask IT for a new one",
	"app.server-key-swapped":      "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server: the server now reports key {key}, but the heads this computer saw from it are signed by another key; only the server itself vouches for the new one, so its history may have been rewritten (if its administrator changed the key, check with --key and the newly published verifier key)",
	"app.upload-unproved":         "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server: when this computer shipped entry {seq} ({id}) the server's answer did not prove it holds it; the entry still waits to be shipped ({message})",
	"app.server-check-failed":     "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server: the server's own check failed at entry {entry}: {problem}",
	"app.server-key-differs":      "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server: the server reports key {key}, not the one given",
	"client.central-log-tampered": "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server",

	"clientenv.not-enrolled":   "datorn är inte registrerad hos kuvert-servern / this computer is not enrolled with the kuvert server: run kuvert enroll CODE with the code from IT (or ask IT to set EnrollmentCode by policy)",
	"clientenv.no-keyring":     "no keyring to keep the device token in",
	"clientenv.enroll-busy":    "registreringen väntar på en annan kuvert / another kuvert is enrolling this computer: {cause}",
	"clientenv.enroll-keyring": "nyckelringen gick inte att använda, så koden sparades till senare / the OS keyring cannot be used, so the enrollment code was not spent: {cause}",
	"clientenv.no-hostname":    "datorns namn gick inte att läsa / the computer's name cannot be read: {cause}",
	"clientenv.token-not-kept": "datorn registrerades som {name} men token kunde inte sparas i nyckelringen; be IT återkalla den (kuvert server token revoke {name}) / enrolled as {name}, but the token could not be kept in the OS keyring: {cause}",

	"shipping.busy":      "en annan kuvert skickar redan loggen till servern / another kuvert is shipping the log to the server right now",
	"shipping.no-server": "ingen server är inställd / no server is configured (KUVERT_SERVER_URL or server_url in config.json)",
}

// Text is err in these words: each fault in it worded, the rest as the
// error reads.
func Text(err error) string { return fault.Text(err, words) }

func words(e *fault.Error, cause string) (string, bool) {
	line, ok := lines[e.Code]
	if !ok {
		return "", false
	}
	return fill(line, e.Fields, cause), true
}

// Details is what an entry says beyond its fields: its event in these
// words, or the prose an older entry holds in Details, as it is. An
// event whose code this version does not know (a newer kuvert wrote it)
// shows its code and values.
func Details(e *auditlog.Entry) string {
	if e.Event == nil {
		return e.Details
	}
	if line, ok := lines[e.Event.Code]; ok {
		return fill(line, e.Event.Fields, "")
	}
	return e.Event.String()
}

// Known reports whether code has words here.
func Known(code fault.Code) bool { _, ok := lines[code]; return ok }

// Codes lists the codes that have words here.
func Codes() []fault.Code {
	out := make([]fault.Code, 0, len(lines))
	for c := range lines {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// fill puts the fields and the rendered cause into line's {name}
// places, in one pass (a value holding "{x}" stays as it is).
func fill(line string, fields map[string]string, cause string) string {
	if !strings.Contains(line, "{") {
		return line
	}
	return strings.NewReplacer(append([]string{"{cause}", cause}, braced(fields)...)...).Replace(line)
}

func braced(fields map[string]string) []string {
	var out []string
	for n, v := range fields {
		out = append(out, "{"+n+"}", v)
	}
	return out
}
