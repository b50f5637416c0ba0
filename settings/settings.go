// Package settings resolves every setting kuvert's desktop app and CLI use
// into one [Settings] value, once, and says where each came from.
//
// Each setting is looked up in layers, the first that has it wins:
//
//  1. machine policy (set by the organisation's IT; a [Layer], none yet on
//     this platform),
//  2. the environment (KUVERT_…, TWILIO_…),
//  3. config.json in kuvert's folder ($KUVERT_HOME or the OS user
//     configuration folder + "/kuvert"),
//  4. the OS keyring, for secrets and the Twilio account SID the desktop
//     app stores there,
//  5. the embedded default.
//
// Secrets (the kuvert server's token, Twilio's auth token, the SMTP
// password) come from the environment or the OS keyring only, never from
// a file or a policy, and are read when first asked for: a command that
// needs none never touches the keyring. A [Secret] prints as "stored" or
// "not stored", never its value.
//
// The package reads; it never writes the keyring or the file (the shells
// do, with config.Save and their keyring). It has no words for people:
// the shells name the sources in their language.
package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/config"
)

// Source says which layer a setting's value came from.
type Source string

const (
	FromDefault Source = "default"
	FromPolicy  Source = "policy"
	FromEnv     Source = "env"
	FromFile    Source = "file"
	FromKeyring Source = "keyring"
	// FromServer is the organisation's settings document from its kuvert
	// server (cached for offline use).
	FromServer Source = "server"
	// FromOthers marks a value kuvert chose from other settings (the
	// SMS provider when none is named).
	FromOthers Source = "inferred"
)

// KeyringService is the OS keyring service every kuvert secret is kept
// under; the user names are the Secret keys ("server-token", …).
const KeyringService = "kuvert"

// Keyring user names of the secrets and the Twilio account SID.
const (
	ServerTokenKey      = "server-token"
	TwilioAuthTokenKey  = "twilio-auth-token"
	TwilioAccountSIDKey = "twilio-account-sid"
	SMTPPasswordKey     = "smtp-password"
)

// SecretKeys are the secrets a user may store in the OS keyring, in the
// order `kuvert config show` lists them.
var SecretKeys = []string{ServerTokenKey, SMTPPasswordKey, TwilioAccountSIDKey, TwilioAuthTokenKey}

// Keyring reads the OS keyring (Windows Credential Manager, macOS
// Keychain, Secret Service). A missing entry is an error that
// [Sources].KeyringMissing recognises; any other error is a keyring that
// could not be read.
type Keyring interface {
	Get(service, user string) (string, error)
}

// Layer is machine policy: values an administrator set for every user of
// the computer, looked up by the setting's key (e.g. "server_url").
type Layer interface {
	Lookup(key string) (value string, ok bool)
	// Where names the layer for `kuvert config show`, e.g.
	// `HKLM\SOFTWARE\Policies\kuvert`.
	Where() string
}

// Sources are the places settings come from.
type Sources struct {
	// Getenv reads the environment; nil is an empty one.
	Getenv func(string) string
	// Keyring is the OS keyring; nil is an empty one.
	Keyring Keyring
	// KeyringMissing reports a Keyring error that means only that there
	// is no such entry (go-keyring's ErrNotFound; the keyring is the
	// shell's, so this package does not name it). Any other error leaves
	// the secret [Secret.Unreadable]. nil: every error does.
	KeyringMissing func(error) bool
	// Home, if set, is kuvert's folder, before KUVERT_HOME and the OS
	// user configuration folder.
	Home string
	// UserConfigDir is the OS user configuration folder; nil uses
	// os.UserConfigDir.
	UserConfigDir func() (string, error)
	// Policy is machine policy ([MachinePolicy]); nil is none.
	Policy Layer
	// Server is the organisation's settings from its kuvert server,
	// below policy and above the environment; nil is none.
	Server Layer
	// File, if set, stands for config.json (a settings form's unsaved
	// values); nil reads the file.
	File *config.Config
}

// System is the running process's environment and the given keyring.
func System(kr Keyring) Sources { return Sources{Getenv: os.Getenv, Keyring: kr} }

// Value is one resolved setting.
type Value struct {
	// Key is the setting's name in config.json (dotted for nested
	// fields, e.g. "sms.provider") and in machine policy. sms.timeout and
	// sms.twilio_api_url are not in config.json: they come from the
	// environment or policy only.
	Key   string
	Value string
	// Source is where Value came from; Where names it more exactly (the
	// environment variable, the file's path, the policy's place).
	Source Source
	Where  string
}

