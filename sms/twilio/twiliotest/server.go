// Package twiliotest is a loopback fake of Twilio's Messages REST API for
// tests: the real URL layout, form-encoded requests with basic auth, JSON
// message resources and JSON error bodies, and scripted failures (429,
// 5xx HTML pages, hangs, a timeout after the message was accepted). The
// network is never reached.
package twiliotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Credentials the fake accepts.
const (
	AccountSID = "AC00000000000000000000000000000001"
	AuthToken  = "0123456789abcdef0123456789abcdef"
	From       = "+46766860000"
	ServiceSID = "MG00000000000000000000000000000001"
)

// Behaviour scripts the fake's answer to the next message POST.
type Behaviour struct {
	Status int  // HTTP status of an error answer (0: accept)
	Code   int  // Twilio error code in the JSON body
	HTML   bool // answer with an HTML page instead of JSON
	Hang   time.Duration
	// AcceptThenHang stores the message, then hangs for Hang: the client
	// times out although the message was sent.
	AcceptThenHang bool
}

// Message is a message the fake received.
type Message struct {
	SID                 string
	To, From, Body      string
	MessagingServiceSID string
	Status              string
	ErrorCode           int
	Created             time.Time
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	script    []Behaviour
	messages  []*Message
	posts     int
	final     map[string]string // number → final status (default delivered)
	failCodes map[string]int    // number → Twilio error on POST
}

// NewServer starts a fake on a loopback port.
func NewServer() *Server {
	s := &Server{final: map[string]string{}, failCodes: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Script queues behaviours for the next POSTs, in order.
func (s *Server) Script(b ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, b...)
}

// FinalStatus makes messages to number end in status (e.g. undelivered).
func (s *Server) FinalStatus(number, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.final[number] = status
}

// RefuseNumber makes POSTs to number fail with a Twilio error code
// (21211 invalid, 21608 unverified, 21612 unroutable, 21610 stopped).
func (s *Server) RefuseNumber(number string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCodes[number] = code
}

// Messages returns what the fake accepted.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = *m
	}
	return out
}

// Posts counts message POSTs, accepted or not.
func (s *Server) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// LastTo returns the last message accepted for number.
func (s *Server) LastTo(number string) (Message, bool) {
	ms := s.Messages()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].To == number {
			return ms[i], true
		}
	}
	return Message{}, false
}

var errorTexts = map[int]string{
	20003: "Authenticate",
	20429: "Too Many Requests",
	21211: "The 'To' number is not a valid phone number.",
	21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
	21608: "The number is unverified. Trial accounts cannot send messages to unverified numbers",
	21610: "Attempt to send to unsubscribed recipient",
	21612: "The 'To' phone number is not currently reachable using the 'From' phone number via SMS.",
	21602: "Message body is required.",
	21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account.",
}

func writeError(w http.ResponseWriter, status, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": errorTexts[code], "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
	})
}

