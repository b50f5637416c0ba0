package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/catalog"
	"github.com/kuvert-app/kuvert/opener"
	"github.com/kuvert-app/kuvert/server/api"
)

//go:embed web
var webFS embed.FS

// Handler serves the API, the registrar's page and the opener page.
type Handler struct {
	Store *Store
	Relay *Relay // nil: the server sends no SMS (503 on /api/v1/sms)
	Log   *slog.Logger
	// Opener is the recipient page served at /oppna.html, with the
	// organisation's name (opener.Branded); nil: the page as built.
	Opener []byte

	mux      *http.ServeMux
	once     sync.Once
	verifyMu sync.Mutex
	verified *api.VerifyResponse
	verAt    time.Time
}

type ctxKey int

const (
	ctxName ctxKey = iota
	ctxRole
)

func (h *Handler) init() {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", h.healthz)
	m.Handle("POST /api/v1/entries", h.auth(h.appendEntries, api.RoleDevice, api.RoleAdmin))
	m.Handle("POST /api/v1/sms", h.auth(h.sendSMS, api.RoleDevice, api.RoleAdmin))
	m.Handle("GET /api/v1/sms/status", h.auth(h.smsStatus, api.RoleDevice, api.RoleAdmin))
	m.Handle("GET /api/v1/log/head", h.auth(h.head, api.RoleDevice, api.RoleRegistrar, api.RoleAdmin))
	m.Handle("GET /api/v1/log/proof", h.auth(h.proof, api.RoleDevice, api.RoleRegistrar, api.RoleAdmin))
	m.Handle("GET /api/v1/log/key", h.auth(h.key, api.RoleDevice, api.RoleRegistrar, api.RoleAdmin))
	m.Handle("GET /api/v1/log/entries", h.auth(h.entries, api.RoleRegistrar, api.RoleAdmin))
	m.Handle("GET /api/v1/log/export.csv", h.auth(h.export, api.RoleRegistrar, api.RoleAdmin))
	m.Handle("GET /api/v1/log/verify", h.auth(h.verify, api.RoleRegistrar, api.RoleAdmin))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, api.CodeNotFound, "okänd adress / unknown endpoint")
	})
	m.HandleFunc("GET /"+opener.FileName, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if h.Opener != nil {
			w.Write(h.Opener)
		} else {
			w.Write(opener.Page())
		}
	})
	sub, _ := fs.Sub(webFS, "web")
	files := http.FileServerFS(sub)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Add("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	h.mux = m
	if h.Log == nil {
		h.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	start := time.Now()
	// No answer of this server may be shown in another site's frame
	// (clickjacking the opener or the registrar's page): framing can only
	// be forbidden by response headers, not by the pages' CSP meta tags.
	// X-Frame-Options is for browsers without CSP level 2. A handler's
	// own CSP (the registrar's page) is enforced in addition to this one.
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Add("Content-Security-Policy", "frame-ancestors 'none'")
	sw := &statusWriter{ResponseWriter: w, status: 200}
	h.mux.ServeHTTP(sw, r)
	// The access log: method, path (never the query: it may hold a case
	// number), status, who and how long. Never a body or a token.
	who, _ := r.Context().Value(ctxName).(string)
	if sw.who != "" {
		who = sw.who
	}
	h.Log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "token", who, "ms", time.Since(start).Milliseconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
	who    string
}

func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// auth admits requests whose bearer token is active and has one of roles.
func (h *Handler) auth(next http.HandlerFunc, roles ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			writeErr(w, http.StatusUnauthorized, api.CodeUnauthorized, "ingen token / no token: send Authorization: Bearer TOKEN")
			return
		}
		name, role, err := h.Store.Authenticate(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			h.fail(w, err)
			return
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.who = name
		}
		allowed := false
		for _, ro := range roles {
			allowed = allowed || ro == role
		}
		if !allowed {
			writeErr(w, http.StatusForbidden, api.CodeForbidden, "din token får inte göra detta / this token's role ("+role+") may not do this")
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), ctxName, name), ctxRole, role)
		next(w, r.WithContext(ctx))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.Error{Code: code, Message: msg})
}

