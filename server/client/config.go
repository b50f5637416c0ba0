package client

import (
	"os"
	"strings"

	"github.com/kuvert-app/kuvert/config"
)

// ConfiguredURL is the server this computer ships to: KUVERT_SERVER_URL,
// else server_url in config.json; "" when there is none.
func ConfiguredURL(cfg *config.Config) string {
	if u := strings.TrimSpace(os.Getenv("KUVERT_SERVER_URL")); u != "" {
		return u
	}
	if cfg != nil {
		return strings.TrimSpace(cfg.ServerURL)
	}
	return ""
}

// TokenSource reads the token from somewhere other than the environment
// (the OS keyring: [KeyringService], [KeyringUser]). May be nil.
type TokenSource func() (string, error)

// FromConfig makes the client for the configured server, or returns nil,
// nil when no server is configured. The token is KUVERT_SERVER_TOKEN,
// else what keyring returns.
func FromConfig(cfg *config.Config, keyring TokenSource) (*Client, error) {
	u := ConfiguredURL(cfg)
	if u == "" {
		return nil, nil
	}
	return Dial(u, keyring)
}

// Dial makes a client for the server at rawURL with the configured
// token (KUVERT_SERVER_TOKEN, else keyring).
func Dial(rawURL string, keyring TokenSource) (*Client, error) {
	if _, err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	tok := strings.TrimSpace(os.Getenv("KUVERT_SERVER_TOKEN"))
	if tok == "" && keyring != nil {
		tok, _ = keyring()
	}
	return New(rawURL, tok)
}
