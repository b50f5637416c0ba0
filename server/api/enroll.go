package api

// Enrollment and the organisation's settings.
//
//	POST /api/v1/enroll    anyone (no token): [EnrollRequest] → [EnrollResponse];
//	                       a failed attempt counts against the caller's address (429)
//	GET  /api/v1/settings  device, admin: → [OrgSettings]

// Error codes of a refused enrollment: the client names each in its own
// words (Swedish first).
const (
	CodeEnrollUnknown = "enroll_unknown" // no such code (mistyped, or never made)
	CodeEnrollUsedUp  = "enroll_used_up" // every use of the code is taken
	CodeEnrollExpired = "enroll_expired" // the code's time is over
	CodeEnrollRevoked = "enroll_revoked" // an administrator revoked the code
)

// EnrollRequest trades one use of an enrollment code for a device token.
type EnrollRequest struct {
	Code     string `json:"code"`
	Computer string `json:"computer"` // the computer's name (os.Hostname); the token is named prefix + this
}

// EnrollResponse is the new device token: shown this once, then kept in
// the computer's OS keyring. Role is always [RoleDevice].
type EnrollResponse struct {
	Token string `json:"token"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// OrgSettings are the organisation's settings a desktop takes from its
// server (`kuvert server run --organisation, --opener-url, --sms-template,
// --sms-lang`), so that what a desktop previews is what the relay sends.
// An empty field is not set on the server.
type OrgSettings struct {
	Organisation string `json:"organisation"`
	OpenerURL    string `json:"opener_url,omitempty"`
	SMSTemplate  string `json:"sms_template,omitempty"`
	SMSLanguage  string `json:"sms_language,omitempty"`
}
