package client

import "github.com/kuvert-app/kuvert/fault"

// Codes of the client's errors a person reads. Each shell words them in
// its catalog; the fields are named in the comment. None ever holds the
// token or an enrollment code.
const (
	CodeNoToken      fault.Code = "client.no-token"
	CodeTokenDamaged fault.Code = "client.token-damaged"      // spaces or line breaks in it
	CodeURLNotHTTPS  fault.Code = "client.url-not-https"      // url: as given, a user and password left out
	CodeURLUserinfo  fault.Code = "client.url-userinfo"       // a user or password in the address
	CodeURLQuery     fault.Code = "client.url-query"          // url: redacted
	CodeURLPlainHTTP fault.Code = "client.url-plain-http"     // url: redacted; http to another host
	CodeNoEnrollCode fault.Code = "client.no-enrollment-code" // an empty code
	// The server refused the enrollment code (server: its host); the
	// code itself is never a field.
	CodeEnrollUnknown   fault.Code = "client.enroll-unknown"
	CodeEnrollUsedUp    fault.Code = "client.enroll-used-up"
	CodeEnrollExpired   fault.Code = "client.enroll-expired"
	CodeEnrollRevoked   fault.Code = "client.enroll-revoked"
	CodeCentralTampered fault.Code = "client.central-log-tampered"
)
