package server

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/personnummer"
	"github.com/kuvert-app/kuvert/sms"
)

// Limits on the identifiers a device ships. They are opaque keys that
// link entries (refers → id, a delivery's ref and message ID), so the
// server can neither cut nor mask them: one that is too long, holds a
// control character or a personnummer is refused. The database's search
// indexes hold them, and an overlong one failed the whole group commit.
const (
	maxIDLen        = 64  // id, refers, delivery.ref, delivery.to_tag (kuvert makes 25, 6 and 32)
	maxMessageIDLen = 128 // delivery.message_id, the provider's (Twilio: 34)
)

// fieldError is a shipped entry refused for one field: the request gets a
// 400 naming the entry and the field, never the field's value (it may be
// what must not be stored).
type fieldError struct {
	n, id  string // the entry's place in the request and its ID, when the ID itself is fine
	field  string
	sv, en string
}

func (e *fieldError) Error() string {
	which := e.n
	if e.id != "" {
		which += " (" + e.id + ")"
	}
	return fmt.Sprintf("post %s: %s: %s / entry %s: %s: %s", which, e.field, e.sv, which, e.field, e.en)
}

// checkShipped refuses what a device may not ship, field by field, before
// its request joins a group commit: one device's bad entry must fail only
// its own request. Free texts (case, note, details, file names, the
// operator's and host's names …) are not refused but masked and bounded
// by the server itself ([auditlog.Entry.Labelled], in [canonical]); what
// cannot be masked or cut without losing its meaning is checked here.
// n is the entry's place in the request (1-based).
func checkShipped(e *auditlog.Entry, n int) error {
	fe := &fieldError{n: fmt.Sprint(n)}
	bad := func(field, sv, en string) error {
		fe.field, fe.sv, fe.en = field, sv, en
		return fe
	}
	if err := checkIdentifier(e.ID, maxIDLen, true); err != "" {
		return bad("id", "inget giltigt id: "+svReason[err], "no valid id: "+err)
	}
	fe.id = e.ID
	if b, _ := json.Marshal(e); len(b) > auditlog.MaxEntrySize {
		return bad("entry", fmt.Sprintf("%d byte, högst %d", len(b), auditlog.MaxEntrySize), fmt.Sprintf("%d bytes, at most %d", len(b), auditlog.MaxEntrySize))
	}
	switch {
	case e.Pruned:
		return bad("pruned", "en gallrad post har ingen text att skicka", "a pruned entry has no body to ship")
	case e.Action == "":
		return bad("action", "saknas", "missing")
	case len(e.Action) > 32 || strings.IndexFunc(string(e.Action), badIDRune) >= 0:
		return bad("action", svReason[reasonChars], reasonChars)
	}
	// An entry without a time is taken (gallring goes by its arrival);
	// one with a time that cannot be read is not.
	if _, err := time.Parse(time.RFC3339Nano, e.Time); err != nil && e.Time != "" {
		return bad("time", "ingen tid i RFC 3339 (som kuvert skriver den)", "not an RFC 3339 time (as kuvert writes it)")
	}
	if err := checkIdentifier(e.Refers, maxIDLen, false); err != "" {
		return bad("refers", svReason[err], err)
	}
	for field, v := range map[string]string{"operator": e.Operator, "host": e.Host, "tool": e.Tool, "format": e.Format, "batch": e.Batch} {
		if strings.IndexFunc(v, isControl) >= 0 {
			return bad(field, svReason[reasonControl], reasonControl)
		}
	}
	if e.Row < 0 || e.FileCount < 0 || (e.Personnummer != nil && *e.Personnummer < 0) {
		return bad("row/file_count/personnummer_count", "negativt tal", "a negative number")
	}
	if e.Password != nil && (e.Password.Bits < 0 || e.Password.Bits > 10000) {
		return bad("password.bits", "orimligt värde", "out of range")
	}
	if e.Archive != nil && (e.Archive.Size < 0 || !isHashHex(e.Archive.SHA256)) {
		return bad("archive", "storlek eller sha256 ogiltig", "size or sha256 not valid")
	}
	for i := range e.Files {
		if e.Files[i].Size < 0 || !isHashHex(e.Files[i].SHA256) {
			return bad(fmt.Sprintf("files[%d]", i), "storlek eller sha256 ogiltig", "size or sha256 not valid")
		}
	}
	if !isHashHex(e.FilesDigest) {
		return bad("files_digest", "ingen sha256", "not a sha256")
	}
	if d := e.Delivery; d != nil {
		if err := checkIdentifier(d.Ref, maxIDLen, false); err != "" {
			return bad("delivery.ref", svReason[err], err)
		}
		if err := checkIdentifier(d.MessageID, maxMessageIDLen, false); err != "" {
			return bad("delivery.message_id", svReason[err], err)
		}
		if err := checkIdentifier(d.ToTag, maxIDLen, false); err != "" {
			return bad("delivery.to_tag", svReason[err], err)
		}
		for field, v := range map[string]string{"delivery.provider": d.Provider, "delivery.status": string(d.Status)} {
			if strings.IndexFunc(v, isControl) >= 0 {
				return bad(field, svReason[reasonControl], reasonControl)
			}
		}
		if d.To != "" && !sms.IsMasked(d.To) {
			return bad("delivery.to", "numret är inte maskerat (som +46 70-*** ** 67)", "the number is not masked (like +46 70-*** ** 67)")
		}
	}
	if p := e.Prune; p != nil {
		if p.Through < 0 || p.Count < 0 || strings.Trim(p.Seqs, "0123456789,-") != "" {
			return bad("prune", "ogiltigt intervall", "not valid ranges")
		}
		if _, err := time.Parse(time.RFC3339, p.Before); err != nil {
			return bad("prune.before", "ingen tid i RFC 3339", "not an RFC 3339 time")
		}
	}
	return nil
}

