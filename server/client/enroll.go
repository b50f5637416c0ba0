package client

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/kuvert-app/kuvert/server/api"
)

// Refused enrollments, for errors.Is on an [*EnrollError].
var (
	ErrEnrollUnknown = errors.New("unknown enrollment code")
	ErrEnrollUsedUp  = errors.New("the enrollment code is used up")
	ErrEnrollExpired = errors.New("the enrollment code has expired")
	ErrEnrollRevoked = errors.New("the enrollment code is revoked")
)

// EnrollError is a code the server refused, in words for the person at
// the desktop (Swedish first) and what to do. It never holds the code.
type EnrollError struct {
	Server string
	Reason error // one of ErrEnrollUnknown, …UsedUp, …Expired, …Revoked
}

func (e *EnrollError) Error() string {
	var msg string
	switch e.Reason {
	case ErrEnrollUnknown:
		msg = "servern känner inte igen registreringskoden; kontrollera att den är rätt inskriven / the server does not know the enrollment code; check that it is typed correctly"
	case ErrEnrollUsedUp:
		msg = "registreringskoden är förbrukad (alla datorer den räckte till är registrerade); be IT om en ny kod / the enrollment code is used up; ask IT for a new one"
	case ErrEnrollExpired:
		msg = "registreringskoden har gått ut; be IT om en ny kod / the enrollment code has expired; ask IT for a new one"
	case ErrEnrollRevoked:
		msg = "registreringskoden är återkallad; be IT om en ny kod / the enrollment code has been revoked; ask IT for a new one"
	}
	return "kuvert-servern / kuvert server " + e.Server + ": " + msg
}

func (e *EnrollError) Unwrap() error { return e.Reason }

// Enroll trades one use of code at the server at rawURL for a device
// token of this computer's own. It sends no token; the code goes only in
// the request body. A refused code is an [*EnrollError].
func Enroll(ctx context.Context, rawURL, code, computer string) (api.EnrollResponse, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return api.EnrollResponse{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return api.EnrollResponse{}, errors.New("ingen registreringskod / no enrollment code")
	}
	c := newClient(u, "")
	var res api.EnrollResponse
	err = c.do(ctx, "enroll", http.MethodPost, "/api/v1/enroll", nil, api.EnrollRequest{Code: code, Computer: computer}, &res, nil, 0)
	var ce *Error
	if errors.As(err, &ce) {
		reason := map[string]error{api.CodeEnrollUnknown: ErrEnrollUnknown, api.CodeEnrollUsedUp: ErrEnrollUsedUp,
			api.CodeEnrollExpired: ErrEnrollExpired, api.CodeEnrollRevoked: ErrEnrollRevoked}[ce.Code]
		if reason != nil {
			return api.EnrollResponse{}, &EnrollError{Server: ce.Server, Reason: reason}
		}
	}
	if err != nil {
		return api.EnrollResponse{}, err
	}
	if res.Role != api.RoleDevice || !strings.HasPrefix(res.Token, "kvt_") || strings.ContainsAny(res.Token, " \r\n\t") {
		// A device keeps nothing else: a server that hands out another
		// role by enrollment is not one to trust with it.
		return api.EnrollResponse{}, &Error{Op: "enroll", Server: u.Host, Status: 200, Code: api.CodeInternal,
			Message: "servern svarade inte med en enhetstoken / the server did not answer with a device token"}
	}
	return res, nil
}

// OrgSettings asks the server for the organisation's settings
// (organisation name, opener address, SMS template and language).
func (c *Client) OrgSettings(ctx context.Context) (api.OrgSettings, error) {
	var s api.OrgSettings
	err := c.do(ctx, "settings", http.MethodGet, "/api/v1/settings", nil, nil, &s, nil, 0)
	return s, err
}
