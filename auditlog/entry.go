package auditlog

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/personnummer"
)

// Action is what an entry records. The log owns this vocabulary: other
// packages use these constants, never string literals.
type Action string

// Actions recorded in the log.
const (
	ActionSeal       Action = "seal"        // an archive was sealed
	ActionSealFailed Action = "seal-failed" // sealed, then removed (e.g. SMS failed)
	ActionSMS        Action = "sms"         // a password was (re)sent by SMS
	ActionMail       Action = "mail"        // an archive was mailed, or its e-mail draft written (Details says which)
	ActionSMSStatus  Action = "sms-status"  // a delivery status was fetched
	ActionPrune      Action = "prune"       // entry bodies were removed (gallring)
	ActionRepair     Action = "repair"      // an interrupted write was undone
	// ActionSuperseded marks a sealing (Refers) as replaced by a new one
	// with a new password (`kuvert resend`); Details names the new one.
	ActionSuperseded Action = "superseded"
)

// Swedish is the action in the registrar's words.
func (a Action) Swedish() string {
	switch a {
	case ActionSeal:
		return "krypterad"
	case ActionSealFailed:
		return "krypterad, sedan borttagen"
	case ActionSMS:
		return "sms"
	case ActionMail:
		return "e-post"
	case ActionSMSStatus:
		return "sms-status"
	case ActionPrune:
		return "gallring"
	case ActionRepair:
		return "reparation"
	case ActionSuperseded:
		return "ersatt"
	}
	return string(a)
}

// Origin says who chose a password.
type Origin string

// Password origins.
const (
	OriginGenerated Origin = "generated" // made by kuvert; shown only where it was delivered
	OriginUser      Origin = "user"      // typed by the sender
)

// Swedish is the origin in the registrar's words.
func (o Origin) Swedish() string {
	switch o {
	case OriginGenerated:
		return "genererat"
	case OriginUser:
		return "eget"
	}
	return string(o)
}

// Status is where a password's delivery stands: pending until the
// provider answers, then the provider's own word (Twilio's vocabulary).
type Status string

// Delivery states.
const (
	StatusPending     Status = "pending"       // recorded before the SMS went out
	StatusQueued      Status = "queued"        // the provider accepted it
	StatusAccepted    Status = "accepted"      // likewise
	StatusSending     Status = "sending"       // on its way
	StatusSent        Status = "sent"          // handed to the network
	StatusDelivered   Status = "delivered"     // the phone has it
	StatusUndelivered Status = "undelivered"   // the network gave up
	StatusFailed      Status = "failed"        // the provider refused or never got it
	StatusDemo        Status = "not-sent-demo" // shown on screen by the demo provider, not sent
	StatusOutbox      Status = "outbox"        // written to an outbox file, not sent
)

// Failed reports whether the password will not arrive by this delivery.
func (s Status) Failed() bool { return s == StatusFailed || s == StatusUndelivered }

// Sent reports whether an SMS really went to a provider (not demo,
// outbox, pending or failed).
func (s Status) Sent() bool {
	switch s {
	case StatusQueued, StatusAccepted, StatusSending, StatusSent, StatusDelivered:
		return true
	}
	return false
}

// Swedish is the state in the registrar's words; see [Delivery.Words].
func (s Status) Swedish() string { sv, _ := s.words(); return sv }

// English is the state in English; see [Delivery.Words].
func (s Status) English() string { _, en := s.words(); return en }

func (s Status) words() (sv, en string) {
	switch s {
	case StatusPending:
		return "väntar", "pending"
	case StatusQueued, StatusAccepted:
		return "köad hos leverantören", "queued at the provider"
	case StatusSending:
		return "skickas", "sending"
	case StatusSent:
		return "skickad", "sent"
	case StatusDelivered:
		return "levererad", "delivered"
	case StatusUndelivered:
		return "ej levererad", "undelivered"
	case StatusFailed:
		return "misslyckades", "failed"
	case StatusDemo:
		return demoSV, demoEN
	case StatusOutbox:
		return "utkorg (ej skickat)", "outbox (not sent)"
	}
	return string(s), string(s)
}

// What a demo delivery is called, everywhere: it never went out.
const (
	demoSV = "demo (ej skickat)"
	demoEN = "demo (not sent)"
)

// DemoProviders are the names of the SMS providers that send nothing
// (sms.Console and its like): a delivery through one is a demo whatever
// its status says.
var DemoProviders = []string{"console", "demo"}

// Demo reports whether the delivery is a demo: shown on a screen, sent
// to nobody.
func (d *Delivery) Demo() bool {
	if d == nil {
		return false
	}
	if d.Status == StatusDemo {
		return true
	}
	for _, p := range DemoProviders {
		// A relayed text's provider reads "kuvert-server/console".
		if d.Provider == p || strings.HasSuffix(d.Provider, "/"+p) {
			return true
		}
	}
	return false
}

