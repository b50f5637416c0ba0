package envelope

import (
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/scan"
	"github.com/kuvert-app/kuvert/sms"
)

// Draft describes the e-mail draft kuvert writes beside an archive.
type Draft struct {
	To      string // recipient's address
	Subject string // "" for the neutral default
	Lang    string // sv (default) or en
	Ref     string // the SMS reference, if the password went by SMS
	ByAge   bool   // the archive is an age file
	Force   bool
	// OpenerURL is the recipient page's public address (config
	// opener_url): the draft explains it first, 7-Zip second.
	OpenerURL string
	// Dir, if set, is the folder the draft goes in (batch: OUT/utkast);
	// otherwise it goes beside the archive.
	Dir string
	// Attachment, if set, gives the archive's bytes instead of opening
	// the archive's path: batch hands in the file it opened once and
	// hashes while the message is written, so that what is attached is
	// exactly what was sealed and logged.
	Attachment io.Reader
}

// DefaultSubject is neutral on purpose: no file name, no "lönelista".
var DefaultSubject = map[string]string{"sv": "Krypterad bilaga", "en": "Encrypted attachment"}

// CheckSubject refuses a subject with a personnummer in it.
func CheckSubject(s string) error {
	if m := personnummer.FindAll(s); len(m) > 0 {
		return fmt.Errorf("%w: the subject holds a personnummer (%s); subjects travel in the clear and are logged", scan.ErrSensitive, m[0].Masked)
	}
	return nil
}

// DraftPath is where [WriteDraft] puts the draft for an archive.
func DraftPath(archive string) string { return archive + ".eml" }

func (d Draft) path(archive string) string {
	if d.Dir != "" {
		return filepath.Join(d.Dir, filepath.Base(archive)+".eml")
	}
	return DraftPath(archive)
}

// CheckDraft checks what [WriteDraft] will need, so that [Seal] can refuse
// before sealing: the subject, the address, and the draft's path (free,
// unless d.Force replaces a file there).
func CheckDraft(archive string, d Draft) error {
	if _, err := draftSubject(d); err != nil {
		return err
	}
	if _, err := mail.ParseAddress(d.To); err != nil {
		return fmt.Errorf("%q is not an e-mail address", d.To)
	}
	if d.OpenerURL != "" {
		if _, err := sms.CheckOpenerURL(d.OpenerURL); err != nil {
			return err
		}
	}
	out := d.path(archive)
	st, err := os.Lstat(out)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("the draft %s would replace a folder", out)
	case err == nil && !d.Force:
		return fmt.Errorf("the draft %s already exists (use --force)", out)
	case err != nil && !os.IsNotExist(err):
		return err
	}
	return nil
}

func draftSubject(d Draft) (string, error) {
	subject := d.Subject
	if subject == "" {
		subject = DefaultSubject[draftLang(d)]
		if d.Ref != "" {
			subject += " (ref " + d.Ref + ")"
		}
	}
	return subject, CheckSubject(subject)
}

func draftLang(d Draft) string {
	if d.Lang != "en" {
		return "sv"
	}
	return "en"
}

// WriteDraft writes ARCHIVE.eml: a MIME message with the archive attached,
// X-Unsent: 1 so that Outlook opens it as an editable draft, and a body
// that tells the recipient how to open it. It never contains the
// password.
func WriteDraft(archive string, d Draft) (string, error) {
	if d.OpenerURL != "" {
		if _, err := sms.CheckOpenerURL(d.OpenerURL); err != nil {
			return "", err
		}
	}
	lang := draftLang(d)
	subject, err := draftSubject(d)
	if err != nil {
		return "", err
	}
	to, err := mail.ParseAddress(d.To)
	if err != nil {
		return "", fmt.Errorf("%q is not an e-mail address", d.To)
	}
	out := d.path(archive)
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if d.Force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(out, flag, 0o600)
	if err != nil {
		if os.IsExist(err) {
			return "", fmt.Errorf("the draft %s already exists (use --force)", out)
		}
		return "", err
	}
	err = writeMessage(f, archive, to, subject, lang, d, nil)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return "", err
	}
	return out, nil
}

// Sending is what a sent mail has that a draft has not.
type Sending struct {
	From      string // the sender's address (config mail_from)
	MessageID string // without <>; generated if empty
}

// WriteMail writes the message [WriteDraft] writes, for sending: the same
// body, subject and byte-identical attachment, with From and a Message-ID
// and without X-Unsent. It never contains the password.
func WriteMail(w io.Writer, archive string, d Draft, s Sending) error {
	subject, err := draftSubject(d)
	if err != nil {
		return err
	}
	to, err := mail.ParseAddress(d.To)
	if err != nil {
		return fmt.Errorf("%q is not an e-mail address", d.To)
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("the sender %q is not an e-mail address (mail_from)", s.From)
	}
	return writeMessage(w, archive, to, subject, draftLang(d), d, &s)
}

