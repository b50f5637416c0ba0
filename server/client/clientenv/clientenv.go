// Package clientenv finds the kuvert server this computer uses: its
// address from KUVERT_SERVER_URL or config.json, its token from
// KUVERT_SERVER_TOKEN or the OS keyring, and makes the [client.Client].
// It is the only package of the server's client that reads the
// environment; the API client, the shipping queue and the seen heads are
// handed what they need.
package clientenv

import (
	"os"
	"strings"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/server/client"
)

// URL is the server this computer ships to: KUVERT_SERVER_URL, else
// server_url in config.json; "" when there is none.
func URL(cfg *config.Config) string {
	if u := strings.TrimSpace(os.Getenv("KUVERT_SERVER_URL")); u != "" {
		return u
	}
	if cfg != nil {
		return strings.TrimSpace(cfg.ServerURL)
	}
	return ""
}

// TokenSource reads the token from somewhere other than the environment
// (the OS keyring: [client.KeyringService], [client.KeyringUser]). May
// be nil.
type TokenSource func() (string, error)

// FromConfig makes the client for the configured server, or returns nil,
// nil when no server is configured. The token is KUVERT_SERVER_TOKEN,
// else what keyring returns.
func FromConfig(cfg *config.Config, keyring TokenSource) (*client.Client, error) {
	u := URL(cfg)
	if u == "" {
		return nil, nil
	}
	return Dial(u, keyring)
}

// Dial makes a client for the server at rawURL with the configured
// token (KUVERT_SERVER_TOKEN, else keyring).
func Dial(rawURL string, keyring TokenSource) (*client.Client, error) {
	if _, err := client.CheckURL(rawURL); err != nil {
		return nil, err
	}
	tok := strings.TrimSpace(os.Getenv("KUVERT_SERVER_TOKEN"))
	if tok == "" && keyring != nil {
		tok, _ = keyring()
	}
	return client.New(rawURL, tok)
}