func (v Value) String() string { return v.Value }

// Secret is a setting that must never be shown: the value is read on
// first use (from the environment, else the OS keyring) and its String
// says only whether one is stored.
type Secret struct {
	Key string // the keyring user name, e.g. "server-token"
	Env string // the environment variable that comes first

	once   sync.Once
	load   func() (string, Source, string, error)
	value  string
	source Source
	where  string
	err    error
}

func (s *Secret) resolve() {
	s.once.Do(func() {
		if s.load != nil {
			s.value, s.source, s.where, s.err = s.load()
		}
	})
}

// Unreadable is the OS keyring's error when none was found in the
// environment and the keyring could not be read (not merely had no
// entry): the secret may well be stored there, so "not stored" would be
// untrue.
func (s *Secret) Unreadable() error { s.resolve(); return s.err }

// Reveal returns the secret, or "" when none is stored. Only the code
// that hands it to the server, Twilio or the SMTP relay calls it.
func (s *Secret) Reveal() string { s.resolve(); return s.value }

// Stored says whether a value was found.
func (s *Secret) Stored() bool { s.resolve(); return s.value != "" }

// Source is where the secret was found ("" when not stored).
func (s *Secret) Source() Source { s.resolve(); return s.source }

// Where names the environment variable or keyring entry it came from.
func (s *Secret) Where() string { s.resolve(); return s.where }

// String never shows the value.
func (s *Secret) String() string {
	if s.Stored() {
		return "stored"
	}
	return "not stored"
}

// GoString keeps the value out of %#v.
func (s *Secret) GoString() string { return "settings.Secret(" + s.String() + ")" }

// Settings is every setting of the desktop app and the CLI, resolved.
type Settings struct {
	// Home is kuvert's folder (settings, keys, log).
	Home Value
	// File is config.json as read (its zero value when there is none),
	// for the desktop app's settings form, which edits and saves it.
	File *config.Config

	Operator     Value
	Organisation Value
	OpenerURL    Value
	MailFrom     Value
	Format       Value
	Retention    Value
	OutputDir    Value
	AppLanguage  Value

	ServerURL   Value
	ServerToken *Secret
	// EnrollmentCode buys this computer its device token once
	// (`kuvert enroll`); policy or KUVERT_ENROLLMENT_CODE.
	EnrollmentCode Value

	// SMSProviders is the policy's list of allowed SMS providers
	// (comma-separated; empty: any); see [Settings.Allows].
	SMSProviders Value

	SMSProvider            Value
	SMSFrom                Value
	SMSMessagingServiceSID Value
	SMSTemplate            Value
	SMSLanguage            Value
	SMSTimeout             Value
	TwilioAPIURL           Value
	TwilioAccountSID       *Secret
	TwilioAuthToken        *Secret

	SMTPURL      Value
	SMTPPassword *Secret

	// Overrides are environment variables that tried to change a value
	// machine policy sets; the policy won. The CLI refuses to run with
	// one (say why), the desktop app shows the field as locked.
	Overrides []*LockedError
}

// Timeout is KUVERT_SMS_TIMEOUT as a duration (0 when unset or not a
// duration).
func (s *Settings) Timeout() time.Duration {
	d, _ := time.ParseDuration(s.SMSTimeout.Value)
	return d
}

// Values lists every setting in the order `kuvert config show` prints
// them; the secrets follow in [Settings.Secrets].
func (s *Settings) Values() []Value {
	return []Value{s.Home, s.Operator, s.Organisation, s.OpenerURL, s.Format, s.Retention, s.OutputDir, s.AppLanguage,
		s.ServerURL, s.EnrollmentCode, s.SMSProvider, s.SMSProviders, s.SMSFrom, s.SMSMessagingServiceSID, s.SMSLanguage, s.SMSTemplate, s.SMSTimeout,
		s.TwilioAPIURL, s.SMTPURL, s.MailFrom}
}

// Secrets lists the secrets in [SecretKeys] order.
func (s *Settings) Secrets() []*Secret {
	return []*Secret{s.ServerToken, s.SMTPPassword, s.TwilioAccountSID, s.TwilioAuthToken}
}

// ErrNoHome is returned when there is no folder for kuvert's settings.
var ErrNoHome = errors.New("no folder for kuvert's settings; set KUVERT_HOME")

