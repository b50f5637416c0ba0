package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"testing"

	"github.com/kuvert-app/kuvert/app"
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/fault/faulttest"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/clientenv"
	"github.com/kuvert-app/kuvert/server/client/shipping"
)

// Every code the core declares (errors and log events) has words here,
// and every line here is for a code the core declares.
func TestHasEveryCode(t *testing.T) {
	codes := faulttest.Codes(t)
	for c, where := range codes {
		if lines[c] == "" {
			t.Errorf("the catalog lacks %s (%q)", where, c)
		}
	}
	for c := range lines {
		if _, ok := codes[c]; !ok {
			t.Errorf("the catalog words %q, which no core package declares", c)
		}
	}
}

// Each placeholder in the catalog names a field its code is given with,
// so no line is ever printed with a "{file}" left in it.
func TestPlaceholdersFilled(t *testing.T) {
	ph := regexp.MustCompile(`\{[a-z]+\}`)
	for c, line := range lines {
		fields := map[string]string{"file": "F", "archive": "A", "count": "3", "before": "2026-01-01", "retention": "2y", "entry": "E", "device": "D", "id": "SM1", "name": "x.zip", "masked": "19811218-****", "dir": "ut", "uid": "4242", "mode": "-rwxrwxrwx", "batch": "b", "path": "p", "column": `"c"`, "output": "o.zip", "row": "2", "email": `"e"`, "line": "3", "char": "'Œ'", "url": `"u"`, "server": "s", "format": `"f"`, "key": "k", "seq": "1", "message": "m", "problem": "p"}
		if got := ph.FindString(fill(line, fields, "C")); got != "" {
			t.Errorf("%s: %q left in %q", c, got, line)
		}
	}
}

