package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/personnummer"
)

// The e-mail step (Options.Mail).
const (
	MailNone  = "none"  // no e-mail step
	MailDraft = "draft" // one .eml draft per row in OUT/utkast
	MailSend  = "send"  // sent through the organisation's relay
)

// DraftDir is the folder in the output folder that holds the drafts.
const DraftDir = "utkast"

// Mailer submits one finished message (mailrelay.Relay).
type Mailer interface {
	Send(ctx context.Context, from, to string, msg []byte) (string, error)
}

// The states of a row's mail, recorded at the start of an ActionMail
// entry's Details.
const (
	mailDraft   = "draft"   // the draft was written
	mailSending = "sending" // handed to the relay; outcome not yet known
	mailSent    = "sent"    // the relay accepted it
	mailFailed  = "failed"  // the relay refused it, or it never got there
)

func mailState(e *auditlog.Entry) string {
	s, _, _ := strings.Cut(e.Details, ":")
	return s
}

// testHookAfterMail, if set (only by this package's tests), runs after a
// row's mail is on record and before its SMS: the crash tests kill the
// process there.
var testHookAfterMail func(row int)

// testHookBeforeMail, if set (only by this package's tests), runs when a
// row's archive is sealed and logged, before it is attached: the tests
// swap the file there, as another account could.
var testHookBeforeMail func(archive string)

// maskEmail keeps the first letter and the domain: å***@kommun.se. The
// log and report are public records; the local part may hold a name or
// a personnummer.
func maskEmail(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "***"
	}
	first := []rune(local)[0]
	return personnummer.MaskWith(string(first)+"***@"+domain, "xxxx")
}

func (o Options) mailRow(r Row) bool { return o.Mail != "" && o.Mail != MailNone && r.Email != "" }

func (o Options) draft(r Row, ref string) envelope.Draft {
	return envelope.Draft{To: r.Email, Lang: o.Lang, Ref: ref, ByAge: r.Format == crypt.FormatAge, OpenerURL: o.OpenerURL, Dir: filepath.Join(o.OutDir, DraftDir)}
}

// mailStep writes the row's draft or sends its mail, each recorded in the
// log (a sent mail twice: "sending" before the relay is called, "sent"
// or "failed" after, so that a crash in between is never taken for a
// mail that did not go out).
func mailStep(ctx context.Context, m *Manifest, r Row, o Options, sealed *envelope.Result, ref string, res *RowResult) error {
	d := o.draft(r, ref)
	entry := func(state, details string) auditlog.Entry {
		e := rowEntry(m, r, auditlog.ActionMail, sealed.Entry.ID, state+": "+details)
		e.Archive = sealed.Entry.Archive
		return e
	}
	if testHookBeforeMail != nil {
		testHookBeforeMail(sealed.Archive)
	}
	// The archive is opened once and hashed as it is attached: the mail
	// carries exactly the bytes that were sealed and logged, or nothing.
	att, err := openSealed(sealed.Archive)
	if err != nil {
		return refuseChanged(o, entry, err)
	}
	defer att.Close()
	sum := sha256.New()
	d.Attachment = io.TeeReader(att, sum)
	same := func() bool { return hex.EncodeToString(sum.Sum(nil)) == sealed.SHA256 }
	if o.Mail == MailDraft {
		if err := os.MkdirAll(d.Dir, 0o700); err != nil {
			return fmt.Errorf("the e-mail draft could not be written: %v", err)
		}
		path, err := envelope.WriteDraft(sealed.Archive, d)
		if err != nil {
			return fmt.Errorf("the e-mail draft could not be written: %w", err)
		}
		if !same() {
			os.Remove(path)
			return refuseChanged(o, entry, errors.New("its SHA-256 is not the one sealed and logged"))
		}
		if _, err := o.Log.Append(entry(mailDraft, "e-post-utkast / e-mail draft "+filepath.Join(DraftDir, filepath.Base(path))+" to "+maskEmail(r.Email))); err != nil {
			os.Remove(path)
			return err
		}
		res.Mail = mailDraft
		return nil
	}
	var msg bytes.Buffer
	id := sealed.Entry.ID + "." + strconv.Itoa(r.Num) + "@kuvert"
	if err := envelope.WriteMail(&msg, sealed.Archive, d, envelope.Sending{From: o.MailFrom, MessageID: id}); err != nil {
		return fmt.Errorf("the e-mail could not be made: %w", err)
	}
	if !same() {
		return refuseChanged(o, entry, errors.New("its SHA-256 is not the one sealed and logged"))
	}
	to := maskEmail(r.Email)
	if _, err := o.Log.Append(entry(mailSending, "to "+to+", Message-ID <"+id+">")); err != nil {
		return err
	}
	answer, err := o.Mailer.Send(ctx, o.MailFrom, r.Email, msg.Bytes())
	answer = strings.ReplaceAll(answer, r.Email, to)
	if err != nil {
		// The relay's answer may repeat the address; the log and the
		// report keep it masked.
		err = errors.New(strings.ReplaceAll(err.Error(), r.Email, to))
		if _, lerr := o.Log.Append(entry(mailFailed, "to "+to+": "+err.Error())); lerr != nil {
			return fmt.Errorf("the e-mail could not be sent (%v), and the compliance log cannot record that: %w", err, lerr)
		}
		return fmt.Errorf("the e-mail could not be sent: %w", err)
	}
	if _, err := o.Log.Append(entry(mailSent, "to "+to+", Message-ID <"+id+">, relay: "+answer)); err != nil {
		return fmt.Errorf("the e-mail went out but the compliance log could not record it: %w", err)
	}
	res.Mail = mailSent
	return nil
}

// ErrArchiveChanged: the file at a row's archive path is not the archive
// that was sealed and logged (its SHA-256 differs, or it is no longer a
// regular file): the row fails and nothing is mailed or texted.
var ErrArchiveChanged = errors.New("the archive changed after it was sealed")

// openSealed opens the archive a row just sealed: a regular file (not a
// link, a pipe or a device, which the open could not tell), opened
// without blocking.
func openSealed(path string) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, errors.New("it is gone")
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("it is no longer a regular file")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, errors.New("it cannot be read")
	}
	if st, err := f.Stat(); err != nil || !os.SameFile(fi, st) {
		f.Close()
		return nil, errors.New("it was replaced while being opened")
	}
	return f, nil
}

// refuseChanged records that a row's archive is not what was sealed, and
// returns the row's error: no mail, no SMS.
func refuseChanged(o Options, entry func(state, details string) auditlog.Entry, why error) error {
	err := fmt.Errorf("arkivet ändrades efter förseglingen; inget e-postades eller sms:ades / %w (%v); nothing was mailed or texted", ErrArchiveChanged, why)
	if _, lerr := o.Log.Append(entry(mailFailed, "arkivet är inte det som förseglades och loggades; inget skickat / the archive is not the one sealed and logged; nothing sent: "+why.Error())); lerr != nil {
		return fmt.Errorf("%v, and the compliance log cannot record that: %w", err, lerr)
	}
	return err
}

// The pending password: between the mail and the SMS a row's password
// must survive a crash, or the re-run could only mail a second archive.
// It lies in OUT/.pending/ROW (0600, synced) from just before the mail
// until the SMS is on record, and nowhere else.
//
// Rows run side by side share the folder: a row removes only its own
// file, and [Run] removes the folder once no row runs any more. (A row
// that removed the folder when it looked empty could do so between
// another row's MkdirAll and the creation of that row's temporary file,
// which then failed.)
func pendingPath(o Options, row int) string {
	return filepath.Join(o.OutDir, ".pending", strconv.Itoa(row))
}

func writePending(o Options, row int, pw string) error {
	dir := filepath.Dir(pendingPath(o, row))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(pendingPath(o, row), []byte(pw), 0o600)
}

func readPending(o Options, row int) (string, error) {
	b, err := os.ReadFile(pendingPath(o, row))
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", errors.New("empty")
	}
	return string(b), nil
}

func removePending(o Options, row int) {
	os.Remove(pendingPath(o, row))
}

// removePendingDir removes OUT/.pending if no row keeps a password in it
// any more (a non-empty folder is not removed). Only when no row runs.
func removePendingDir(o Options) {
	os.Remove(filepath.Join(o.OutDir, ".pending"))
}