// fail answers an error with its status. Error texts here never hold a
// password: the relay's errors are the provider's words about a number
// or an account, and the SMS text is never part of one.
func (h *Handler) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnauthorized):
		writeErr(w, http.StatusUnauthorized, api.CodeUnauthorized, "okänd eller återkallad token / unknown or revoked token")
	case errors.Is(err, errTooLarge):
		writeErr(w, http.StatusRequestEntityTooLarge, api.CodeBadRequest, "för stor begäran / "+err.Error())
	case errors.Is(err, errBadRequest):
		writeErr(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
	case errors.Is(err, ErrForeignID):
		writeErr(w, http.StatusForbidden, api.CodeForbidden, "posten tillhör en annan enhet / "+err.Error())
	case errors.Is(err, ErrConflict):
		writeErr(w, http.StatusConflict, api.CodeConflict, err.Error())
	case errors.Is(err, ErrRateLimited):
		writeErr(w, http.StatusTooManyRequests, api.CodeRateLimited, "för många sms / "+err.Error())
	case errors.Is(err, ErrAlreadySent):
		writeErr(w, http.StatusConflict, api.CodeAlreadySent, "sms:et har redan skickats eller kan ha skickats; skicka ett nytt lösenord med kuvert resend / "+err.Error())
	case errors.Is(err, errNotFound):
		writeErr(w, http.StatusNotFound, api.CodeNotFound, err.Error())
	case errors.Is(err, ErrUnavailable):
		h.Log.Warn("database", "err", err.Error())
		writeErr(w, http.StatusServiceUnavailable, api.CodeUnavailable, "databasen svarar inte / the database does not answer; try again")
	case errors.Is(err, ErrRolledBack):
		h.Log.Error("rollback", "err", err.Error())
		writeErr(w, http.StatusInternalServerError, api.CodeRolledBack, "centralloggen i databasen har rullats tillbaka; servern visar och signerar den inte / "+err.Error())
	case errors.Is(err, errSMSProvider):
		writeErr(w, http.StatusBadGateway, api.CodeProvider, err.Error())
	default:
		h.Log.Error("internal", "err", err.Error())
		writeErr(w, http.StatusInternalServerError, api.CodeInternal, "internt fel / internal error")
	}
}

var errSMSProvider = errors.New("the SMS provider")

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	if err := h.Store.Ping(r.Context()); err != nil {
		writeErr(w, http.StatusServiceUnavailable, api.CodeUnavailable, "databasen svarar inte / the database does not answer")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// errTooLarge: a request body over the endpoint's limit (413).
var errTooLarge = errors.New("the request is too large")

// readJSON decodes a request body of at most max bytes into v.
func readJSON(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fmt.Errorf("%w: at most %d bytes; send fewer entries at a time", errTooLarge, max)
		}
		return errors.Join(errBadRequest, errors.New("the body is not valid JSON of the expected shape"))
	}
	return nil
}

func (h *Handler) appendEntries(w http.ResponseWriter, r *http.Request) {
	var req api.AppendRequest
	if err := readJSON(w, r, 16<<20, &req); err != nil {
		h.fail(w, err)
		return
	}
	if len(req.Entries) == 0 || len(req.Entries) > api.MaxAppend {
		writeErr(w, http.StatusBadRequest, api.CodeBadRequest, "send 1 to "+strconv.Itoa(api.MaxAppend)+" entries")
		return
	}
	res, head, err := h.Store.Append(r.Context(), r.Context().Value(ctxName).(string), req.Entries)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.AppendResponse{Results: res, Head: head})
}

func (h *Handler) sendSMS(w http.ResponseWriter, r *http.Request) {
	if h.Relay == nil {
		writeErr(w, http.StatusServiceUnavailable, api.CodeUnavailable, "servern skickar inga sms / this server sends no SMS")
		return
	}
	var req api.SMSRequest
	if err := readSMSRequest(w, r, &req); err != nil {
		h.fail(w, err)
		return
	}
	rc, err := h.Relay.Send(r.Context(), r.Context().Value(ctxName).(string), req)
	req = api.SMSRequest{} // the password is not kept a moment longer than needed
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rc)
}