// Sent reports whether the text really went to a provider (not a demo,
// outbox, pending or failed).
func (d *Delivery) Sent() bool { return d != nil && !d.Demo() && d.Status.Sent() }

// Words is the delivery's state in staff's words, Swedish and English:
// the one wording the page, the exports, `kuvert log list` and the
// desktop app use. A demo delivery is never called sent; nil is "no SMS".
func (d *Delivery) Words() (sv, en string) {
	switch {
	case d == nil:
		return "ingen sms", "no SMS"
	case d.Demo():
		return demoSV, demoEN
	}
	return d.Status.words()
}

// Event is what an entry says beyond its fields, in a code and values
// rather than words: each shell words the code through its catalog
// (the CLI and the server in Swedish and English, the desktop app in its
// language). Entries written before it hold prose in Details instead,
// shown as it is. Its values are masked and bounded like every text.
type Event struct {
	Code   fault.Code        `json:"code"`
	Fields map[string]string `json:"fields,omitempty"` // JSON writes the names sorted: the line stays reproducible
}

// String is the event's machine text, "code{name=value …}", for a
// reader that has no words for its code.
func (ev *Event) String() string {
	var kv []string
	for n, v := range ev.Fields {
		kv = append(kv, n, v)
	}
	return fault.New(ev.Code, kv...).Error()
}

// Codes of the events entries record.
const (
	// A pruning (gallring) of count entries older than before (a date),
	// the retention being retention; their hashes remain.
	CodePruned fault.Code = "log.pruned"
	// A sealing that supersedes the sealing entry (`kuvert resend`).
	CodeSupersedes fault.Code = "log.supersedes"
	// A sealing superseded by the sealing entry.
	CodeSupersededBy fault.Code = "log.superseded-by"
	// A password texted on its own, not with a sealing (`kuvert sms send`).
	CodeSMSResent fault.Code = "log.sms-sent-again"
	// A text the central log relayed for the device device.
	CodeRelayed fault.Code = "log.relayed"
	// An SMS that failed: the archive kept (the sender chose the
	// password), kept (it was already delivered), or removed (its
	// generated password reached nobody).
	CodeSMSFailedKeptOwn       fault.Code = "log.sms-failed-kept-own"
	CodeSMSFailedKeptDelivered fault.Code = "log.sms-failed-kept-delivered"
	CodeSMSFailedRemoved       fault.Code = "log.sms-failed-removed"
	// An archive removed because its generated password reached nobody:
	// its e-mail draft could not be written, or it could not be delivered.
	CodeDraftFailedRemoved    fault.Code = "log.draft-failed-removed"
	CodeDeliveryFailedRemoved fault.Code = "log.delivery-failed-removed"
)

// NewEvent is an event of code with fields given as name, value pairs.
func NewEvent(code fault.Code, kv ...string) *Event {
	return &Event{Code: code, Fields: fault.New(code, kv...).Fields}
}

// FileRef describes a file by name, size and SHA-256.
type FileRef struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// PasswordRef says where a password came from and how strong it is; never
// the password.
type PasswordRef struct {
	Origin Origin  `json:"origin"`
	Bits   float64 `json:"bits"`
}

// Delivery records where a password went.
type Delivery struct {
	Provider  string `json:"provider"`
	To        string `json:"to"`               // masked: +46 70-*** ** 67
	ToTag     string `json:"to_tag,omitempty"` // keyed hash of the full number ([Log.NumberTag])
	MessageID string `json:"message_id,omitempty"`
	Status    Status `json:"status"`
	Ref       string `json:"ref,omitempty"` // the code shown in SMS and mail
	Error     string `json:"error,omitempty"`
}

// PruneRef is what a prune record covers: the entries it turned into
// stubs (Seqs, as ranges "1-212,215-300"), all of them among entries 1 to
// Through and older than Before. A stub that no prune record names is
// tampering.
type PruneRef struct {
	Through int64  `json:"through"`
	Before  string `json:"before"` // RFC 3339
	Count   int    `json:"count"`  // stubs this pruning made
	Seqs    string `json:"seqs"`   // which ones
}

// formatRanges writes ascending sequence numbers as "1-3,7,9-12".
func formatRanges(seqs []int64) string {
	var b strings.Builder
	for i := 0; i < len(seqs); {
		j := i
		for j+1 < len(seqs) && seqs[j+1] == seqs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(seqs[i], 10))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.FormatInt(seqs[j], 10))
		}
		i = j + 1
	}
	return b.String()
}

// SeqRange is an inclusive range of sequence numbers in a prune record's
// list of stubs.
type SeqRange struct{ From, To int64 }