// Resolve reads every layer once. A config.json that is not valid JSON is
// an error; a missing one is the defaults.
func Resolve(src Sources) (*Settings, error) {
	r := resolver{src: src}
	if r.src.Getenv == nil {
		r.src.Getenv = func(string) string { return "" }
	}
	s := &Settings{}
	home, err := r.home()
	if err != nil {
		return nil, err
	}
	s.Home = home
	cfg := src.File
	if cfg == nil {
		if cfg, err = config.Load(home.Value); err != nil {
			return nil, err
		}
	}
	s.File = cfg
	r.file = config.Path(home.Value)

	s.Operator = r.value("operator", "", cfg.Operator, "")
	s.Organisation = r.value("organisation", "", cfg.Organisation, "")
	if s.Organisation.Value == "" && strings.TrimSpace(cfg.SMS.Sender) != "" {
		// sms.sender is the older place for the organisation's name.
		s.Organisation = Value{Key: "organisation", Value: strings.TrimSpace(cfg.SMS.Sender), Source: FromFile, Where: r.file + " (sms.sender)"}
	}
	s.OpenerURL = r.value("opener_url", "", cfg.OpenerURL, "")
	s.MailFrom = r.value("mail_from", "KUVERT_MAIL_FROM", cfg.MailFrom, "")
	s.Format = r.value("format", "", cfg.Format, "zip")
	s.Retention = r.value("retention", "", cfg.Retention, "")
	s.OutputDir = r.value("output_dir", "", cfg.OutputDir, "")
	s.AppLanguage = r.value("app_language", "", cfg.AppLanguage, "")

	s.ServerURL = r.value("server_url", "KUVERT_SERVER_URL", cfg.ServerURL, "")
	s.ServerToken = r.secret(ServerTokenKey, "KUVERT_SERVER_TOKEN")
	if s.OpenerURL.Value == "" && strings.HasPrefix(s.ServerURL.Value, "https://") {
		// The organisation's server serves the recipient page: texts and
		// mails point there unless the organisation names its own.
		s.OpenerURL = Value{Key: s.OpenerURL.Key, Value: strings.TrimRight(s.ServerURL.Value, "/") + "/oppna.html", Source: FromOthers, Where: "server_url"}
	}
	s.EnrollmentCode = r.value("enrollment_code", "KUVERT_ENROLLMENT_CODE", "", "")
	s.SMSProviders = r.value("sms.providers", "", "", "")

	s.SMSFrom = r.value("sms.from", "KUVERT_SMS_FROM", cfg.SMS.From, "")
	s.SMSMessagingServiceSID = r.value("sms.messaging_service_sid", "TWILIO_MESSAGING_SERVICE_SID", cfg.SMS.MessagingServiceSID, "")
	s.SMSTemplate = r.value("sms.template", "", cfg.SMS.Template, "")
	s.SMSLanguage = r.value("sms.language", "", cfg.SMS.Language, "sv")
	s.SMSTimeout = r.value("sms.timeout", "KUVERT_SMS_TIMEOUT", "", "")
	s.TwilioAPIURL = r.value("sms.twilio_api_url", "KUVERT_TWILIO_API_URL", "", "")
	s.TwilioAccountSID = r.secret(TwilioAccountSIDKey, "TWILIO_ACCOUNT_SID")
	s.TwilioAuthToken = r.secret(TwilioAuthTokenKey, "TWILIO_AUTH_TOKEN")
	s.SMSProvider = r.provider(cfg, s.ServerURL)
	if !s.Allows(s.SMSProvider.Value) && s.SMSProvider.Source == FromEnv {
		r.overrides = append(r.overrides, &LockedError{Key: s.SMSProviders.Key, By: "KUVERT_SMS_PROVIDER", Where: s.SMSProviders.Where})
	} else if !s.Allows(s.SMSProvider.Value) {
		// The user's file or kuvert's choice gives way to the policy;
		// a variable set for this run is refused by the CLI instead.
		s.SMSProvider = Value{Key: s.SMSProvider.Key, Value: s.AllowedProviders()[0], Source: FromPolicy, Where: s.SMSProviders.Where}
	}

	s.SMTPURL = r.value("smtp_url", "KUVERT_SMTP_URL", cfg.SMTPURL, "")
	s.SMTPPassword = r.secret(SMTPPasswordKey, "KUVERT_SMTP_PASSWORD")
	s.Overrides = r.overrides
	return s, nil
}

