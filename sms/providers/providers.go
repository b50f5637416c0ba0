// Package providers picks the SMS provider from the environment and the
// settings file. It is the only place that knows every provider, so the
// CLI and the desktop app choose the same way.
package providers

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/sms"
	"github.com/kuvert-app/kuvert/sms/twilio"
)

// Credentials supply the Twilio auth token from somewhere other than the
// environment (the desktop app's OS keyring). May be nil.
type Credentials func() (accountSID, authToken string)

// Select returns the provider named by KUVERT_SMS_PROVIDER, else by
// config.json's sms.provider, else Twilio when TWILIO_ACCOUNT_SID is set,
// else the console demo. console writes to w.
func Select(cfg config.SMS, w io.Writer, creds Credentials) (sms.Sender, error) {
	name := os.Getenv("KUVERT_SMS_PROVIDER")
	if name == "" {
		name = cfg.Provider
	}
	if name == "" && os.Getenv("TWILIO_ACCOUNT_SID") != "" {
		name = "twilio"
	}
	switch {
	case name == "" || name == "console":
		return &sms.Console{W: w}, nil
	case strings.HasPrefix(name, "outbox:"):
		p := strings.TrimPrefix(name, "outbox:")
		if p == "" {
			return nil, fmt.Errorf("outbox: needs a file, e.g. outbox:/tmp/sms.jsonl")
		}
		return &sms.Outbox{Path: p}, nil
	case name == "twilio":
		tc := twilio.ConfigFromEnv()
		if tc.From == "" {
			tc.From = cfg.From
		}
		if tc.MessagingServiceSID == "" {
			tc.MessagingServiceSID = cfg.MessagingServiceSID
		}
		if (tc.AccountSID == "" || tc.AuthToken == "") && creds != nil {
			tc.AccountSID, tc.AuthToken = creds()
		}
		return twilio.New(tc)
	}
	return nil, fmt.Errorf("unknown SMS provider %q (use twilio, console or outbox:FILE)", name)
}
