package client

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/api"
)

// Refused enrollments, for errors.Is on the fault [Enroll] returns.
var (
	ErrEnrollUnknown = errors.New("unknown enrollment code")
	ErrEnrollUsedUp  = errors.New("the enrollment code is used up")
	ErrEnrollExpired = errors.New("the enrollment code has expired")
	ErrEnrollRevoked = errors.New("the enrollment code is revoked")
)

// ErrEnrollRefused: the server refused the enrollment code; the fault
// is also one of ErrEnrollUnknown, …UsedUp, …Expired, …Revoked.
var ErrEnrollRefused = errors.New("the kuvert server refused the enrollment code")

// Enroll trades one use of code at the server at rawURL for a device
// token of this computer's own. It sends no token; the code goes only in
// the request body. A refused code is a fault of one of the
// CodeEnroll… codes, and [ErrEnrollRefused].
func Enroll(ctx context.Context, rawURL, code, computer string) (api.EnrollResponse, error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return api.EnrollResponse{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return api.EnrollResponse{}, fault.New(CodeNoEnrollCode)
	}
	c := newClient(u, "")
	var res api.EnrollResponse
	err = c.do(ctx, "enroll", http.MethodPost, "/api/v1/enroll", nil, api.EnrollRequest{Code: code, Computer: computer}, &res, nil, 0)
	var ce *Error
	if errors.As(err, &ce) {
		refused := map[string]struct {
			code   fault.Code
			reason error
		}{
			api.CodeEnrollUnknown: {CodeEnrollUnknown, ErrEnrollUnknown}, api.CodeEnrollUsedUp: {CodeEnrollUsedUp, ErrEnrollUsedUp},
			api.CodeEnrollExpired: {CodeEnrollExpired, ErrEnrollExpired}, api.CodeEnrollRevoked: {CodeEnrollRevoked, ErrEnrollRevoked},
		}
		if r, ok := refused[ce.Code]; ok {
			return api.EnrollResponse{}, fault.New(r.code, "server", ce.Server).Also(r.reason, ErrEnrollRefused)
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
