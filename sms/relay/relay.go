// Package relay is the SMS provider that texts through a kuvert server's
// relay (POST /api/v1/sms): the organisation's one SMS account, so no
// desktop needs the provider's credentials. It stands beside sms/twilio;
// sms/providers chooses between them.
//
// It never sends a message's body or puts its password in an error, and
// never asks the server to text a password twice for one key.
package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/sms"
)

// ProviderName is the name the server relay goes by in the local log.
const ProviderName = "kuvert-server"

// Sender texts through the server's relay. The server
// writes the text itself from the organisation's template; this sends
// it the parts only ([sms.Message.Password], Ref, To, Case, Refers and
// Key), never [sms.Message.Body]. The server texts at most once per
// [sms.Message.Key]; a message without one gets a random key (it is then
// sent at most once per call).
type Sender struct {
	Client *client.Client
	// RecordRetry is how long to wait before asking the server again to
	// record a text it sent but could not yet put in the central log
	// (the retry sends nothing). Zero: 2 seconds.
	RecordRetry time.Duration
}

var _ sms.Sender = (*Sender)(nil)

// ErrNoPassword: the server relay texts passwords only; a message with
// no password (`kuvert sms test`) cannot go through it.
var ErrNoPassword = errors.New("servern skickar bara lösenord, inga andra texter / the server relays passwords only, no other texts; test the number with the organisation's provider directly")

// Name is "kuvert-server".
func (s *Sender) Name() string { return ProviderName }

// Send asks the server to text m's password. Its errors wrap
// [sms.ErrNotDelivered] (a refusal as *sms.ProviderError with the HTTP
// status) and never hold the password.
func (s *Sender) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	if m.Password == "" {
		return sms.Receipt{Provider: ProviderName}, &sms.ProviderError{Message: ErrNoPassword.Error(),
			Hint: "kuvert sends passwords through the server; 'kuvert sms test' needs the provider on this computer (KUVERT_SMS_PROVIDER=twilio)"}
	}
	key := m.Key
	if key == "" {
		var b [16]byte
		rand.Read(b[:])
		key = "random/" + hex.EncodeToString(b[:])
	}
	req := api.SMSRequest{Key: key, To: m.To, Password: m.Password, Ref: m.Ref, Refers: m.Refers, Case: m.Case}
	res, err := s.Client.SendSMS(ctx, req)
	if err != nil {
		return sms.Receipt{Provider: ProviderName}, smsError(err)
	}
	if res.Unrecorded {
		// The text went out; the server's central log has not recorded
		// it yet. Asking again with the same key completes the record
		// and sends nothing. Whatever the answer, the text was sent.
		wait := s.RecordRetry
		if wait == 0 {
			wait = 2 * time.Second
		}
		for try := 0; try < 3 && res.Unrecorded; try++ {
			select {
			case <-ctx.Done():
				return sms.Receipt{Provider: ProviderName, ID: res.ID, Status: sms.Status(res.Status)}, nil
			case <-time.After(wait << try):
			}
			again, err := s.Client.SendSMS(ctx, req)
			if err != nil || again.ID != res.ID {
				break
			}
			res.Unrecorded = again.Unrecorded
		}
	}
	return sms.Receipt{Provider: ProviderName, ID: res.ID, Status: sms.Status(res.Status)}, nil
}

// Status asks the server about a text this device sent through it.
func (s *Sender) Status(ctx context.Context, id string) (sms.Receipt, error) {
	res, err := s.Client.SMSStatus(ctx, id)
	if err != nil {
		return sms.Receipt{Provider: ProviderName, ID: id}, smsError(err)
	}
	return sms.Receipt{Provider: ProviderName, ID: res.ID, Status: sms.Status(res.Status)}, nil
}

// neverSent reports whether a transport error happened before the
// request left this computer (no connection, no such host): the server
// cannot have texted anything.
func neverSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// smsError turns a server answer into the sms package's errors, so that
// the existing handling of a failed SMS (exit 5, the archive removed or
// kept, the batch row failed) applies unchanged.
func smsError(err error) error {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return fmt.Errorf("%w: %w", sms.ErrNotDelivered, err)
	}
	pe := &sms.ProviderError{Status: ce.Status, Message: ce.Error(), Cause: ce}
	switch {
	case ce.Code == api.CodeAlreadySent:
		pe.Message = "sms:et till detta kuvert har redan skickats eller kan ha skickats; servern skickar det aldrig igen / the SMS for this sealing was already sent, or may have been; the server never sends it again"
		pe.Hint = "if the recipient has no password, send a new one with 'kuvert resend' (a new password, a new archive)"
	case ce.Status == http.StatusTooManyRequests:
		pe.Message = "för många sms just nu / too many SMS right now (" + ce.Message + ")"
		pe.Hint = "wait a while and send the password again; the server's hourly limit protects the organisation's SMS account"
	case ce.Status == http.StatusBadGateway && ce.Code == api.CodeProvider:
		pe.Message = "sms-leverantören nekade / the SMS provider refused: " + ce.Message
		pe.Hint = "check the number; if it is right, tell the server's administrator"
	case ce.Status == http.StatusUnauthorized:
		pe.Hint = "ask the administrator for a new token and save it in the settings (or KUVERT_SERVER_TOKEN)"
	case ce.Status == http.StatusServiceUnavailable && ce.Code == api.CodeUnavailable:
		pe.Hint = "the server cannot send SMS now; try again later, and tell the server's administrator if it goes on (a server without an SMS account answers so too)"
	case ce.Status == 0 && neverSent(ce.Err):
		pe.Message = ce.Error() + "; sms:et skickades inte / the SMS was not sent"
		pe.Hint = "nothing was texted: check the server's address and that it runs, then send again ('kuvert log status' shows the last error)"
	case ce.Status == 0:
		pe.Message = ce.Error() + "; sms:et kan ha skickats eller inte / the SMS may or may not have gone out"
		pe.Hint = "ask the recipient whether it came; sending again is safe: the server never texts one sealing's password twice"
	}
	return pe
}