// Reasons an identifier is refused, in English; svReason has them in
// Swedish.
const (
	reasonMissing = "missing"
	reasonLong    = "too long"
	reasonChars   = "holds a space, a slash or a control character"
	reasonControl = "holds a control character"
	reasonPNR     = "holds a personnummer"
)

var svReason = map[string]string{
	reasonMissing: "saknas",
	reasonLong:    "för långt",
	reasonChars:   "innehåller mellanslag, snedstreck eller ett styrtecken",
	reasonControl: "innehåller ett styrtecken",
	reasonPNR:     "innehåller ett personnummer",
}

// checkIdentifier returns why id may not be stored, or "". An identifier
// is at most max bytes of printable characters other than space and
// slash, and holds no personnummer standing on its own. A number inside a
// longer run of letters and digits is not one: kuvert's own IDs
// (20261123-1234abcd…) and providers' message IDs are random hex, which
// now and then holds ten digits that pass the date and Luhn checks.
func checkIdentifier(id string, max int, required bool) string {
	switch {
	case id == "" && required:
		return reasonMissing
	case len(id) > max:
		return reasonLong
	case strings.IndexFunc(id, badIDRune) >= 0:
		return reasonChars
	}
	for _, m := range personnummer.FindAll(id) {
		if (m.Start == 0 || !isAlnum(id[m.Start-1])) && (m.End == len(id) || !isAlnum(id[m.End])) {
			return reasonPNR
		}
	}
	return ""
}

// badIDRune is what an identifier may not hold: a space, a slash, or
// anything unprintable (a NUL would fail the database's text column, a
// control character would reach terminals and the registrar's page).
func badIDRune(r rune) bool { return r == ' ' || r == '/' || !unicode.IsPrint(r) }

// isControl: C0 and C1 control characters and DEL, which no label a
// device sets (operator, host, tool …) holds; they would reach terminals
// and the registrar's page.
func isControl(r rune) bool { return unicode.IsControl(r) }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isHashHex: empty, or a lowercase hex SHA-256.
func isHashHex(s string) bool {
	return s == "" || len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}
