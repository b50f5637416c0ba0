// Package api holds the JSON shapes `kuvert server` and its clients
// exchange, so both sides are built from one definition. Every request
// carries "Authorization: Bearer TOKEN"; an error answer is [Error] with
// an HTTP status (400 bad input, 401 no or revoked token, 403 the token's
// role may not do this, 409 conflict, 429 rate limit, 502 the SMS
// provider refused, 503 the database is unreachable).
//
// Endpoints (roles that may call them):
//
//	GET  /healthz                      anyone: 200 when the database answers
//	POST /api/v1/entries               device, admin: [AppendRequest] → [AppendResponse]
//	POST /api/v1/sms                   device, admin: [SMSRequest] → [SMSResponse]
//	GET  /api/v1/sms/status?id=ID      device, admin: → [SMSResponse]
//	GET  /api/v1/log/head              every role: → [Head]
//	GET  /api/v1/log/proof?old=N&new=M every role: → [Proof] (hashes only)
//	GET  /api/v1/log/entries?QUERY     registrar, admin: → [EntriesResponse]
//	GET  /api/v1/log/export.csv?QUERY  registrar, admin: the local log's CSV export
//	GET  /api/v1/log/verify            registrar, admin: → [VerifyResponse]
//	POST /api/v1/enroll                anyone (no token): [EnrollRequest] → [EnrollResponse]
//	GET  /api/v1/settings              device, admin: → [OrgSettings]
//	GET  /                             the registrar's page
//	GET  /oppna.html                   the recipient opener page
//
// QUERY: from, to (YYYY-MM-DD, inclusive), case, ref, sender (operator or
// device), recipient (the masked number as shown, or its last digits),
// limit (default 500, at most 10,000).
package api

import "github.com/kuvert-app/kuvert/auditlog"

// Roles a token can have.
const (
	RoleDevice    = "device"    // a desktop or batch host: append its own entries, send SMS
	RoleRegistrar = "registrar" // read, search, export and verify the log
	RoleAdmin     = "admin"     // both
)

// Error is every error answer's body. Message is plain words for staff,
// Swedish first; Code is stable for scripts.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes.
const (
	CodeUnauthorized = "unauthorized" // no token, unknown or revoked
	CodeForbidden    = "forbidden"    // the role may not do this
	CodeBadRequest   = "bad_request"  // the request is malformed
	CodeConflict     = "conflict"     // the entry ID belongs to another device or another entry
	CodeRateLimited  = "rate_limited" // too many SMS; retry later
	CodeAlreadySent  = "already_sent" // an SMS for this key went out or may have: never again
	CodeProvider     = "provider"     // the SMS provider refused
	CodeUnavailable  = "unavailable"  // the database does not answer
	CodeNotFound     = "not_found"    // no such thing
	CodeInternal     = "internal"     // a bug; the server's log says more
	CodeRolledBack   = "rolled_back"  // the database holds an older log than the server signed
	CodeTampered     = "tampered"     // entries in the database do not match their hashes
)

// MaxAppend is the most entries one append request may carry.
const MaxAppend = 500

// AppendRequest ships entries of a device's local log, in the local
// log's order. Each keeps the ID the local log gave it: the server adds
// an entry once per ID, so a retry never duplicates.
type AppendRequest struct {
	Entries []auditlog.Entry `json:"entries"`
}

// AppendResult is what became of one shipped entry.
type AppendResult struct {
	ID  string `json:"id"`
	Seq int64  `json:"seq"` // its place in the central log
	// Duplicate: the server already had this entry (an earlier try
	// arrived); nothing was added.
	Duplicate bool `json:"duplicate,omitempty"`
	// Index is the entry's leaf in the tree (Seq-1), Leaf its hash
	// (base64) and Proof the RFC 6962 inclusion proof of Leaf at Index
	// in the answer's signed Head (base64 hashes). Record is the line
	// the central log stores (its hash is Leaf); absent only for an
	// entry already pruned.
	Index  int64    `json:"index"`
	Leaf   string   `json:"leaf"`
	Proof  []string `json:"proof"`
	Record []byte   `json:"record,omitempty"`
}

