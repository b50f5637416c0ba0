// Package clientenv makes the [client.Client] for the kuvert server this
// computer uses, from the resolved settings: the address (server_url or
// KUVERT_SERVER_URL) and the token (KUVERT_SERVER_TOKEN or the OS
// keyring). The API client, the shipping queue and the seen heads are
// handed what they need; none of them reads settings.
package clientenv

import (
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/settings"
)

// FromSettings makes the client for the configured server, or returns
// nil, nil when no server is configured.
func FromSettings(s *settings.Settings) (*client.Client, error) {
	if s.ServerURL.Value == "" {
		return nil, nil
	}
	return Dial(s.ServerURL.Value, s)
}

// Dial makes a client for the server at rawURL (a command's --server)
// with the configured token.
func Dial(rawURL string, s *settings.Settings) (*client.Client, error) {
	if _, err := client.CheckURL(rawURL); err != nil {
		return nil, err
	}
	return client.New(rawURL, s.ServerToken.Reveal())
}
