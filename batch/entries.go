package batch

import (
	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
)

// Every log entry about a row of a batch is built here, so that each one
// names the run (Batch), the row and the row's case number: the log is
// searched by case, and an entry without it is a step of the case that
// search does not find. Batch writes seal-failed, mail and found-SMS
// entries itself; envelope writes the seal and SMS entries from the
// requests built here.

// rowEntry is an entry batch writes itself about row r of run m. refers
// is the sealing it follows up, "" when none is on record.
func rowEntry(m *Manifest, r Row, a auditlog.Action, refers, details string) auditlog.Entry {
	return auditlog.Entry{Action: a, Refers: refers, Batch: m.ID, Row: r.Num, Case: r.Case, Details: details}
}

// sealRequest is row r's sealing, recorded by [envelope.Seal].
func sealRequest(m *Manifest, r Row, o Options, seal crypt.SealOptions, note string) envelope.Request {
	return envelope.Request{Seal: seal, Case: r.Case, Note: note, Operator: o.Operator, Batch: m.ID, Row: r.Num}
}

// passwordSMS is row r's password texted after its sealing refers was
// interrupted, recorded by [envelope.SendPassword].
func passwordSMS(m *Manifest, r Row, refers, password, ref, details string) envelope.PasswordSMS {
	return envelope.PasswordSMS{To: r.Phone, Password: password, Ref: ref, Case: r.Case, Refers: refers, Batch: m.ID, Row: r.Num, Details: details}
}