// readSMSRequest decodes an SMS request strictly: one JSON object with
// the fields of [api.SMSRequest] only. A device sends the parts of a
// text, never the text; a "body" or any other field is refused, not
// ignored, so that a client that still writes prose learns it at once.
func readSMSRequest(w http.ResponseWriter, r *http.Request, req *api.SMSRequest) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(req)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON object")
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: an SMS request is at most %d bytes", errTooLarge, mbe.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The field's name only, never a value.
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if len(name) > 40 {
			name = name[:40] + "…"
		}
		return fmt.Errorf("%w: okänt fält %s: servern skriver texten själv / unknown field %s: the server writes the text itself; send key, to, password, ref, refers and case",
			errBadRequest, name, name)
	}
	return errors.Join(errBadRequest, errors.New("the body is not valid JSON of the expected shape"))
}

func (h *Handler) smsStatus(w http.ResponseWriter, r *http.Request) {
	if h.Relay == nil {
		writeErr(w, http.StatusServiceUnavailable, api.CodeUnavailable, "servern skickar inga sms / this server sends no SMS")
		return
	}
	rc, err := h.Relay.Status(r.Context(), r.Context().Value(ctxName).(string), r.URL.Query().Get("id"))
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rc)
}

func (h *Handler) head(w http.ResponseWriter, r *http.Request) {
	hd, err := h.Store.Head(r.Context())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, hd)
}

func (h *Handler) key(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, h.Store.VerifierKey()+"\n")
}

func (h *Handler) proof(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	old, err1 := strconv.ParseInt(q.Get("old"), 10, 64)
	var nw int64
	var err2 error
	if v := q.Get("new"); v != "" {
		nw, err2 = strconv.ParseInt(v, 10, 64)
	}
	if err1 != nil || err2 != nil {
		writeErr(w, http.StatusBadRequest, api.CodeBadRequest, "old and new must be tree sizes")
		return
	}
	p, err := h.Store.Proof(r.Context(), old, nw)
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (h *Handler) entries(w http.ResponseWriter, r *http.Request) {
	q, err := ParseSearch(r.URL.Query())
	if err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.Store.Search(r.Context(), q)
	if err != nil {
		h.fail(w, err)
		return
	}
	// The page shows "details" as it comes: an entry that holds its
	// event in a code gets it in the catalog's words there (the entry's
	// own line, and its hash, are untouched: this is the answer only).
	for i := range res.Entries {
		if e := &res.Entries[i].Entry; e.Event != nil && e.Details == "" {
			e.Details = catalog.Details(e)
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *Handler) export(w http.ResponseWriter, r *http.Request) {
	q, err := ParseSearch(r.URL.Query())
	if err != nil {
		h.fail(w, err)
		return
	}
	if r.URL.Query().Get("limit") == "" {
		q.Limit = 10000
	}
	res, err := h.Store.Search(r.Context(), q)
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(res.Unverified) > 0 {
		// An export is a record handed on: it is not made from a log
		// whose entries were changed behind the server's back.
		writeErr(w, http.StatusConflict, api.CodeTampered, fmt.Sprintf("poster i databasen har ändrats (nr %v); exporten görs inte, kontrollera loggen / entries in the database were changed (%v): no export; verify the log", res.Unverified, res.Unverified))
		return
	}
	if res.Truncated {
		// More matched than one export holds: the newest are exported;
		// the page says so and asks for a narrower search.
		w.Header().Set("X-Kuvert-Truncated", "true")
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="kuvert-logg-`+time.Now().In(Zone).Format("2006-01-02")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	auditlog.ExportCSV(w, res.Entries, catalog.Details)
}

// verify runs the full check (it reads the whole log); a result for the
// same head is reused for 10 seconds unless ?fresh=1 asks again.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	h.verifyMu.Lock()
	defer h.verifyMu.Unlock()
	hd, err := h.Store.Head(r.Context())
	if err != nil && !errors.Is(err, ErrRolledBack) {
		h.fail(w, err)
		return
	}
	// A rolled-back log is verified (and found not to), so the page says
	// so in its verdict.
	if v := h.verified; err == nil && v != nil && v.Head.Size == hd.Size && v.Head.Root == hd.Root && time.Since(h.verAt) < 10*time.Second && r.URL.Query().Get("fresh") == "" {
		writeJSON(w, http.StatusOK, v)
		return
	}
	res, err := h.Store.Verify(r.Context(), "")
	if err != nil {
		h.fail(w, err)
		return
	}
	h.verified, h.verAt = res, time.Now()
	writeJSON(w, http.StatusOK, res)
}