// The lines kuvert printed before the core returned codes, word for
// word: the core tests now assert the codes (batch's
// TestInputsConfinedToManifestFolder and the like), this one that the
// CLI still says what it said.
func TestKeepsWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fault.New(batch.CodeFileMissing, "file", "saknas.pdf"), "file saknas.pdf: missing"},
		{fault.New(batch.CodeFileAbsolute, "file", "/etc/passwd"), "file /etc/passwd: an absolute path; name files relative to the manifest, in its folder or below"},
		{fault.New(batch.CodeFileOutside, "file", "../x.pdf"), "file ../x.pdf: outside the manifest's folder; files must lie in its folder or below"},
		{fault.New(batch.CodeFileViaLink, "file", "upp/x.pdf"), "file upp/x.pdf: outside the manifest's folder (through a link); files must lie in its folder or below"},
		{fault.New(batch.CodeFileSymlink, "file", "länk.pdf"), "file länk.pdf: a symbolic link; name the file itself"},
		{fault.New(batch.CodeFileNotRegular, "file", "rör"), "file rör: not a regular file (a folder, a named pipe or a device)"},
		{fault.New(batch.CodeFileInHome, "file", ".kuvert/config.json"), "file .kuvert/config.json: in kuvert's own folder (KUVERT_HOME, with the log and its signing key); kuvert seals nothing from there"},
		{fmt.Errorf("%w: %w", crypt.ErrInput, fault.New(batch.CodeFileSwapped, "file", "a.pdf")), "invalid input: file a.pdf: not the file that was checked"},
		{fault.New(batch.CodeRowNoMobile), "no mobile number"},
		{fmt.Errorf("%w: %w: %w", crypt.ErrInput, batch.ErrEncoding, fault.New(batch.CodeEncodingImprobable, "line", "3", "char", "'Œ'")), "invalid input: the manifest's character encoding cannot be told: manifestet är inte UTF-8, och som Windows-1252 blir det osannolika tecken (rad 3: 'Œ') — kanske sparat på en Mac; spara det som \"CSV UTF-8\" i Excel och försök igen / the manifest is not UTF-8, and read as Windows-1252 it gives improbable characters (line 3: 'Œ') — perhaps saved on a Mac; save it as \"CSV UTF-8\" in Excel and try again"},
		{fault.New(batch.CodeFileHeld, "file", "lön.xlsx"), "file lön.xlsx: öppen i ett annat program (t.ex. Excel), stäng den och försök igen / open in another program (e.g. Excel): close it and try again"},
		{fault.New(batch.CodeUnknownColumn, "column", `"färg"`), `unknown column "färg" (known: file/fil, phone/mobil, name/namn, email/epost, case/diarienummer, output, format, recipient)`},
		{fault.New(batch.CodeColumnTwice, "column", `"fil"`), `column "fil" appears twice`},
		{fault.New(batch.CodeNoFileColumn), "no file column (file or fil)"},
		{fault.New(batch.CodeNoPhoneColumn), "no phone column (phone or mobil)"},
		{fault.New(batch.CodeNoRows), "the manifest has no rows"},
		{fault.New(batch.CodeRowNotCSV).Wrap(errors.New(`extraneous " in field`)), `not valid CSV: extraneous " in field`},
		{fault.New(batch.CodeRowRecipient), "recipient: not an age public key"},
		{fault.New(batch.CodeRowFormat, "format", `"7z"`), `unknown format "7z" (use zip or age)`},
		{fault.New(batch.CodeRowOutput).Wrap(errors.New("x")), "output: x"},
		{fault.New(batch.CodeRowOutputOwn, "output", "report.csv"), "output report.csv: the name is kept for the run's own files (state.json, report.csv, their backups, names starting with a dot); choose another name"},
		{fault.New(batch.CodeRowOutputTwice, "output", "ut.zip", "row", "9"), "output ut.zip is also row 9's"},
		{fault.New(batch.CodeRowEmailPnr), "e-mail address holds a personnummer"},
		{fault.New(batch.CodeRowEmail, "email", `"x"`).Wrap(errors.New("y")), `e-mail "x": y`},
		{fault.New(batch.CodeStaleChanged, "archive", "a_rad2.zip"), "its files changed since it was sealed, and its archive a_rad2.zip was changed too; kuvert does not replace it (move it away and run again)"},
		{fault.New(envelope.CodeNotRecordedRemoved).Wrap(fmt.Errorf("%w: disk full", auditlog.ErrUnavailable)), "the compliance log cannot be written: disk full; the archive was removed, because nothing may be sealed without a record"},
		{fault.New(envelope.CodeDraftFailedKept, "archive", "a.zip").Wrap(errors.New("the draft a.zip.eml already exists (use --force)")), "the archive a.zip is sealed and kept, but the e-mail draft could not be written: the draft a.zip.eml already exists (use --force)"},
		{fault.New(envelope.CodeDraftFailedRemoved).Wrap(errors.New("x")), "the e-mail draft could not be written: x; the archive was removed, because its password reached nobody"},
		{fault.New(envelope.CodeDeliveryFailedRemoved).Wrap(errors.New("x")), "x; the archive was removed, because its password reached nobody"},
		{fault.New(envelope.CodeSentNotLogged, "id", "SM1").Wrap(errors.New("x")), "the SMS was sent (id SM1) but the compliance log could not record it: x"},
		{fmt.Errorf("%w: %w", crypt.ErrInput, fault.New(envelope.CodeSMSNeedsPassword)), "invalid input: SMS delivery needs a password, not age recipients"},
		{fmt.Errorf("%w: %w", batch.ErrUnsafeOutDir, fault.New(batch.CodeOutDirShared, "dir", "ut", "mode", (fs.FileMode(0o777)|fs.ModeDir).String())), "the output folder is not safe to seal into: utmappen ut kan skrivas av andra (drwxrwxrwx) / the output folder ut can be written by others (drwxrwxrwx); run chmod go-w on it, or choose a folder only you can write to"},
		{fmt.Errorf("%w: %w: %w", crypt.ErrInput, batch.ErrNotOurs, fault.New(batch.CodeOutDirOtherBatch, "dir", "ut", "batch", "abc")), "invalid input: the output folder holds files this batch did not write: ut belongs to another batch (abc); choose another --out-dir"},
		// The kuvert server's client, the enrollment and the shipping queue.
		{client.ErrNoToken, "ingen token för kuvert-servern / no token for the kuvert server: set KUVERT_SERVER_TOKEN or save it in the desktop app's settings"},
		{fault.New(client.CodeTokenDamaged), "serverns token är skadad / the server token holds spaces or line breaks; copy it again"},
		{fault.New(client.CodeURLNotHTTPS, "url", `"ftp://x"`), `serverns adress är inte en https-adress / the server address "ftp://x" is not an https:// URL`},
		{fault.New(client.CodeURLUserinfo), "serverns adress får inte innehålla användare eller lösenord / the server address must not hold a user or password; the token goes in KUVERT_SERVER_TOKEN or the keyring"},
		{fault.New(client.CodeURLQuery, "url", `"https://x?a=1"`), `the server address "https://x?a=1" must not have a query or fragment`},
		{fault.New(client.CodeURLPlainHTTP, "url", `"http://x"`), `serverns adress använder http / the server address "http://x" uses http: the token would travel unencrypted; use https (plain http only to 127.0.0.1, ::1 or localhost)`},
		{fault.New(client.CodeNoEnrollCode), "ingen registreringskod / no enrollment code"},
		{fmt.Errorf("%w: it has 2 entries, but it had 3 when this computer last checked: it was cut back", client.ErrTampered), "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server: it has 2 entries, but it had 3 when this computer last checked: it was cut back"},
		{fault.New(client.CodeEnrollUsedUp, "server", "kuvert.exempelby.se"), "kuvert-servern / kuvert server kuvert.exempelby.se: registreringskoden är förbrukad (alla datorer den räckte till är registrerade); be IT om en ny kod / the enrollment code is used up; ask IT for a new one"},
		{fault.New(app.CodeServerKeyDiffers, "key", "kuvert+1234abcd").Also(client.ErrTampered), "the compliance log does not verify: centralloggen på kuvert-servern håller inte / the central log on the kuvert server: the server reports key kuvert+1234abcd, not the one given"},
		{clientenv.ErrNoEnrollment, "datorn är inte registrerad hos kuvert-servern / this computer is not enrolled with the kuvert server: run kuvert enroll CODE with the code from IT (or ask IT to set EnrollmentCode by policy)"},
		{fault.New(clientenv.CodeNoKeyring), "no keyring to keep the device token in"},
		{fault.New(clientenv.CodeEnrollBusy).Wrap(errors.New("timed out")), "registreringen väntar på en annan kuvert / another kuvert is enrolling this computer: timed out"},
		{fault.New(clientenv.CodeEnrollKeyring).Wrap(errors.New("locked")), "nyckelringen gick inte att använda, så koden sparades till senare / the OS keyring cannot be used, so the enrollment code was not spent: locked"},
		{fault.New(clientenv.CodeNoHostname).Wrap(errors.New("empty name")), "datorns namn gick inte att läsa / the computer's name cannot be read: empty name"},
		{fault.New(clientenv.CodeTokenNotKept, "name", "pc-7").Wrap(errors.New("locked")), "datorn registrerades som pc-7 men token kunde inte sparas i nyckelringen; be IT återkalla den (kuvert server token revoke pc-7) / enrolled as pc-7, but the token could not be kept in the OS keyring: locked"},
		{shipping.ErrBusy, "en annan kuvert skickar redan loggen till servern / another kuvert is shipping the log to the server right now"},
		{fault.New(shipping.CodeNoServer), "ingen server är inställd / no server is configured (KUVERT_SERVER_URL or server_url in config.json)"},
		// A fault inside a fault: the outer one's {cause} is the inner one in words.
		{fault.New(envelope.CodeDeliveryFailedKept, "archive", "a.zip").Wrap(fault.New(batch.CodeFileMissing, "file", "b.pdf")), "the archive a.zip is sealed and kept, but it could not be delivered: file b.pdf: missing"},
	} {
		if got := Text(tc.err); got != tc.want {
			t.Errorf("Text(%v)\n got %q\nwant %q", tc.err, got, tc.want)
		}
	}
}