// AppendResponse answers an append: one result per entry, in order, and
// the signed tree head that covers them.
type AppendResponse struct {
	Results []AppendResult `json:"results"`
	Head    Head           `json:"head"`
}

// Head is a signed tree head: the central log's size and Merkle root,
// signed by the server's key (a golang.org/x/mod/sumdb/note).
type Head struct {
	Size int64  `json:"size"`
	Root string `json:"root"` // base64
	Note string `json:"note"` // the signed note
	Time string `json:"time"` // when it was signed, RFC 3339
}

// Proof is an RFC 6962 consistency proof between two tree sizes.
type Proof struct {
	Old    int64    `json:"old"`
	New    int64    `json:"new"`
	Hashes []string `json:"hashes"` // base64
}

// SMSRequest asks the server to text a password. The server writes the
// text itself, from the organisation's template (`kuvert server run
// --organisation`, `--opener-url`): a device sends the parts, never
// prose, and a request with any other field is refused (400). Key makes
// the request idempotent: the server texts at most once per key, ever.
// The password is passed to the provider inside the text and never
// stored or logged.
type SMSRequest struct {
	Key      string `json:"key"`              // e.g. the sealing entry's ID + "/" + Ref
	To       string `json:"to"`               // a mobile number, E.164
	Password string `json:"password"`         // the password alone: no spaces, no address, at most 99 bytes
	Ref      string `json:"ref"`              // the reference the text and the e-mail share (sms.NewRef)
	Refers   string `json:"refers,omitempty"` // the sealing entry's ID, for the log
	Case     string `json:"case,omitempty"`   // the case number, for the log only (never in the text)
}

// SMSResponse is the provider's receipt.
type SMSResponse struct {
	Provider string `json:"provider"`
	ID       string `json:"id"`
	Status   string `json:"status"`
	// Unrecorded: the provider accepted the text but the central log could
	// not record it yet. The text went out; a retry with the same key
	// completes the record and sends nothing.
	Unrecorded bool `json:"unrecorded,omitempty"`
}

// EntriesResponse answers a search. Each entry is sent once: Entries
// holds the bodies, Sealings only the state of the sealings among them,
// by id.
type EntriesResponse struct {
	// Entries are what matched, and the sealings their follow-ups refer
	// to, oldest first, as the log's one fold shows them
	// ([auditlog.View]): each sealing with its current delivery, one row
	// per SMS however many entries record it (Folded names the others:
	// the relaying server's record, status checks).
	Entries []auditlog.Row `json:"entries"`
	// Sealings are the state of each sealing among Entries.
	Sealings []Sealing `json:"sealings"`
	// Truncated: more entries matched than the limit.
	Truncated bool `json:"truncated,omitempty"`
	// Unverified: places of entries the search came upon whose body
	// does not match its hash (changed in the database): left out.
	Unverified []int64 `json:"unverified,omitempty"`
}

// Sealing is the latest word on one sealing's password; its entry (with
// that delivery) is the row of Entries with this ID.
type Sealing struct {
	ID string `json:"id"`
	// State and StateEn are the sealing's state in the registrar's words
	// (Swedish, English): the delivery's ([auditlog.Delivery.Words]),
	// or removed, or superseded.
	State   string `json:"state"`
	StateEn string `json:"state_en"`
	// Texts is how many SMS carried the password.
	Texts      int    `json:"texts,omitempty"`
	Removed    bool   `json:"removed,omitempty"`
	Superseded string `json:"superseded_by,omitempty"`
}

// VerifyResponse says whether the central log verifies.
type VerifyResponse struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`
	Pruned   int64  `json:"pruned"`
	Head     Head   `json:"head"`
	Key      string `json:"key"` // the verifier key that signed the head
	Problem  string `json:"problem,omitempty"`
	FirstBad int64  `json:"first_bad,omitempty"`
	Checked  string `json:"checked"` // when, RFC 3339
}
