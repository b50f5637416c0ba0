package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// PolicyValue is one setting an administrator can set for every user of a
// computer: a REG_SZ value under SOFTWARE\Policies\kuvert (HKLM, then
// HKCU) on Windows, the same name in /etc/kuvert/policy.json elsewhere.
// The ADMX template (windows/policy) declares exactly these.
type PolicyValue struct {
	Name string // the registry value name and policy.json key, e.g. "ServerURL"
	Key  string // the setting it sets, e.g. "server_url"
	Type string // the registry type: "REG_SZ"
}

// Policies are the values machine policy may set.
var Policies = []PolicyValue{
	{"ServerURL", "server_url", "REG_SZ"},
	{"EnrollmentCode", "enrollment_code", "REG_SZ"},
	{"Organisation", "organisation", "REG_SZ"},
	{"OpenerURL", "opener_url", "REG_SZ"},
	{"SmsProviders", "sms.providers", "REG_SZ"},
	{"SmtpURL", "smtp_url", "REG_SZ"},
	{"MailFrom", "mail_from", "REG_SZ"},
}

// PolicyRegistryKey is where Windows keeps the policy, under HKLM and
// HKCU.
const PolicyRegistryKey = `SOFTWARE\Policies\kuvert`

// ErrLocked is matched by a [LockedError].
var ErrLocked = errors.New("set by machine policy")

// LockedError says that a flag or an environment variable tried to change
// a setting the organisation's machine policy sets.
type LockedError struct {
	Key   string // the setting, e.g. "server_url"
	By    string // what tried: "KUVERT_SERVER_URL", "--sender"
	Where string // the policy's place
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is set by your organisation's machine policy (%s); %s cannot change it", e.Key, e.Where, e.By)
}

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Locked says whether machine policy set the value: shells show it
// read-only and refuse to change it.
func (v Value) Locked() bool { return v.Source == FromPolicy }

// Check refuses an override of a locked setting: by names what tries
// (a flag), value is what it asks for; "" or the policy's own value is
// no change.
func (v Value) Check(by, value string) error {
	if !v.Locked() || value == "" || value == v.Value {
		return nil
	}
	return &LockedError{Key: v.Key, By: by, Where: v.Where}
}

// Allows says whether the SMS provider name may be used: every provider
// when sms.providers is not set, else one of the listed (an "outbox" entry
// allows every outbox:FILE).
func (s *Settings) Allows(provider string) bool {
	allowed := s.AllowedProviders()
	if allowed == nil {
		return true
	}
	kind, _, _ := strings.Cut(provider, ":")
	return slices.Contains(allowed, provider) || slices.Contains(allowed, kind)
}

// AllowedProviders is sms.providers as a list; nil when any provider is
// allowed.
func (s *Settings) AllowedProviders() []string {
	var out []string
	for _, p := range strings.Split(s.SMSProviders.Value, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// CheckProvider refuses a provider the policy does not allow.
func (s *Settings) CheckProvider(provider string) error {
	if s.Allows(provider) {
		return nil
	}
	return &LockedError{Key: s.SMSProviders.Key + " (" + strings.Join(s.AllowedProviders(), ", ") + ")", By: "SMS provider " + provider, Where: s.SMSProviders.Where}
}

// MachinePolicy is this computer's policy: the registry on Windows,
// $KUVERT_POLICY_ROOT/etc/kuvert/policy.json elsewhere (root "/" when the
// variable is unset; tests give a folder of their own). No policy is an
// empty layer, not an error; an unreadable one is an error, because
// running without the organisation's settings is worse than not running.
func MachinePolicy(getenv func(string) string) (Layer, error) {
	return machinePolicy(getenv)
}

// PolicyFile is where the policy file is looked for under root.
func PolicyFile(root string) string {
	return filepath.Join(root, "etc", "kuvert", "policy.json")
}

// filePolicy reads policy.json: {"ServerURL": "https://…", …}. Unknown
// names are an error, so a misspelt policy is noticed, not ignored.
func filePolicy(getenv func(string) string) (Layer, error) {
	root := "/"
	if getenv != nil {
		if r := getenv("KUVERT_POLICY_ROOT"); r != "" {
			root = r
		}
	}
	path := PolicyFile(root)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return policyMap{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read machine policy %s: %w", path, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("machine policy %s is not valid JSON: %v", path, err)
	}
	names := map[string]string{}
	for _, p := range Policies {
		names[p.Name] = p.Key
	}
	m := policyMap{where: path, values: map[string]string{}}
	for name, v := range raw {
		key, ok := names[name]
		if !ok {
			return nil, fmt.Errorf("machine policy %s: unknown value %q", path, name)
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("machine policy %s: %s must be a string", path, name)
		}
		m.values[key] = s
	}
	return m, nil
}

// policyMap is a policy read into memory: setting key → value, and where
// each came from when the places differ (HKLM or HKCU).
type policyMap struct {
	where  string
	values map[string]string
	wheres map[string]string
}

func (p policyMap) Lookup(key string) (string, bool) { v, ok := p.values[key]; return v, ok }
func (p policyMap) Where() string                    { return p.where }

// WhereOf names the place of one value.
func (p policyMap) WhereOf(key string) string {
	if w, ok := p.wheres[key]; ok {
		return w
	}
	return p.where
}