// An entry's details: its event in these words — the prose such entries
// held before, word for word — or an older entry's prose as it is, or an
// unknown event's code and values.
func TestDetails(t *testing.T) {
	for _, tc := range []struct {
		e    auditlog.Entry
		want string
	}{
		{auditlog.Entry{Details: "ersatt av / superseded by 20260101-aa"}, "ersatt av / superseded by 20260101-aa"},
		{auditlog.Entry{Event: auditlog.NewEvent(auditlog.CodeSupersededBy, "entry", "20260101-bb")}, "ersatt av / superseded by 20260101-bb"},
		{auditlog.Entry{Event: auditlog.NewEvent(auditlog.CodeSupersedes, "entry", "20260101-aa")}, "ersätter / supersedes 20260101-aa (nytt lösenord / new password)"},
		{auditlog.Entry{Event: auditlog.NewEvent(auditlog.CodeRelayed, "device", "pc1")}, "förmedlat av kuvert server för pc1 / relayed by kuvert server for pc1"},
		{auditlog.Entry{Event: auditlog.NewEvent(auditlog.CodeSMSResent)}, "lösenord skickat med kuvert sms send / password sent with kuvert sms send"},
		{auditlog.Entry{Event: auditlog.NewEvent(auditlog.CodePruned, "count", "12", "before", "2024-01-01", "retention", "2y")}, "gallring: 12 poster äldre än 2024-01-01 (2y) / pruned 12 entries older than 2024-01-01 (retention 2y); their hashes remain"},
		{auditlog.Entry{Event: auditlog.NewEvent(auditlog.CodeSMSFailedRemoved)}, "sms:et misslyckades; arkivet togs bort eftersom lösenordet inte nådde någon / SMS failed; the archive was removed because its generated password reached nobody"},
		{auditlog.Entry{Event: auditlog.NewEvent("log.from-a-newer-kuvert", "n", "1")}, "log.from-a-newer-kuvert{n=1}"},
		{auditlog.Entry{}, ""},
	} {
		if got := Details(&tc.e); got != tc.want {
			t.Errorf("Details(%+v)\n got %q\nwant %q", tc.e.Event, got, tc.want)
		}
	}
}