// writeMessage writes the draft (send == nil) or the mail to send.
func writeMessage(w io.Writer, archive string, to *mail.Address, subject, lang string, d Draft, send *Sending) error {
	var h gomail.Header
	h.SetDate(time.Now())
	h.SetAddressList("To", []*gomail.Address{{Name: to.Name, Address: to.Address}})
	h.SetSubject(subject)
	if send == nil {
		h.Set("X-Unsent", "1")
	} else {
		from, _ := mail.ParseAddress(send.From)
		h.SetAddressList("From", []*gomail.Address{{Name: from.Name, Address: from.Address}})
		if send.MessageID != "" {
			h.SetMessageID(send.MessageID)
		} else if err := h.GenerateMessageID(); err != nil {
			return err
		}
	}
	h.Set("X-Mailer", "kuvert")
	mw, err := gomail.CreateWriter(w, h)
	if err != nil {
		return err
	}
	var th gomail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return err
	}
	io.WriteString(tw, draftBody(filepath.Base(archive), lang, d))
	tw.Close()

	var ah gomail.AttachmentHeader
	ctype := "application/zip"
	if d.ByAge {
		ctype = "application/octet-stream"
	}
	ah.SetContentType(ctype, nil)
	ah.SetFilename(filepath.Base(archive))
	aw, err := mw.CreateAttachment(ah)
	if err != nil {
		return err
	}
	src := d.Attachment
	if src == nil {
		af, err := os.Open(archive)
		if err != nil {
			return err
		}
		defer af.Close()
		src = af
	}
	if _, err := io.Copy(aw, src); err != nil {
		return err
	}
	if err := aw.Close(); err != nil {
		return err
	}
	return mw.Close()
}

func draftBody(name, lang string, d Draft) string {
	var b strings.Builder
	sv := func() {
		fmt.Fprintf(&b, "Hej!\n\nBifogat finns en krypterad fil: %s\n\n", name)
		if d.Ref != "" {
			fmt.Fprintf(&b, "Lösenordet har skickats till dig med sms, med referensen %s. Det skickas aldrig med e-post.\n\n", d.Ref)
		} else {
			b.WriteString("Lösenordet får du på annat sätt, till exempel med sms. Det skickas aldrig med e-post.\n\n")
		}
		if d.OpenerURL != "" {
			fmt.Fprintf(&b, "Enklast öppnar du filen i webbläsaren, på telefonen eller datorn, utan att installera något: gå till %s, välj filen och skriv lösenordet. Ingenting laddas upp; allt sker i din webbläsare.\n\n", d.OpenerURL)
		}
		if d.ByAge {
			b.WriteString("Filen är krypterad med age. Öppna den med programmet age (age -d) eller kuvert.\n\n")
		} else {
			if d.OpenerURL != "" {
				b.WriteString("Du kan också öppna den med ett program:\n")
			} else {
				b.WriteString("Så öppnar du filen:\n")
			}
			b.WriteString(
				"- Windows: installera 7-Zip (gratis, https://7-zip.org). Högerklicka på filen, välj 7-Zip > Extrahera filer och skriv lösenordet exakt som i sms:et, med bindestrecken.\n" +
					"- Mac: använd The Unarchiver eller Keka.\n" +
					"- Telefon: Android med ZArchiver, iPhone med iZip eller Documents by Readdle; skriv lösenordet när appen frågar.\n" +
					"- Windows Utforskare och macOS Arkivverktyg kan inte öppna filen.\n" +
					"- Innehåller arkivet bara filen bilagor.zip, öppna den också: där finns filerna.\n\n")
		}
		b.WriteString("Vänliga hälsningar\n")
	}
	en := func() {
		fmt.Fprintf(&b, "Hello,\n\nAttached is an encrypted file: %s\n\n", name)
		if d.Ref != "" {
			fmt.Fprintf(&b, "The password was sent to you by SMS, with the reference %s. It is never sent by e-mail.\n\n", d.Ref)
		} else {
			b.WriteString("You will get the password another way, for example by SMS. It is never sent by e-mail.\n\n")
		}
		if d.OpenerURL != "" {
			fmt.Fprintf(&b, "The easiest way to open it is in your browser, on a phone or a computer, with nothing to install: go to %s, choose the file and type the password. Nothing is uploaded; it all happens in your browser.\n\n", d.OpenerURL)
		}
		if d.ByAge {
			b.WriteString("The file is encrypted with age. Open it with age (age -d) or kuvert.\n\n")
		} else {
			if d.OpenerURL != "" {
				b.WriteString("You can also open it with a program:\n")
			} else {
				b.WriteString("To open it:\n")
			}
			b.WriteString(
				"- Windows: install 7-Zip (free, https://7-zip.org). Right-click the file, choose 7-Zip > Extract files and type the password exactly as in the SMS, including the dashes.\n" +
					"- Mac: use The Unarchiver or Keka.\n" +
					"- Phone: ZArchiver on Android, iZip or Documents by Readdle on iPhone; type the password when the app asks.\n" +
					"- Windows Explorer and macOS Archive Utility cannot open it.\n" +
					"- If the archive holds only bilagor.zip, open that too: the files are inside.\n\n")
		}
		b.WriteString("Kind regards\n")
	}
	if lang == "en" {
		en()
	} else {
		sv()
		b.WriteString("\n----- English -----\n\n")
		en()
	}
	return b.String()
}
