// Package config finds kuvert's state folder and reads its settings file.
//
// Everything kuvert keeps between runs (settings, signing keys, the
// compliance log) lives in one folder: $KUVERT_HOME if set, else the OS
// user configuration folder + "/kuvert" (%AppData%\kuvert on Windows,
// ~/.config/kuvert on Linux). Nothing else is written outside the outputs a
// user names. The package never stores a password or an API token.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// Home returns the state folder, without creating it.
func Home() (string, error) {
	if h := os.Getenv("KUVERT_HOME"); h != "" {
		return filepath.Abs(h)
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a folder for kuvert's settings; set KUVERT_HOME: %w", err)
	}
	return filepath.Join(dir, "kuvert"), nil
}

// Config is the settings file, $KUVERT_HOME/config.json. Every field is
// optional; the zero value is kuvert's embedded default.
type Config struct {
	// Operator is the display name recorded in the compliance log beside
	// the OS user name.
	Operator string `json:"operator,omitempty"`
	// Organisation is the name recipients know the sender by, e.g.
	// "Sundsvalls kommun". Every SMS names it, and a real SMS provider
	// refuses to send without it (at most sms.MaxOrganisation GSM-7
	// characters). The operator's name is not a substitute: recipients do
	// not know who at the organisation sent the text. The desktop app asks
	// for it on first use.
	Organisation string `json:"organisation,omitempty"`
	// OpenerURL is the public address of the recipient page
	// (`kuvert opener`) on the organisation's website, e.g.
	// "https://sundsvall.se/oppna". When set, the SMS and the e-mail
	// draft tell recipients to open the attachment there.
	OpenerURL string `json:"opener_url,omitempty"`
	// SMTPURL is the organisation's mail relay for `kuvert batch --mail
	// send` (smtp://USER@HOST:587 or smtps://USER@HOST:465; the password
	// is in the OS keyring or KUVERT_SMTP_PASSWORD, never here);
	// KUVERT_SMTP_URL overrides it.
	SMTPURL string `json:"smtp_url,omitempty"`
	// MailFrom is the sender's address of mail kuvert sends through the
	// relay (`kuvert batch --mail send`); KUVERT_MAIL_FROM overrides it.
	MailFrom string `json:"mail_from,omitempty"`
	// Format is the default archive format, "zip" or "age".
	Format string `json:"format,omitempty"`
	// Retention is how long log entry bodies are kept, e.g. "90d".
	Retention string `json:"retention,omitempty"`
	// ServerURL is the organisation's `kuvert server` (https://…): the
	// central compliance log every entry is shipped to, and the SMS relay
	// that texts passwords with the organisation's account.
	// KUVERT_SERVER_URL overrides it. The token is never here: it is in
	// KUVERT_SERVER_TOKEN or the OS keyring (service "kuvert", user
	// "server-token").
	ServerURL string `json:"server_url,omitempty"`
	// SMS holds the provider settings (never the auth token).
	SMS SMS `json:"sms,omitempty"`
	// OutputDir is where the desktop app puts archives by default.
	OutputDir string `json:"output_dir,omitempty"`
	// AppLanguage is the desktop app's language: "sv", "en", or empty to
	// follow the OS (Swedish unless the OS language is English). The
	// language of texts to recipients is SMS.Language.
	AppLanguage string `json:"app_language,omitempty"`
}

// SMS holds the SMS provider's settings. Credentials are not here: they
// come from the environment or the OS keyring.
type SMS struct {
	Provider            string `json:"provider,omitempty"` // twilio, console, outbox:PATH
	From                string `json:"from,omitempty"`
	MessagingServiceSID string `json:"messaging_service_sid,omitempty"`
	// Sender is the older place for the organisation's name; it is read
	// when Organisation is empty.
	Sender string `json:"sender,omitempty"`
	// Template is a custom text in Language (default sv) with {org},
	// {ref} and {password}. Texts in another language use that language's
	// built-in template.
	Template string `json:"template,omitempty"`
	Language string `json:"language,omitempty"` // sv or en: texts to recipients
}

// Path is the settings file's location.
func Path(home string) string { return filepath.Join(home, "config.json") }

// Load reads the settings file; a missing file is the default.
func Load(home string) (*Config, error) {
	b, err := os.ReadFile(Path(home))
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s is not valid JSON: %v", Path(home), err)
	}
	return &c, nil
}

// Save writes the settings file atomically with mode 0600.
func Save(home string, c *Config) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(Path(home), append(b, '\n'), 0o600)
}