// ParseSeqs reads a prune record's list of stubs, exactly as [FormatSeqs]
// writes it: ascending ranges "1-3,7,9-12" of entries from 1 on, adjacent
// ranges joined. Anything else is an error, never a partial list: a record
// that names its stubs unreadably covers none of them, and the verifier
// says so rather than guessing.
func ParseSeqs(s string) ([]SeqRange, error) {
	if s == "" {
		return nil, nil
	}
	var out []SeqRange
	for _, part := range strings.Split(s, ",") {
		a, b, dash := strings.Cut(part, "-")
		from, err1 := strconv.ParseInt(a, 10, 64)
		to := from
		var err2 error
		if dash {
			to, err2 = strconv.ParseInt(b, 10, 64)
		}
		if err1 != nil || err2 != nil || from < 1 || to <= from && dash || len(out) > 0 && from <= out[len(out)-1].To+1 {
			return nil, fmt.Errorf("%q is not a list of entries", s)
		}
		out = append(out, SeqRange{from, to})
	}
	// Only the canonical spelling: no "+3", "007" or " 3" that would
	// read the same but hash differently from what kuvert writes.
	var canon strings.Builder
	for i, r := range out {
		if i > 0 {
			canon.WriteByte(',')
		}
		canon.WriteString(strconv.FormatInt(r.From, 10))
		if r.To > r.From {
			canon.WriteByte('-')
			canon.WriteString(strconv.FormatInt(r.To, 10))
		}
	}
	if canon.String() != s {
		return nil, fmt.Errorf("%q is not a list of entries", s)
	}
	return out, nil
}

// RepairRef is what a repair undid: a checkpoint whose entries a crash
// kept from being written, and the bytes of a torn last line.
type RepairRef struct {
	WithdrawnSize int64  `json:"withdrawn_size,omitempty"` // the checkpoint's tree size
	WithdrawnRoot string `json:"withdrawn_root,omitempty"`
	LostEntries   int64  `json:"lost_entries,omitempty"`
	TornBytes     int    `json:"torn_bytes,omitempty"`
	TornCheckpt   int    `json:"torn_checkpoint_bytes,omitempty"`
}

// Entry is one line of the log. Field order is fixed by this struct, so
// the JSON of an entry is stable and its hash reproducible.
type Entry struct {
	Seq          int64     `json:"seq"` // 1-based position in the log
	ID           string    `json:"id"`
	Time         string    `json:"time"` // RFC 3339 with zone
	Operator     string    `json:"operator"`
	OperatorName string    `json:"operator_name,omitempty"`
	Host         string    `json:"host"`
	Tool         string    `json:"tool"`
	Action       Action    `json:"action"`
	Format       string    `json:"format,omitempty"`
	Archive      *FileRef  `json:"archive,omitempty"`
	Files        []FileRef `json:"files,omitempty"`
	// FileCount and FilesDigest are set when an archive holds more files
	// than one entry lists ([MaxFiles]): Files keeps the first ones, the
	// digest covers the whole list ([FilesDigest]).
	FileCount    int          `json:"file_count,omitempty"`
	FilesDigest  string       `json:"files_digest,omitempty"`
	Password     *PasswordRef `json:"password,omitempty"`
	Personnummer *int         `json:"personnummer_count,omitempty"`
	Case         string       `json:"case,omitempty"`
	Note         string       `json:"note,omitempty"`
	Delivery     *Delivery    `json:"delivery,omitempty"`
	Batch        string       `json:"batch,omitempty"`
	Row          int          `json:"row,omitempty"`
	Details      string       `json:"details,omitempty"` // prose, in entries written before Event
	Event        *Event       `json:"event,omitempty"`
	Refers       string       `json:"refers,omitempty"` // the entry this one follows up
	Prune        *PruneRef    `json:"prune,omitempty"`
	Repair       *RepairRef   `json:"repair,omitempty"`

	// Device is the token name of the device that shipped the entry to
	// the central log (`kuvert server`), set by the server; never in a
	// local log.
	Device string `json:"device,omitempty"`
	// Received is when the central log took the entry in (RFC 3339,
	// UTC), stamped by the server inside the hashed line: gallring goes
	// by it, never by the device's own Time (a device clock, or a device
	// that lies, would keep an entry for ever or have it pruned the night
	// it arrives) and never by a database column an administrator could
	// edit without breaking verification. Never in a local log.
	Received string `json:"received,omitempty"`

	// Pruned entries keep only Seq, Pruned and Leaf (see [Log.Prune]).
	Pruned bool   `json:"pruned,omitempty"`
	Leaf   string `json:"leaf,omitempty"`
}