type resolver struct {
	src       Sources
	file      string
	overrides []*LockedError
}

func (r *resolver) env(name string) string {
	if name == "" {
		return ""
	}
	return strings.TrimSpace(r.src.Getenv(name))
}

func (r *resolver) policy(key string) (Value, bool) {
	return lookup(r.src.Policy, key, FromPolicy)
}

func lookup(l Layer, key string, src Source) (Value, bool) {
	if l == nil {
		return Value{}, false
	}
	v, ok := l.Lookup(key)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return Value{}, false
	}
	where := l.Where()
	if w, ok := l.(interface{ WhereOf(string) string }); ok {
		where = w.WhereOf(key)
	}
	return Value{Key: key, Value: v, Source: src, Where: where}, true
}

// value resolves one plain setting: policy, the organisation's server,
// environment, file, default.
func (r *resolver) value(key, env, file, def string) Value {
	if v, ok := r.policy(key); ok {
		if e := r.env(env); e != "" && e != v.Value {
			r.overrides = append(r.overrides, &LockedError{Key: key, By: env, Where: v.Where})
		}
		return v
	}
	if v, ok := lookup(r.src.Server, key, FromServer); ok {
		return v
	}
	if v := r.env(env); v != "" {
		return Value{Key: key, Value: v, Source: FromEnv, Where: env}
	}
	if v := strings.TrimSpace(file); v != "" {
		return Value{Key: key, Value: v, Source: FromFile, Where: r.file}
	}
	return Value{Key: key, Value: def, Source: FromDefault}
}

// secret resolves lazily: the environment, else the OS keyring.
func (r *resolver) secret(key, env string) *Secret {
	getenv, kr, missing := r.src.Getenv, r.src.Keyring, r.src.KeyringMissing
	return &Secret{Key: key, Env: env, load: func() (string, Source, string, error) {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			return v, FromEnv, env, nil
		}
		if kr != nil {
			v, err := kr.Get(KeyringService, key)
			switch {
			case err == nil && strings.TrimSpace(v) != "":
				return strings.TrimSpace(v), FromKeyring, KeyringService + "/" + key, nil
			case err != nil && (missing == nil || !missing(err)):
				return "", "", "", err
			}
		}
		return "", "", "", nil
	}}
}

// provider picks the SMS provider: policy, KUVERT_SMS_PROVIDER, the
// organisation's kuvert server when one is configured (its one SMS
// account; no Twilio token on this computer), sms.provider, Twilio when
// TWILIO_ACCOUNT_SID is set, else the console demo.
func (r *resolver) provider(cfg *config.Config, server Value) Value {
	const key = "sms.provider"
	if v, ok := r.policy(key); ok {
		return v
	}
	if v := r.env("KUVERT_SMS_PROVIDER"); v != "" {
		return Value{Key: key, Value: v, Source: FromEnv, Where: "KUVERT_SMS_PROVIDER"}
	}
	if server.Value != "" {
		return Value{Key: key, Value: "kuvert-server", Source: FromOthers, Where: "server_url"}
	}
	if v := strings.TrimSpace(cfg.SMS.Provider); v != "" {
		return Value{Key: key, Value: v, Source: FromFile, Where: r.file}
	}
	if r.env("TWILIO_ACCOUNT_SID") != "" {
		return Value{Key: key, Value: "twilio", Source: FromOthers, Where: "TWILIO_ACCOUNT_SID"}
	}
	return Value{Key: key, Value: "console", Source: FromDefault}
}

// home is the folder: Sources.Home, KUVERT_HOME, the OS folder.
func (r *resolver) home() (Value, error) {
	const key = "home"
	if r.src.Home != "" {
		p, err := filepath.Abs(r.src.Home)
		return Value{Key: key, Value: p, Source: FromDefault}, err
	}
	if h := r.env("KUVERT_HOME"); h != "" {
		p, err := filepath.Abs(h)
		return Value{Key: key, Value: p, Source: FromEnv, Where: "KUVERT_HOME"}, err
	}
	ucd := r.src.UserConfigDir
	if ucd == nil {
		ucd = os.UserConfigDir
	}
	dir, err := ucd()
	if err != nil || dir == "" {
		return Value{}, fmt.Errorf("%w: %v", ErrNoHome, err)
	}
	return Value{Key: key, Value: filepath.Join(dir, "kuvert"), Source: FromDefault}, nil
}
