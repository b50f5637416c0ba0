// Package twilio sends kuvert's SMS through Twilio's Messages API with
// github.com/twilio/twilio-go, adding what that library lacks: a base URL
// that can be moved (KUVERT_TWILIO_API_URL: a regional edge, an egress
// proxy, a test fake), a timeout and context on every call, bounded retries
// for 429 and 5xx, and a check before any resend so that one password is
// never texted twice.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/sms"
	twilio "github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// DefaultBaseURL is Twilio's API, hard-coded in twilio-go.
const DefaultBaseURL = "https://api.twilio.com"

// Config holds the account and sender. The auth token is used for basic
// auth and nothing else: it is never printed, logged or put in an error.
type Config struct {
	AccountSID          string
	AuthToken           string
	From                string // a Twilio number or an alphanumeric sender id (≤ 11)
	MessagingServiceSID string // instead of From
	BaseURL             string // default DefaultBaseURL
	Timeout             time.Duration
	Retries             int // extra attempts after a 429 or 5xx; default 3
	// ValidityPeriod (seconds) after which Twilio gives up delivering: a
	// password that arrives the next day is no use. Default 4 hours.
	ValidityPeriod int
	// Backoff is the wait before retry n (1, 2, …); nil means 1 s, 2 s, 4 s.
	Backoff func(n int) time.Duration
}

// Sender is the Twilio provider.
type Sender struct {
	cfg  Config
	base *url.URL
}

var _ sms.Sender = (*Sender)(nil)

// New checks the configuration.
func New(cfg Config) (*Sender, error) {
	switch {
	case cfg.AccountSID == "" || cfg.AuthToken == "":
		return nil, errors.New("twilio: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")
	case cfg.From == "" && cfg.MessagingServiceSID == "":
		return nil, errors.New("twilio: set a sender: KUVERT_SMS_FROM (a number or a sender id of at most 11 letters) or TWILIO_MESSAGING_SERVICE_SID")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("twilio: KUVERT_TWILIO_API_URL %q is not a URL", cfg.BaseURL)
	}
	if err := checkScheme(base); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.ValidityPeriod == 0 {
		cfg.ValidityPeriod = 4 * 3600
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(n int) time.Duration { return time.Second << (n - 1) }
	}
	return &Sender{cfg: cfg, base: base}, nil
}

// checkScheme lets the auth token travel only encrypted: https, or plain
// http to this machine's own loopback (a test fake, a local egress proxy)
// where it never crosses a network.
func checkScheme(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("twilio: KUVERT_TWILIO_API_URL %q uses http: the auth token would travel unencrypted; use https (plain http only to 127.0.0.1, ::1 or localhost)", u.Redacted())
	}
	return fmt.Errorf("twilio: KUVERT_TWILIO_API_URL %q is not an https URL", u.Redacted())
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Sender) Name() string { return "twilio" }

// RateLimit is one message a second, what a Twilio long code allows; a
// batch keeps to it unless told otherwise (--sms-rate).
func (s *Sender) RateLimit() float64 { return 1 }

// rewrite sends twilio-go's requests to the configured base URL with the
// caller's context, and remembers the last HTTP status (twilio-go loses it
// when an error page is not JSON).
type rewrite struct {
	base       *url.URL
	ctx        context.Context
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
	sent       bool // a request was written to the connection
}

func (t *rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, t.base.Host
	if p := strings.TrimSuffix(t.base.Path, "/"); p != "" {
		r.URL.Path = p + r.URL.Path
	}
	t.mu.Lock()
	t.sent = true
	t.mu.Unlock()
	resp, err := http.DefaultTransport.RoundTrip(r)
	if resp != nil {
		t.mu.Lock()
		t.status = resp.StatusCode
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			t.retryAfter = min(time.Duration(secs)*time.Second, 30*time.Second)
		} else {
			t.retryAfter = -1
		}
		t.mu.Unlock()
	}
	return resp, err
}

func (s *Sender) api(ctx context.Context) (*openapi.ApiService, *rewrite) {
	rt := &rewrite{base: s.base, ctx: ctx}
	c := &client.Client{
		Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken),
		HTTPClient:  &http.Client{Transport: rt, Timeout: s.cfg.Timeout},
	}
	c.SetAccountSid(s.cfg.AccountSID)
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	return rc.Api, rt
}

// Send posts the message, retrying 429 and 5xx answers with backoff. When
// a request's fate is unknown (a timeout after it was sent, a 5xx), it
// first looks for the message among those Twilio already holds for that
// number and resends only if it is not there.
func (s *Sender) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	start := time.Now()
	var lastErr error
	wait := time.Duration(-1)
	for attempt := 0; attempt <= s.cfg.Retries; attempt++ {
		if attempt > 0 {
			if wait < 0 {
				wait = s.cfg.Backoff(attempt)
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return sms.Receipt{}, fmt.Errorf("%w: %w", sms.ErrNotDelivered, ctx.Err())
			}
		}
		rc, kind, retryAfter, err := s.create(ctx, m)
		wait = retryAfter
		if err == nil {
			return rc, nil
		}
		lastErr = err
		switch kind {
		case permanent:
			return sms.Receipt{}, err
		case unknownFate:
			found, ok, lerr := s.lookup(ctx, m, start)
			if lerr != nil {
				return sms.Receipt{}, &sms.ProviderError{Message: "Twilio did not answer, and whether the SMS was sent could not be checked; it was not sent again, to avoid sending it twice", Hint: "check with 'kuvert sms status' or in the Twilio console before resending"}
			}
			if ok {
				return found, nil
			}
		}
	}
	return sms.Receipt{}, lastErr
}

type failKind int

const (
	permanent   failKind = iota
	retry                // nothing was created: resend
	unknownFate          // look before resending
)

// create posts once. retryAfter is the server's Retry-After, or -1.
func (s *Sender) create(ctx context.Context, m sms.Message) (r sms.Receipt, kind failKind, retryAfter time.Duration, err error) {
	r, kind, err = s.createOnce(ctx, m, &retryAfter)
	return
}

func (s *Sender) createOnce(ctx context.Context, m sms.Message, retryAfter *time.Duration) (sms.Receipt, failKind, error) {
	api, rt := s.api(ctx)
	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(m.Body)
	p.SetValidityPeriod(s.cfg.ValidityPeriod)
	if s.cfg.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	} else {
		p.SetFrom(s.cfg.From)
	}
	*retryAfter = -1
	res, err := api.CreateMessage(p)
	if err == nil {
		return receipt(res), 0, nil
	}
	rt.mu.Lock()
	status, sent := rt.status, rt.sent
	*retryAfter = rt.retryAfter
	if status == 0 {
		*retryAfter = -1
	}
	rt.mu.Unlock()
	var te *client.TwilioRestError
	switch {
	case errors.As(err, &te) && (te.Status == http.StatusTooManyRequests || te.Code == 20429):
		return sms.Receipt{}, retry, &sms.ProviderError{Code: te.Code, Status: te.Status, Message: "Twilio is limiting the rate of messages; tried several times", Hint: "try again in a minute, or lower --sms-rate"}
	case errors.As(err, &te) && te.Status >= 500:
		return sms.Receipt{}, unknownFate, &sms.ProviderError{Code: te.Code, Status: te.Status, Message: fmt.Sprintf("Twilio had a server error (HTTP %d)", te.Status), Hint: "try again later; see status.twilio.com"}
	case errors.As(err, &te):
		return sms.Receipt{}, permanent, plainError(te)
	case status >= 500:
		return sms.Receipt{}, unknownFate, &sms.ProviderError{Status: status, Message: fmt.Sprintf("Twilio (or a proxy before it) had a server error (HTTP %d)", status), Hint: "try again later"}
	case status >= 400:
		return sms.Receipt{}, permanent, &sms.ProviderError{Status: status, Message: fmt.Sprintf("Twilio refused the request (HTTP %d)", status)}
	case ctx.Err() != nil:
		return sms.Receipt{}, permanent, fmt.Errorf("%w: %w", sms.ErrNotDelivered, ctx.Err())
	case sent && isTimeout(err):
		return sms.Receipt{}, unknownFate, &sms.ProviderError{Message: fmt.Sprintf("Twilio did not answer within %s", s.cfg.Timeout), Hint: "check the network or proxy settings (KUVERT_TWILIO_API_URL)"}
	default:
		// Could not connect: nothing was sent.
		return sms.Receipt{}, retry, &sms.ProviderError{Message: "cannot reach Twilio (" + netReason(err) + ")", Cause: err, Hint: "check the network or proxy settings (KUVERT_TWILIO_API_URL)"}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func netReason(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Op + " failed"
	}
	if isTimeout(err) {
		return "timeout"
	}
	return "network error"
}

// lookup finds a message with the same body sent to the same number since
// start, among the newest Twilio holds.
func (s *Sender) lookup(ctx context.Context, m sms.Message, start time.Time) (sms.Receipt, bool, error) {
	api, _ := s.api(ctx)
	p := &openapi.ListMessageParams{}
	p.SetTo(m.To)
	p.SetPageSize(20)
	p.SetLimit(20)
	list, err := api.ListMessage(p)
	if err != nil {
		return sms.Receipt{}, false, err
	}
	for _, msg := range list {
		if msg.Body != nil && *msg.Body == m.Body {
			if msg.DateCreated != nil {
				if t, err := time.Parse(time.RFC1123Z, *msg.DateCreated); err == nil && t.Before(start.Add(-time.Minute)) {
					continue
				}
			}
			return receipt(&msg), true, nil
		}
	}
	return sms.Receipt{}, false, nil
}

// Status fetches a message's delivery status.
func (s *Sender) Status(ctx context.Context, id string) (sms.Receipt, error) {
	api, _ := s.api(ctx)
	res, err := api.FetchMessage(id, nil)
	if err != nil {
		var te *client.TwilioRestError
		if errors.As(err, &te) {
			return sms.Receipt{}, plainError(te)
		}
		return sms.Receipt{}, &sms.ProviderError{Message: "cannot reach Twilio (" + netReason(err) + ")", Cause: err}
	}
	return receipt(res), nil
}

func receipt(m *openapi.ApiV2010Message) sms.Receipt {
	r := sms.Receipt{Provider: "twilio"}
	if m.Sid != nil {
		r.ID = *m.Sid
	}
	if m.Status != nil {
		r.Status = sms.Status(*m.Status)
	}
	if m.ErrorCode != nil {
		r.ErrorCode = *m.ErrorCode
	}
	return r
}

// plainError turns a Twilio error into words staff can act on. Twilio's
// own message is not passed on: it can quote the phone number.
func plainError(te *client.TwilioRestError) *sms.ProviderError {
	e := &sms.ProviderError{Code: te.Code, Status: te.Status}
	switch te.Code {
	case 20003:
		e.Message, e.Hint = "Twilio did not accept the account SID or auth token", "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or the settings in the desktop app)"
	case 21211:
		e.Message, e.Hint = "Twilio says the mobile number is not valid", "check the number with the recipient"
	case 21408:
		e.Message, e.Hint = "the Twilio account may not send SMS to this country", "enable the country under Messaging → Geo permissions in the Twilio console"
	case 21608:
		e.Message, e.Hint = "the number is not verified: a Twilio trial account can only text numbers verified in the Twilio console", "verify the number in the Twilio console, or upgrade the account"
	case 21610:
		e.Message, e.Hint = "the recipient has replied STOP to this sender and cannot be texted from it", "ask the recipient to reply START, or give the password another way"
	case 21612, 21606:
		e.Message, e.Hint = "Twilio cannot send from this sender (From or sender id) to this number", "use a Messaging Service or a sender that Twilio allows for Sweden (docs/sms.md)"
	case 21602:
		e.Message = "the SMS text is empty"
	default:
		e.Message = fmt.Sprintf("Twilio refused the message (HTTP %d)", te.Status)
		e.Hint = "see https://www.twilio.com/docs/errors/" + fmt.Sprint(te.Code)
	}
	return e
}

var _ sms.Finder = (*Sender)(nil)

// FindRef looks among the newest messages to a number for one whose text
// carries "ref REF".
func (s *Sender) FindRef(ctx context.Context, to, ref string) (sms.Receipt, bool, error) {
	api, _ := s.api(ctx)
	p := &openapi.ListMessageParams{}
	p.SetTo(to)
	p.SetPageSize(50)
	p.SetLimit(50)
	list, err := api.ListMessage(p)
	if err != nil {
		return sms.Receipt{}, false, &sms.ProviderError{Message: "cannot list messages at Twilio (" + netReason(err) + ")"}
	}
	for _, msg := range list {
		if msg.Body != nil && sms.HasRef(*msg.Body, ref) {
			return receipt(&msg), true, nil
		}
	}
	return sms.Receipt{}, false, nil
}
