package clientenv

import "github.com/kuvert-app/kuvert/fault"

// Codes of the enrollment's errors a person reads; each shell words them
// in its catalog. None holds the enrollment code or the token.
const (
	CodeNotEnrolled   fault.Code = "clientenv.not-enrolled"   // a server but neither a token nor a code
	CodeNoKeyring     fault.Code = "clientenv.no-keyring"     // the shell handed in none
	CodeEnrollBusy    fault.Code = "clientenv.enroll-busy"    // cause: the lock's
	CodeEnrollKeyring fault.Code = "clientenv.enroll-keyring" // cause: the keyring's; the code was not spent
	CodeNoHostname    fault.Code = "clientenv.no-hostname"    // cause: the OS's
	CodeTokenNotKept  fault.Code = "clientenv.token-not-kept" // name: the device's name at the server; cause: the keyring's
)
