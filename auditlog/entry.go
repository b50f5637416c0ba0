package auditlog

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/kuvert-app/kuvert/personnummer"
)

// Actions recorded in the log.
const (
	ActionSeal       = "seal"        // an archive was sealed
	ActionSealFailed = "seal-failed" // sealed, then removed (e.g. SMS failed)
	ActionSMS        = "sms"         // a password was (re)sent by SMS
	ActionSMSStatus  = "sms-status"  // a delivery status was fetched
	ActionPrune      = "prune"       // entry bodies were removed (gallring)
	ActionRepair     = "repair"      // a torn or unrecorded tail was repaired
)

// FileRef describes a file by name, size and SHA-256.
type FileRef struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// PasswordRef says where a password came from and how strong it is; never
// the password.
type PasswordRef struct {
	Origin string  `json:"origin"` // generated, user
	Bits   float64 `json:"bits"`
}

// Delivery records where a password went.
type Delivery struct {
	Provider  string `json:"provider"`
	To        string `json:"to"` // masked: +46 70-*** ** 67
	MessageID string `json:"message_id,omitempty"`
	Status    string `json:"status"`
	Ref       string `json:"ref,omitempty"` // the code shown in SMS and mail
	Error     string `json:"error,omitempty"`
}

// Entry is one line of the log. Field order is fixed by this struct, so
// the JSON of an entry is stable and its hash reproducible.
type Entry struct {
	Seq          int64        `json:"seq"` // 1-based position in the log
	ID           string       `json:"id"`
	Time         string       `json:"time"` // RFC 3339 with zone
	Operator     string       `json:"operator"`
	OperatorName string       `json:"operator_name,omitempty"`
	Host         string       `json:"host"`
	Tool         string       `json:"tool"`
	Action       string       `json:"action"`
	Format       string       `json:"format,omitempty"`
	Archive      *FileRef     `json:"archive,omitempty"`
	Files        []FileRef    `json:"files,omitempty"`
	Password     *PasswordRef `json:"password,omitempty"`
	Personnummer *int         `json:"personnummer_count,omitempty"`
	Case         string       `json:"case,omitempty"`
	Note         string       `json:"note,omitempty"`
	Delivery     *Delivery    `json:"delivery,omitempty"`
	Batch        string       `json:"batch,omitempty"`
	Row          int          `json:"row,omitempty"`
	Details      string       `json:"details,omitempty"`
	Refers       string       `json:"refers,omitempty"` // the entry this one follows up

	// Pruned entries keep only Seq, Pruned and Leaf (see [Log.Prune]).
	Pruned bool   `json:"pruned,omitempty"`
	Leaf   string `json:"leaf,omitempty"`
}

// When parses the entry's time.
func (e *Entry) When() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Time)
	return t
}

// sanitize masks personnummer in every free-text field and file name, so
// that nothing the log holds is itself sensitive.
func (e *Entry) sanitize() {
	if e.Archive != nil {
		e.Archive.Name = personnummer.Mask(e.Archive.Name)
	}
	for i := range e.Files {
		e.Files[i].Name = personnummer.Mask(e.Files[i].Name)
	}
	e.Case = personnummer.Mask(e.Case)
	e.Note = personnummer.Mask(e.Note)
	e.Details = personnummer.Mask(e.Details)
	e.OperatorName = personnummer.Mask(e.OperatorName)
}

func newID(t time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return t.Format("20060102") + "-" + hex.EncodeToString(b[:])
}
