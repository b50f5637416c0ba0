package server

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/sms"
)

// Failed enrollments allowed per source address and window. A code has
// 138 bits, so guessing is hopeless anyway; the limit keeps a
// misconfigured script (an old code in a policy on 300 desktops) from
// hammering the database, and tells it so.
const (
	EnrollFailLimit  = 10
	EnrollFailWindow = 15 * time.Minute
)

// failLimiter counts failed attempts per address in fixed windows, in
// this process's memory: behind a load balancer each server process
// counts its own (a limit per process is still a limit). Hand-written
// rather than golang.org/x/time/rate: that limits requests, and here
// only failures count, so a good code is never refused because of
// others' typos from the same NAT address.
type failLimiter struct {
	mu   sync.Mutex
	seen map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

func (l *failLimiter) blocked(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.seen[addr]
	return w != nil && now.Sub(w.start) < EnrollFailWindow && w.n >= EnrollFailLimit
}

func (l *failLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]*failWindow{}
	}
	if len(l.seen) > 100000 {
		for a, w := range l.seen {
			if now.Sub(w.start) >= EnrollFailWindow {
				delete(l.seen, a)
			}
		}
	}
	w := l.seen[addr]
	if w == nil || now.Sub(w.start) >= EnrollFailWindow {
		w = &failWindow{start: now}
		l.seen[addr] = w
	}
	w.n++
}

// sourceAddr is the request's peer address without the port. Behind a
// reverse proxy that is the proxy (docs/server.md says so).
func sourceAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// enroll trades a code for a device token. It needs no token: the code
// is the credential, and it only ever buys a device token.
func (h *Handler) enroll(w http.ResponseWriter, r *http.Request) {
	addr, now := sourceAddr(r), time.Now()
	if h.enrollFails.blocked(addr, now) {
		w.Header().Set("Retry-After", "900")
		writeErr(w, http.StatusTooManyRequests, api.CodeRateLimited, "för många misslyckade försök att registrera datorn; vänta en kvart / too many failed enrollment attempts from this address; wait 15 minutes")
		return
	}
	var req api.EnrollRequest
	if err := readJSON(w, r, 2<<10, &req); err != nil {
		h.enrollFails.fail(addr, now)
		h.fail(w, err)
		return
	}
	if req.Code == "" || len(req.Code) > 100 || len(req.Computer) > 255 {
		h.enrollFails.fail(addr, now)
		writeErr(w, http.StatusBadRequest, api.CodeBadRequest, "code (at most 100 characters) and computer (at most 255) are required")
		return
	}
	res, err := h.Store.Enroll(r.Context(), req.Code, req.Computer)
	req.Code = ""
	var code, msg string
	switch {
	case err == nil:
		if sw, ok := w.(*statusWriter); ok {
			sw.who = res.Name
		}
		h.Log.Info("enrolled", "token", res.Name)
		writeJSON(w, http.StatusOK, res)
		return
	case errors.Is(err, ErrEnrollUnknown):
		code, msg = api.CodeEnrollUnknown, "okänd registreringskod / unknown enrollment code"
	case errors.Is(err, ErrEnrollUsedUp):
		code, msg = api.CodeEnrollUsedUp, "registreringskoden är förbrukad / the enrollment code is used up"
	case errors.Is(err, ErrEnrollExpired):
		code, msg = api.CodeEnrollExpired, "registreringskoden har gått ut / the enrollment code has expired"
	case errors.Is(err, ErrEnrollRevoked):
		code, msg = api.CodeEnrollRevoked, "registreringskoden är återkallad / the enrollment code is revoked"
	default:
		h.fail(w, err)
		return
	}
	h.enrollFails.fail(addr, now)
	writeErr(w, http.StatusForbidden, code, msg)
}

// settings answers the organisation's settings a desktop takes: the
// relay's own words when it texts, so a desktop's preview is the text
// the relay sends.
func (h *Handler) settings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.orgSettings())
}

// orgSettings always names a template and a language, the defaults
// included: a desktop's own config.json must not put its template in
// the preview of a text the relay writes with the default one.
func (h *Handler) orgSettings() api.OrgSettings {
	var o api.OrgSettings
	switch {
	case h.Relay != nil && h.Relay.Policy != nil:
		p := h.Relay.Policy
		o = api.OrgSettings{Organisation: p.Organisation, OpenerURL: p.OpenerURL, SMSTemplate: p.Template, SMSLanguage: p.Lang}
	case h.Org != nil:
		o = *h.Org
	}
	if o.SMSLanguage == "" {
		o.SMSLanguage = "sv"
	}
	if o.SMSTemplate == "" {
		o.SMSTemplate = sms.Templates[o.SMSLanguage]
		if o.OpenerURL != "" {
			o.SMSTemplate = sms.LinkTemplates[o.SMSLanguage]
		}
	}
	return o
}
