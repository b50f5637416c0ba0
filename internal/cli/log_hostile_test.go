package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/servertest"
)

// A server that swallows uploads (it answers made-up places beyond its
// signed head) neither moves the queue on nor passes `log verify
// --server --key` afterwards.
func TestLogVerifyServerCatchesSwallowedUpload(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, cluster, servertest.Options{})
	real, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(real)
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/entries" {
			proxy.ServeHTTP(w, r)
			return
		}
		var req api.AppendRequest
		json.NewDecoder(r.Body).Decode(&req)
		head, _ := srv.Store.Head(r.Context())
		res := api.AppendResponse{Head: head}
		for i, e := range req.Entries {
			res.Results = append(res.Results, api.AppendResult{ID: e.ID, Seq: head.Size + int64(i) + 1})
		}
		json.NewEncoder(w).Encode(res)
	}))
	defer hostile.Close()
	e := serverHome(t, srv, srv.Device)
	e.env["KUVERT_SERVER_URL"] = hostile.URL
	if code, _, errOut := e.sealFile(t, "lista.csv"); code != 0 {
		t.Fatal(errOut)
	}
	e.run("log", "sync")
	e.env["KUVERT_SERVER_TOKEN"] = srv.Registrar
	code, out, errOut := e.run("log", "verify", "--server", hostile.URL, "--key", srv.VKey)
	if code != ExitLogInvalid || !strings.Contains(errOut, "did not prove") {
		t.Fatalf("verify after a swallowed upload: %d %q %q", code, out, errOut)
	}
}
