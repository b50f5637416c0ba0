package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/opener"
)

// No page the server serves may be framed by another site (clickjacking
// the opener page or the registrar's): a CSP meta tag cannot forbid
// framing, so it takes response headers, on every answer.
func TestNoPageCanBeFramed(t *testing.T) {
	f := newFixture(t, DefaultLimits)
	for _, path := range []string{"/" + opener.FileName, "/", "/index.html", "/app.js", "/healthz", "/api/v1/log/head", "/api/nowhere", "/nowhere.html"} {
		resp, err := http.Get(f.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s (%d): X-Frame-Options %q, want DENY", path, resp.StatusCode, got)
		}
		found := false
		for _, csp := range resp.Header.Values("Content-Security-Policy") {
			found = found || strings.Contains(csp, "frame-ancestors 'none'")
		}
		if !found {
			t.Errorf("%s (%d): no Content-Security-Policy header with frame-ancestors 'none': %q", path, resp.StatusCode, resp.Header.Values("Content-Security-Policy"))
		}
	}
}