func (s *Server) resource(m *Message) map[string]any {
	var ec any
	if m.ErrorCode != 0 {
		ec = m.ErrorCode
	}
	var svc any
	if m.MessagingServiceSID != "" {
		svc = m.MessagingServiceSID
	}
	return map[string]any{
		"sid": m.SID, "account_sid": AccountSID, "to": m.To, "from": m.From, "body": m.Body,
		"status": m.Status, "error_code": ec, "error_message": nil, "num_segments": "1",
		"direction": "outbound-api", "api_version": "2010-04-01", "price": nil, "price_unit": "USD",
		"messaging_service_sid": svc,
		"date_created":          m.Created.UTC().Format(time.RFC1123Z), "date_updated": m.Created.UTC().Format(time.RFC1123Z),
		"date_sent": nil, "uri": "/2010-04-01/Accounts/" + AccountSID + "/Messages/" + m.SID + ".json",
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != AccountSID || pass != AuthToken {
		writeError(w, http.StatusUnauthorized, 20003)
		return
	}
	base := "/2010-04-01/Accounts/" + AccountSID + "/Messages"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == base+".json":
		s.create(w, r)
	case r.Method == http.MethodGet && r.URL.Path == base+".json":
		s.list(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, base+"/") && strings.HasSuffix(r.URL.Path, ".json"):
		sid := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, base+"/"), ".json")
		s.fetch(w, sid)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`)
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		http.Error(w, "expected a form", http.StatusUnsupportedMediaType)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.posts++
	var b Behaviour
	if len(s.script) > 0 {
		b = s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	if b.Hang > 0 && !b.AcceptThenHang {
		select {
		case <-time.After(b.Hang):
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case b.HTML:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(b.Status)
		fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		return
	case b.Status != 0:
		if b.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		writeError(w, b.Status, b.Code)
		return
	}
	to, from, body, svc := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body"), r.PostForm.Get("MessagingServiceSid")
	switch {
	case body == "":
		writeError(w, http.StatusBadRequest, 21602)
		return
	case !strings.HasPrefix(to, "+") || len(to) < 8:
		writeError(w, http.StatusBadRequest, 21211)
		return
	case svc == "" && from != From && from != "kuvert" && !isAlnumSender(from):
		writeError(w, http.StatusBadRequest, 21606)
		return
	case svc != "" && svc != ServiceSID:
		writeError(w, http.StatusBadRequest, 21606)
		return
	}
	s.mu.Lock()
	if code := s.failCodes[to]; code != 0 {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, code)
		return
	}
	m := &Message{SID: fmt.Sprintf("SM%032x", len(s.messages)+1), To: to, From: from, Body: body, MessagingServiceSID: svc, Status: "queued", Created: time.Now()}
	if svc != "" {
		m.Status = "accepted"
	}
	s.messages = append(s.messages, m)
	res := s.resource(m)
	s.mu.Unlock()
	if b.AcceptThenHang {
		select {
		case <-time.After(b.Hang):
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(res)
}

func isAlnumSender(s string) bool {
	if len(s) == 0 || len(s) > 11 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ') {
			return false
		}
	}
	return true
}

func (s *Server) fetch(w http.ResponseWriter, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid {
			// Each fetch moves the message one step towards its end.
			switch m.Status {
			case "accepted", "queued":
				m.Status = "sent"
			case "sent":
				m.Status = "delivered"
				if f := s.final[m.To]; f != "" {
					m.Status = f
					if f == "undelivered" || f == "failed" {
						m.ErrorCode = 30003
					}
				}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(s.resource(m))
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"code": 20404, "message": "The requested resource /2010-04-01/Accounts/%s/Messages/%s.json was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}`, AccountSID, sid)
}

// list answers GET Messages.json with To and DateSent> filters, one page.
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	to := q.Get("To")
	var after time.Time
	for k, v := range q {
		if strings.HasPrefix(k, "DateSent") && len(v) > 0 {
			if t, err := time.Parse(time.RFC3339, v[0]); err == nil {
				after = t
			} else if t, err := time.Parse("2006-01-02", v[0]); err == nil {
				after = t
			}
		}
	}
	pageSize, _ := strconv.Atoi(q.Get("PageSize"))
	if pageSize == 0 {
		pageSize = 50
	}
	s.mu.Lock()
	var out []map[string]any
	for i := len(s.messages) - 1; i >= 0 && len(out) < pageSize; i-- {
		m := s.messages[i]
		if (to == "" || m.To == to) && !m.Created.Before(after.Add(-time.Second)) {
			out = append(out, s.resource(m))
		}
	}
	s.mu.Unlock()
	if out == nil {
		out = []map[string]any{}
	}
	uri := "/2010-04-01/Accounts/" + AccountSID + "/Messages.json?" + url.Values(q).Encode()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"messages": out, "page": 0, "page_size": pageSize, "start": 0, "end": len(out) - 1,
		"uri": uri, "first_page_uri": uri, "next_page_uri": nil, "previous_page_uri": nil,
	})
}
