package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
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
	// PerForeign is what the whole account may text to numbers outside
	// Sweden per hour, when --sms-countries allows any: a stolen token
	// should not run up international rates.
	PerForeign int
}

// DefaultLimits suit a municipality: a payroll run of a few hundred rows
// from one batch host, a few thousand texts an hour in all, a few abroad.
var DefaultLimits = Limits{PerDevice: 500, PerAccount: 5000, PerForeign: 50}

// ErrRateLimited: the device or the account has sent its hour's texts.
var ErrRateLimited = errors.New("too many SMS")

// ErrAlreadySent: an SMS for this key went out, or may have (the server
// stopped while the provider had it). It is never sent again; a new
// password goes out with `kuvert resend`.
var ErrAlreadySent = errors.New("an SMS for this reference was already sent, or may have been")

// HomeRegion is the region whose mobiles the relay always texts.
const HomeRegion = "SE"

// MaxRelayPassword is the longest password the relay texts, in bytes:
// 7-Zip takes at most 99 for a WinZip AES zip, and nothing longer is a
// password kuvert makes.
const MaxRelayPassword = 99

// maxCase bounds the case number the relay records (it is never texted).
const maxCase = 64

// staleSending is how long a claim may stay "sending" before a retry
// treats its provider call as over: well beyond the provider call's own
// 60-second limit.
const staleSending = 5 * time.Minute

// Relay texts passwords for devices with the organisation's provider, in
// the organisation's words: it writes every text itself from Policy, so
// a device (or a thief with its token) can choose the number, the
// password and the reference, and nothing else that the recipient reads.
type Relay struct {
	Store  *Store
	Sender sms.Sender
	Limits Limits
	// Policy holds the words: organisation, recipient page, language,
	// template; the same [sms.Policy] the desktop renders with. Its
	// Sender is ignored (Sender above sends). Nil or without an
	// organisation, the relay texts nothing.
	Policy *sms.Policy
	// Countries are the regions (ISO 3166, "NO") besides Sweden whose
	// mobiles the relay texts, each within Limits.PerForeign. Empty:
	// Swedish mobiles only.
	Countries []string
	// Log receives what the relay could not record (never a password or
	// a number). Nil: slog's default.
	Log *slog.Logger

	// recordHook, in tests only, runs before the relay records a text
	// the provider answered; an error stands for a failing database.
	recordHook func() error
}

// policy is the relay's policy with its sender, for [sms.Policy.Text].
func (r *Relay) policy() *sms.Policy {
	var p sms.Policy
	if r.Policy != nil {
		p = *r.Policy
	}
	p.Sender = r.Sender
	return &p
}

// Check checks the relay's settings before the server starts: an
// organisation name, a template that fits one SMS with a generated
// password, and known regions.
func (r *Relay) Check() error {
	for _, c := range r.Countries {
		if len(c) != 2 || strings.ToUpper(c) != c || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			return fmt.Errorf("--sms-countries: %q is not a two-letter country code such as NO", c)
		}
	}
	return r.policy().Check(sms.GeneratedLength)
}

// Send texts the password in m to m.To for device, in the
// organisation's words, at most once per m.Key, within the limits, and
// records the outcome in the central log. The text (with the password)
// is handed to the provider and then forgotten: it is never stored,
// logged or returned in an error.
//
// Once the provider has accepted a text, Send answers with its receipt
// even if the central log cannot record it then: the entry waits in
// sms_sends and the next request with the same key records it (and
// sends nothing); the receipt says Unrecorded meanwhile.
func (r *Relay) Send(ctx context.Context, device string, m api.SMSRequest) (api.SMSResponse, error) {
	num, region, err := r.checkRequest(m)
	if err != nil {
		return api.SMSResponse{}, err
	}
	pol := r.policy()
	body, err := pol.Text(m.Ref, m.Password)
	if err != nil {
		if errors.Is(err, sms.ErrNoOrganisation) {
			return api.SMSResponse{}, fmt.Errorf("%w: the server has no organisation name for its texts (kuvert server run --organisation)", ErrUnavailable)
		}
		return api.SMSResponse{}, fmt.Errorf("%w: %v", errBadRequest, err)
	}
	// The entry the central log must hold for this text, whatever
	// happens next: first as "may have gone out", then with the
	// provider's answer. It is kept in sms_sends until the log has it.
	e := r.Store.ownEntry(auditlog.Entry{
		Action: auditlog.ActionSMS, Refers: m.Refers, Case: m.Case, Operator: device,
		Delivery: &auditlog.Delivery{Provider: r.Sender.Name(), To: sms.MaskNumber(num), Ref: m.Ref, Status: auditlog.StatusFailed,
			Error: "the server lost the provider's answer; the SMS may have gone out"},
		Event: auditlog.NewEvent(auditlog.CodeRelayed, "device", device),
	})
	c, err := r.claim(ctx, device, m, region, e)
	if c.pending != nil {
		// A record an earlier request with this key could not finish.
		if rerr := r.complete(context.WithoutCancel(ctx), m.Key, c.pending); rerr != nil {
			c.prev.Unrecorded = true
			r.logger().Error("sms relay: an earlier text is still not in the central log", "key", m.Key, "err", rerr.Error())
		}
	}
	if err != nil || c.done {
		return c.prev, err
	}

	// The provider call outlives a client that hangs up: its retry with
	// the same key then learns the outcome instead of guessing.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	rc, sendErr := r.Sender.Send(sctx, sms.Message{To: num, Body: body, Key: m.Key})
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
	e.Delivery = del
	e.Time = r.Store.now().Format(time.RFC3339)
	res := api.SMSResponse{Provider: r.Sender.Name(), ID: rc.ID, Status: string(rc.Status)}
	if err := r.record(context.WithoutCancel(ctx), m.Key, state, e); err != nil {
		r.logger().Error("sms relay: the provider answered but the central log could not record it yet; a retry with the same key records it",
			"key", m.Key, "message_id", rc.ID, "state", state, "err", err.Error())
		res.Unrecorded = true
	}
	if sendErr != nil {
		return api.SMSResponse{}, fmt.Errorf("%w: %w", errSMSProvider, sendErr)
	}
	return res, nil
}