// When parses the entry's time.
func (e *Entry) When() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Time)
	return t
}

// Files returns how many files the archive holds, listed or not.
func (e *Entry) FilesTotal() int {
	if e.FileCount > 0 {
		return e.FileCount
	}
	return len(e.Files)
}

// Limits on what one entry holds, so one sealing of a huge folder cannot
// write a line that every later reader chokes on.
const (
	MaxFiles    = 100  // file names listed in one entry
	MaxNameLen  = 512  // bytes of one name
	MaxTextLen  = 2048 // bytes of a note, case, details or error
	maxLineSize = 1 << 20
)

// MaxEntrySize is the most bytes of JSON one shipped entry may take in
// the central log, which refuses a larger one outright. An entry the log
// bounded ([Entry.Normalized]: 100 names of 512 bytes, texts of 2 KiB)
// stays well under it even with every character JSON-escaped; only a
// hand-made entry reaches it.
const MaxEntrySize = maxLineSize

// FilesDigest is the SHA-256 over every file's name, size and hash, one
// "name\x00size\x00sha256\n" each, in order: what a kept entry says of a
// list too long to hold.
func FilesDigest(fs []FileRef) string {
	h := sha256.New()
	for _, f := range fs {
		fmt.Fprintf(h, "%s\x00%d\x00%s\n", f.Name, f.Size, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// normalize masks personnummer in every free-text field and file name, so
// that nothing the log holds is itself sensitive, and bounds the entry's
// size.
func (e *Entry) normalize() {
	if len(e.Files) > MaxFiles {
		e.FileCount = len(e.Files)
		e.FilesDigest = FilesDigest(e.Files)
		e.Files = e.Files[:MaxFiles:MaxFiles]
	}
	if e.Archive != nil {
		a := *e.Archive
		a.Name = bound(personnummer.Mask(a.Name), MaxNameLen)
		e.Archive = &a
	}
	files := make([]FileRef, len(e.Files))
	for i, f := range e.Files {
		f.Name = bound(personnummer.Mask(f.Name), MaxNameLen)
		files[i] = f
	}
	if len(files) > 0 {
		e.Files = files
	}
	e.Case = bound(personnummer.Mask(e.Case), MaxTextLen)
	e.Note = bound(personnummer.Mask(e.Note), MaxTextLen)
	e.Details = bound(personnummer.Mask(e.Details), MaxTextLen)
	if e.Event != nil {
		ev := Event{Code: fault.Code(bound(personnummer.Mask(string(e.Event.Code)), MaxNameLen))}
		if len(e.Event.Fields) > 0 {
			ev.Fields = make(map[string]string, len(e.Event.Fields))
			for n, v := range e.Event.Fields {
				ev.Fields[bound(personnummer.Mask(n), MaxNameLen)] = bound(personnummer.Mask(v), MaxTextLen)
			}
		}
		e.Event = &ev
	}
	e.OperatorName = bound(personnummer.Mask(e.OperatorName), MaxNameLen)
	if e.Delivery != nil {
		d := *e.Delivery
		d.Error = bound(personnummer.Mask(d.Error), MaxTextLen)
		e.Delivery = &d
	}
}

// bound cuts s to at most n bytes on a character boundary, marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Normalized is e as the log writes it: personnummer masked in every
// text, lists and texts bounded. The central log stores what devices
// ship in this form too.
func (e Entry) Normalized() Entry {
	e.normalize()
	return e
}

// Labelled is [Entry.Normalized] with the labels a device sets itself
// masked and bounded too: operator, host, tool, format, batch and the
// delivery's provider and status. The local log writes those from its
// own settings and leaves them as they are (a batch's ID is what a
// resumed run looks its rows up by); the central log cannot trust a
// device for them and stores this form.
func (e Entry) Labelled() Entry {
	e.normalize()
	label := func(s string) string { return bound(personnummer.Mask(s), MaxNameLen) }
	e.Operator, e.Host, e.Tool = label(e.Operator), label(e.Host), label(e.Tool)
	e.Format, e.Batch = label(e.Format), label(e.Batch)
	if e.Delivery != nil {
		d := *e.Delivery
		d.Provider, d.Status = label(d.Provider), Status(label(string(d.Status)))
		e.Delivery = &d
	}
	return e
}

// FormatSeqs writes ascending sequence numbers as ranges, the way a prune
// record names its stubs ("1-3,7,9-12").
func FormatSeqs(seqs []int64) string { return formatRanges(seqs) }

// newID makes an entry ID: the date and 64 random bits, unique across an
// organisation's devices (the central log refuses an ID another device
// used).
func newID(t time.Time) string {
	var b [8]byte
	rand.Read(b[:])
	return t.Format("20060102") + "-" + hex.EncodeToString(b[:])
}
