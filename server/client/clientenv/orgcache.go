package clientenv

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/settings"
)

// CacheFile is the organisation's settings as last fetched from the
// server, in kuvert's folder.
const CacheFile = "server-settings.json"

// cached is CacheFile's shape: the server it came from, when, and what
// it said.
type cached struct {
	Server   string          `json:"server"`
	Fetched  time.Time       `json:"fetched"`
	Settings api.OrgSettings `json:"settings"`
}

// serverLayer is the cached document as settings' Server layer.
type serverLayer struct {
	url string
	org api.OrgSettings
}

func (l serverLayer) Lookup(key string) (string, bool) {
	v := map[string]string{
		"organisation": l.org.Organisation,
		"opener_url":   l.org.OpenerURL,
		"sms.template": l.org.SMSTemplate,
		"sms.language": l.org.SMSLanguage,
	}[key]
	return v, v != ""
}

func (l serverLayer) Where() string { return l.url }

// sameServer compares addresses as CheckURL normalises them.
func sameServer(a, b string) bool {
	ua, err1 := client.CheckURL(a)
	ub, err2 := client.CheckURL(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host) && ua.Scheme == ub.Scheme && ua.Path == ub.Path
}

// CachedLayer is the cache in home as a [settings.Layer], or nil when
// there is none, it cannot be read, or it came from another server than
// serverURL (the desktop was pointed elsewhere since).
func CachedLayer(home, serverURL string) settings.Layer {
	b, err := os.ReadFile(filepath.Join(home, CacheFile))
	if err != nil {
		return nil
	}
	var c cached
	if json.Unmarshal(b, &c) != nil || !sameServer(c.Server, serverURL) {
		return nil
	}
	return serverLayer{url: c.Server, org: c.Settings}
}

// Refresh fetches the organisation's settings from c and caches them in
// home (written whole or not at all).
func Refresh(ctx context.Context, c *client.Client, home string) (settings.Layer, error) {
	org, err := c.OrgSettings(ctx)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(cached{Server: c.URL(), Fetched: time.Now().UTC(), Settings: org}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(home, CacheFile), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return serverLayer{url: c.URL(), org: org}, nil
}