// checkRequest refuses everything but a password, a reference, a mobile
// number the server may text, and bounded, plain key, refers and case.
// Its errors never hold the password.
func (r *Relay) checkRequest(m api.SMSRequest) (num, region string, err error) {
	bad := func(format string, a ...any) (string, string, error) {
		return "", "", fmt.Errorf("%w: "+format, append([]any{errBadRequest}, a...)...)
	}
	num, err = sms.ParseMobile(m.To)
	if err != nil {
		return bad("%v", err)
	}
	region = sms.Region(num)
	if region != HomeRegion && !slices.Contains(r.Countries, region) {
		return bad("numret är inte svenskt och servern texter inte till %s / the server texts Swedish mobiles only and is not set to text %s (kuvert server run --sms-countries)", region, region)
	}
	switch {
	case m.Key == "" || len(m.Key) > 200 || strings.IndexFunc(m.Key, unprintable) >= 0:
		return bad("an SMS needs a key of at most 200 printable characters")
	case !sms.IsRef(m.Ref):
		return bad("referensen ska vara kuverts kod på sex tecken / the reference must be kuvert's six-character code")
	case len(m.Refers) > 64 || strings.IndexFunc(m.Refers, badIDRune) >= 0:
		return bad("refers must be an entry ID")
	case len(m.Case) > maxCase || strings.IndexFunc(m.Case, unprintable) >= 0 || looksLikeLink(m.Case):
		return bad("diarienumret är för långt, har styrtecken eller en adress / the case number is too long, or holds a control character or an address")
	}
	if err := checkPassword(m.Password); err != nil {
		return "", "", fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return num, region, nil
}

var (
	// hostLike is a name a phone turns into a link: "bankid.se",
	// "kommun.nu/x", "a@b.com".
	hostLike = regexp.MustCompile(`(?i)[\p{L}0-9-]\.[a-z]{2,}`)
	// numberLike is a phone number a phone offers to call.
	numberLike = regexp.MustCompile(`[0-9]{7,}`)
)

// checkPassword refuses what could ride in a password into a text sent
// in the organisation's name: words (no spaces, no line breaks), an
// address a phone turns into a link, a phone number to call, anything an
// SMS cannot carry in GSM-7, or more than [MaxRelayPassword] bytes. A
// password kuvert makes (groups of letters and digits, or words joined
// by -) passes. Its errors never quote the password.
func checkPassword(pw string) error {
	if pw == "" {
		return errors.New("inget lösenord / no password: the server texts passwords only")
	}
	if len(pw) > MaxRelayPassword {
		return fmt.Errorf("lösenordet är längre än %d byte / the password is over %d bytes (7-Zip's limit)", MaxRelayPassword, MaxRelayPassword)
	}
	for _, c := range pw {
		if c == ' ' || !unicode.IsPrint(c) {
			return errors.New("lösenordet har mellanslag eller styrtecken / the password holds a space or a control character: the server texts a password, not a message")
		}
		if _, err := sms.Septets(string(c)); err != nil {
			return errors.New("lösenordet har ett tecken som sms inte bär (GSM-7) / the password has a character an SMS cannot carry (GSM-7)")
		}
	}
	digits := 0
	for _, c := range pw {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if looksLikeLink(pw) || numberLike.MatchString(pw) || (digits >= 7 && strings.Trim(pw, "0123456789+-()") == "") {
		return errors.New("lösenordet ser ut som en adress eller ett telefonnummer / the password looks like an address or a phone number, which a phone would offer to open or call")
	}
	return nil
}

// looksLikeLink reports whether s holds something a phone shows as a
// link.
func looksLikeLink(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "://") || strings.Contains(l, "www.") || hostLike.MatchString(s)
}

// claimed is the outcome of [Relay.claim].
type claimed struct {
	prev    api.SMSResponse
	done    bool   // nothing to send: prev or the error is the answer
	pending []byte // an earlier request's entry the central log still lacks
}

// claim records that m is about to be sent, under the rate limits, in
// one transaction that every server process serialises on, together with
// e: the entry that records the text if nothing better comes. A key seen
// before returns its receipt (sent) or ErrAlreadySent (unknown outcome);
// done is true then and nothing is sent. An earlier request's entry that
// never reached the central log comes back in pending.
func (r *Relay) claim(ctx context.Context, device string, m api.SMSRequest, region string, e auditlog.Entry) (claimed, error) {
	var c claimed
	pendingLine, err := json.Marshal(e)
	if err != nil {
		return claimed{done: true}, err
	}
	err = pgx.BeginFunc(ctx, r.Store.pool, func(tx pgx.Tx) error {
		c = claimed{}
		if err := syncCommit(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockSMS)); err != nil {
			return err
		}
		var state, owner string
		var created time.Time
		err := tx.QueryRow(ctx, "SELECT state, device, provider, message_id, status, pending, created FROM sms_sends WHERE key = $1", m.Key).
			Scan(&state, &owner, &c.prev.Provider, &c.prev.ID, &c.prev.Status, &c.pending, &created)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		case owner != device:
			c.pending = nil
			return fmt.Errorf("%w: the key belongs to another device", ErrForeignID)
		case state == "sent":
			c.done = true
			return nil
		case state == "refused":
			// Nothing went out last time; this is a new attempt. The last
			// one's record, if still waiting, is appended after this.
		default:
			if state == "sending" && r.Store.now().Sub(created) < staleSending {
				// The first request may still be with the provider: its
				// own record follows.
				c.pending = nil
			}
			return ErrAlreadySent
		}
		since := r.Store.now().Add(-time.Hour)
		var mine, all, foreign int
		if err := tx.QueryRow(ctx, "SELECT count(*) FILTER (WHERE device = $1), count(*), count(*) FILTER (WHERE region NOT IN ('', $3)) FROM sms_sends WHERE created > $2",
			device, since, HomeRegion).Scan(&mine, &all, &foreign); err != nil {
			return err
		}
		if r.Limits.PerDevice > 0 && mine >= r.Limits.PerDevice {
			return fmt.Errorf("%w: this device has sent %d texts in the last hour (limit %d)", ErrRateLimited, mine, r.Limits.PerDevice)
		}
		if r.Limits.PerAccount > 0 && all >= r.Limits.PerAccount {
			return fmt.Errorf("%w: the organisation has sent %d texts in the last hour (limit %d)", ErrRateLimited, all, r.Limits.PerAccount)
		}
		if region != HomeRegion && r.Limits.PerForeign > 0 && foreign >= r.Limits.PerForeign {
			return fmt.Errorf("%w: the organisation has sent %d texts abroad in the last hour (limit %d)", ErrRateLimited, foreign, r.Limits.PerForeign)
		}
		_, err = tx.Exec(ctx, `INSERT INTO sms_sends (key, device, ref, state, created, region, pending) VALUES ($1, $2, $3, 'sending', $4, $5, $6)
			ON CONFLICT (key) DO UPDATE SET state = 'sending', created = EXCLUDED.created, region = EXCLUDED.region, pending = EXCLUDED.pending,
			provider = '', message_id = '', status = '', error = ''`, m.Key, device, m.Ref, r.Store.now(), region, pendingLine)
		return err
	})
	if err != nil {
		c.done = true
		if errors.Is(err, ErrAlreadySent) || errors.Is(err, ErrRateLimited) || errors.Is(err, ErrForeignID) {
			return c, err
		}
		return c, dbErr(err)
	}
	return c, nil
}

