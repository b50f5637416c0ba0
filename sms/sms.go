// Package sms delivers passwords out of band by SMS: a small [Sender]
// interface with its providers (console for demos, outbox for tests and
// dry runs, Twilio in sms/twilio), validation of mobile numbers, and the
// message text.
//
// It must never log or return a password in an error, and never put an
// API token anywhere. Phone numbers leave this package masked
// ([MaskNumber]) except on their way to the provider.
package sms

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// Status is a message's delivery state, in Twilio's words.
type Status string

const (
	StatusQueued      Status = "queued"
	StatusAccepted    Status = "accepted"
	StatusSending     Status = "sending"
	StatusSent        Status = "sent"
	StatusDelivered   Status = "delivered"
	StatusUndelivered Status = "undelivered"
	StatusFailed      Status = "failed"
	// StatusDemo marks a message that was shown, not sent (console).
	StatusDemo Status = "not-sent-demo"
	// StatusOutbox marks a message written to an outbox file.
	StatusOutbox Status = "outbox"
)

// Failed reports whether the status means the message will not arrive.
func (s Status) Failed() bool { return s == StatusFailed || s == StatusUndelivered }

// Message is one SMS to send.
type Message struct {
	To   string // E.164, from [ParseMobile]
	Body string
	// Password is the password alone, for a provider that composes the
	// text itself from its own [Policy] (the kuvert server's relay, which
	// texts nothing a device wrote). Providers that send Body ignore it.
	Password string
	// Key, if set, names this text for a provider that can send at most
	// once per key (the kuvert server's relay): a retry with the same
	// key never texts twice. kuvert uses the sealing entry's ID + "/" +
	// the reference. Providers that cannot deduplicate ignore it.
	Key string
	// Ref, Refers and Case describe the text for a provider that keeps a
	// log of its own (the kuvert server's central log); never the
	// password. Optional.
	Ref, Refers, Case string
}

// Receipt is what a provider says about a message.
type Receipt struct {
	Provider string `json:"provider"`
	ID       string `json:"id"`
	Status   Status `json:"status"`
	// ErrorCode is the provider's delivery error code, if any.
	ErrorCode int `json:"error_code,omitempty"`
}

// Sender sends messages and reports their status. Every implementation
// passes the conformance test in sms_test.go.
type Sender interface {
	// Name is the provider's name for logs: twilio, console, outbox.
	Name() string
	// Send delivers one message. It must not send the same message twice,
	// even when it retries: an error means nothing reached the provider
	// or the provider refused it.
	Send(ctx context.Context, m Message) (Receipt, error)
	// Status fetches the current state of a sent message.
	Status(ctx context.Context, id string) (Receipt, error)
}

// ErrNotDelivered wraps every failure to hand a message to the provider.
var ErrNotDelivered = errors.New("the SMS was not sent")

// ProviderError is a provider's refusal, in plain words, with its code.
type ProviderError struct {
	Code    int    // the provider's error code, e.g. Twilio 21211
	Status  int    // HTTP status, if any
	Message string // plain words for staff
	Hint    string // what to do next
	Cause   error  // the transport's or the server's error, if any
}

func (e *ProviderError) Error() string {
	if e.Code != 0 {
		return e.Message + " (code " + strconv.Itoa(e.Code) + ")"
	}
	return e.Message
}

// Unwrap gives [ErrNotDelivered] and the cause, so a shell can tell an
// unreachable service from a refusal.
func (e *ProviderError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrNotDelivered}
	}
	return []error{ErrNotDelivered, e.Cause}
}

const refAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// NewRef makes the short reference printed in both the SMS and the e-mail
// so the recipient can match them: 6 characters, no look-alikes.
func NewRef() string {
	b := make([]byte, 6)
	max := big.NewInt(int64(len(refAlphabet)))
	for i := range b {
		k, _ := rand.Int(rand.Reader, max)
		b[i] = refAlphabet[k.Int64()]
	}
	return string(b)
}

// IsRef reports whether s has the shape of a reference [NewRef] makes:
// six characters of its alphabet. The kuvert server refuses any other
// reference, so nothing but a code rides in that place of a text.
func IsRef(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(refAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// Finder is implemented by providers that can look up a sent message by
// the reference it carries. Resuming an interrupted batch asks it whether
// a row's SMS went out before sending another.
type Finder interface {
	FindRef(ctx context.Context, to, ref string) (Receipt, bool, error)
}
