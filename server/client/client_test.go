package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/server/pgtest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }

func mustClient(t *testing.T, url, tok string) *Client {
	t.Helper()
	c, err := New(url, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenNeverShown(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	bad := "kvt_this-is-not-a-token-but-secret"
	c := mustClient(t, srv.URL, bad)
	_, err := c.Head(context.Background())
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatal(err)
	}
	shown := fmt.Sprintf("%v %+v %#v %s %v", err, c, c, c, *c)
	if strings.Contains(shown, "not-a-token") {
		t.Fatalf("the token shows: %s", shown)
	}
	if !strings.Contains(err.Error(), "token") || !strings.Contains(err.Error(), "servern") {
		t.Fatalf("unclear: %v", err)
	}
	// Registrar-only endpoints refuse a device, in words.
	_, err = mustClient(t, srv.URL, srv.Device).Search(context.Background(), Query{})
	if !errors.Is(err, ErrForbidden) {
		t.Fatal(err)
	}
	srv.SetDown(true)
	_, err = mustClient(t, srv.URL, bad).Head(context.Background())
	if !errors.Is(err, ErrUnreachable) || strings.Contains(err.Error(), "not-a-token") {
		t.Fatal(err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, u := range []string{"https://kuvert.sundsvall.se", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9/base/"} {
		if _, err := CheckURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"http://kuvert.sundsvall.se", "ftp://x", "kuvert.se", "https://user:pw@kuvert.se", "https://kuvert.se/?token=x", ""} {
		_, err := CheckURL(u)
		if err == nil {
			t.Errorf("%s accepted", u)
		} else if strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s: the password shows: %v", u, err)
		}
	}
}

// The verifier key is read with a size limit: an endless answer is an
// error, not all of memory.
func TestKeyAnswerIsBounded(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for i := 0; i < 64; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer big.Close()
	c := mustClient(t, big.URL, "tok")
	k, err := c.Key(context.Background())
	if err == nil || len(k) > 4<<10 {
		t.Fatalf("a 64 MiB key answer: %d bytes, %v", len(k), err)
	}
}