// record keeps the provider's answer for key with e, the entry that
// records it, then appends e to the central log. Until the log has it, e
// waits in sms_sends.pending for [Relay.complete].
func (r *Relay) record(ctx context.Context, key, state string, e auditlog.Entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if r.recordHook != nil {
		if err := r.recordHook(); err != nil {
			return err
		}
	}
	d := e.Delivery
	if _, err := r.Store.pool.Exec(ctx, "UPDATE sms_sends SET state = $2, provider = $3, message_id = $4, status = $5, error = $6, pending = $7 WHERE key = $1",
		key, state, d.Provider, d.MessageID, string(d.Status), d.Error, line); err != nil {
		return dbErr(err)
	}
	return r.complete(ctx, key, line)
}

// complete appends a waiting entry (as stored, so that a second try is a
// duplicate the log adds once) and clears it.
func (r *Relay) complete(ctx context.Context, key string, line []byte) error {
	var e auditlog.Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return err
	}
	if r.recordHook != nil {
		if err := r.recordHook(); err != nil {
			return err
		}
	}
	if _, _, err := r.Store.Append(ctx, ServerDevice, []auditlog.Entry{e}); err != nil {
		return err
	}
	_, err := r.Store.pool.Exec(ctx, "UPDATE sms_sends SET pending = NULL WHERE key = $1 AND pending = $2", key, line)
	return dbErr(err)
}

func (r *Relay) logger() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
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
