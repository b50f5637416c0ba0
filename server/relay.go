package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/sms"
)

// Limits are the SMS relay's rate limits, per rolling hour.
type Limits struct {
	PerDevice  int // texts one device may send per hour
	PerAccount int // texts the whole account may send per hour
}

// DefaultLimits suit a municipality: a payroll run of a few hundred rows
// from one batch host, a few thousand texts an hour in all.
var DefaultLimits = Limits{PerDevice: 500, PerAccount: 5000}

// ErrRateLimited: the device or the account has sent its hour's texts.
var ErrRateLimited = errors.New("too many SMS")

// ErrAlreadySent: an SMS for this key went out, or may have (the server
// stopped while the provider had it). It is never sent again; a new
// password goes out with `kuvert resend`.
var ErrAlreadySent = errors.New("an SMS for this reference was already sent, or may have been")

// Relay texts passwords for devices with the organisation's provider.
type Relay struct {
	Store  *Store
	Sender sms.Sender
	Limits Limits
}

// Send texts m for device, at most once per m.Key, within the limits,
// and records the outcome in the central log. The text (with the
// password) is handed to the provider and then forgotten: it is never
// stored, logged or returned in an error.
func (r *Relay) Send(ctx context.Context, device string, m api.SMSRequest) (api.SMSResponse, error) {
	num, err := sms.ParseMobile(m.To)
	if err != nil {
		return api.SMSResponse{}, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	switch {
	case m.Key == "" || len(m.Key) > 200:
		return api.SMSResponse{}, fmt.Errorf("%w: an SMS needs a key (at most 200 characters)", errBadRequest)
	case strings.TrimSpace(m.Body) == "" || len(m.Body) > 1600:
		return api.SMSResponse{}, fmt.Errorf("%w: the text is empty or too long", errBadRequest)
	case len(m.Ref) > 64 || len(m.Refers) > 64 || len(m.Case) > auditlog.MaxTextLen:
		return api.SMSResponse{}, fmt.Errorf("%w: ref, refers or case too long", errBadRequest)
	case strings.IndexFunc(m.Key, unprintable) >= 0 || strings.IndexFunc(m.Ref, unprintable) >= 0 || strings.IndexFunc(m.Refers, unprintable) >= 0:
		// A NUL would fail the claim's insert (a 500); nothing here needs
		// a control character.
		return api.SMSResponse{}, fmt.Errorf("%w: key, ref or refers holds a control character", errBadRequest)
	}
	if prev, done, err := r.claim(ctx, device, m); err != nil || done {
		return prev, err
	}

	// The provider call outlives a client that hangs up: its retry with
	// the same key then learns the outcome instead of guessing.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	rc, sendErr := r.Sender.Send(sctx, sms.Message{To: num, Body: m.Body})
	cancel()
	del := &auditlog.Delivery{Provider: r.Sender.Name(), To: sms.MaskNumber(num), Ref: m.Ref, MessageID: rc.ID, Status: auditlog.Status(rc.Status)}
	state := "sent"
	var pe *sms.ProviderError
	switch {
	case sendErr == nil:
	case errors.As(sendErr, &pe) && pe.Status >= 400 && pe.Status < 500:
		// The provider refused it: nothing went out, a retry may send.
		state = "refused"
		del.Status, del.Error = auditlog.StatusFailed, sendErr.Error()
	default:
		// No answer: the text may have gone out. Never again for this key.
		state = "unknown"
		del.Status, del.Error = auditlog.StatusFailed, "no answer from the provider; the SMS may have gone out: "+sendErr.Error()
	}
	bg := context.WithoutCancel(ctx)
	if _, err := r.Store.pool.Exec(bg, "UPDATE sms_sends SET state = $2, provider = $3, message_id = $4, status = $5, error = $6 WHERE key = $1",
		m.Key, state, r.Sender.Name(), rc.ID, string(del.Status), del.Error); err != nil {
		return api.SMSResponse{}, fmt.Errorf("the SMS was handed to the provider (id %s) but could not be recorded: %w", rc.ID, dbErr(err))
	}
	if _, _, err := r.Store.Append(bg, ServerDevice, []auditlog.Entry{r.Store.ownEntry(auditlog.Entry{
		Action: auditlog.ActionSMS, Refers: m.Refers, Delivery: del, Case: m.Case, Operator: device,
		Details: "förmedlat av kuvert server för " + device + " / relayed by kuvert server for " + device,
	})}); err != nil {
		return api.SMSResponse{}, fmt.Errorf("the SMS was handed to the provider (id %s) but the central log could not record it: %w", rc.ID, err)
	}
	if sendErr != nil {
		return api.SMSResponse{}, fmt.Errorf("%w: %w", errSMSProvider, sendErr)
	}
	return api.SMSResponse{Provider: r.Sender.Name(), ID: rc.ID, Status: string(rc.Status)}, nil
}

// claim records that m is about to be sent, under the rate limits, in
// one transaction that every server process serialises on. A key seen
// before returns its receipt (sent) or ErrAlreadySent (unknown outcome);
// done is true then and nothing is sent.
func (r *Relay) claim(ctx context.Context, device string, m api.SMSRequest) (api.SMSResponse, bool, error) {
	var prev api.SMSResponse
	done := false
	err := pgx.BeginFunc(ctx, r.Store.pool, func(tx pgx.Tx) error {
		if err := syncCommit(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockSMS)); err != nil {
			return err
		}
		var state, owner string
		err := tx.QueryRow(ctx, "SELECT state, device, provider, message_id, status FROM sms_sends WHERE key = $1", m.Key).
			Scan(&state, &owner, &prev.Provider, &prev.ID, &prev.Status)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case owner != device:
			return fmt.Errorf("%w: the key belongs to another device", ErrForeignID)
		case state == "sent":
			done = true
			return nil
		case state == "refused":
			// Nothing went out last time; this is a new attempt.
		default:
			return ErrAlreadySent
		}
		since := r.Store.now().Add(-time.Hour)
		var mine, all int
		if err := tx.QueryRow(ctx, "SELECT count(*) FILTER (WHERE device = $1), count(*) FROM sms_sends WHERE created > $2", device, since).Scan(&mine, &all); err != nil {
			return err
		}
		if r.Limits.PerDevice > 0 && mine >= r.Limits.PerDevice {
			return fmt.Errorf("%w: this device has sent %d texts in the last hour (limit %d)", ErrRateLimited, mine, r.Limits.PerDevice)
		}
		if r.Limits.PerAccount > 0 && all >= r.Limits.PerAccount {
			return fmt.Errorf("%w: the organisation has sent %d texts in the last hour (limit %d)", ErrRateLimited, all, r.Limits.PerAccount)
		}
		_, err = tx.Exec(ctx, `INSERT INTO sms_sends (key, device, ref, state, created) VALUES ($1, $2, $3, 'sending', $4)
			ON CONFLICT (key) DO UPDATE SET state = 'sending', created = EXCLUDED.created`, m.Key, device, m.Ref, r.Store.now())
		return err
	})
	if err != nil {
		if errors.Is(err, ErrAlreadySent) || errors.Is(err, ErrRateLimited) || errors.Is(err, ErrForeignID) {
			return prev, true, err
		}
		return prev, true, dbErr(err)
	}
	return prev, done, nil
}

// Status asks the provider about a message a device sent through the
// server.
func (r *Relay) Status(ctx context.Context, device, id string) (api.SMSResponse, error) {
	if id == "" || len(id) > 64 {
		return api.SMSResponse{}, fmt.Errorf("%w: give the message id (id=…)", errBadRequest)
	}
	var n int
	if err := r.Store.pool.QueryRow(ctx, "SELECT count(*) FROM sms_sends WHERE device = $1 AND message_id = $2", device, id).Scan(&n); err != nil {
		return api.SMSResponse{}, dbErr(err)
	}
	if n == 0 {
		return api.SMSResponse{}, fmt.Errorf("%w: no SMS with id %q from this device", errNotFound, id)
	}
	rc, err := r.Sender.Status(ctx, id)
	if err != nil {
		return api.SMSResponse{}, err
	}
	return api.SMSResponse{Provider: r.Sender.Name(), ID: rc.ID, Status: string(rc.Status)}, nil
}

var errNotFound = errors.New("not found")

func unprintable(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }
