package batch

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuvert-app/kuvert/config"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

// TestSetupMail: the CLI's --mail rules, shared with the desktop app.
func TestSetupMail(t *testing.T) {
	with, without := &Manifest{HasEmail: true}, &Manifest{}
	var o Options
	if err := SetupMail(&o, "", with, nil, MailEnv{}); err != nil || o.Mail != MailDraft {
		t.Fatalf("default with an e-mail column: %q %v", o.Mail, err)
	}
	if err := SetupMail(&o, "", without, nil, MailEnv{}); err != nil || o.Mail != MailNone {
		t.Fatalf("default without: %q %v", o.Mail, err)
	}
	var se *SetupError
	for _, c := range []struct {
		mode string
		m    *Manifest
		env  MailEnv
		cfg  *config.Config
	}{
		{"post", with, MailEnv{}, nil},
		{MailSend, without, MailEnv{SMTPURL: "smtp://u@relay.example:587"}, nil},
		{MailSend, with, MailEnv{}, nil},
		{MailSend, with, MailEnv{SMTPURL: "smtp://u@relay.example:587", SMTPPassword: "pw"}, &config.Config{}},
	} {
		err := SetupMail(&Options{}, c.mode, c.m, c.cfg, c.env)
		if !errors.As(err, &se) || !errors.Is(err, crypt.ErrInput) {
			t.Errorf("%s %+v: %v", c.mode, c.env, err)
		}
	}
	o = Options{}
	if err := SetupMail(&o, MailSend, with, &config.Config{MailFrom: "lon@kommun.example"}, MailEnv{SMTPURL: "smtp://u@relay.example:587", SMTPPassword: "pw"}); err != nil || o.Mailer == nil || o.MailFrom != "lon@kommun.example" {
		t.Fatalf("send: %+v %v", o, err)
	}
	o.UseSMS(&sms.Policy{Sender: &sms.Outbox{Path: "x"}, Organisation: "Lön", Lang: "en"}, -1)
	if o.From != "Lön" || o.Lang != "en" || o.Sender == nil {
		t.Fatalf("UseSMS: %+v", o)
	}
}

// TestAttempted: a folder whose state.json names the run is an earlier
// attempt; another run's, or none, is not.
func TestAttempted(t *testing.T) {
	dir := t.TempDir()
	m := &Manifest{ID: "abc"}
	if Attempted(m, dir) {
		t.Fatal("an empty folder is an attempt")
	}
	if err := writeStateFile(dir, state{BatchID: "abc"}); err != nil {
		t.Fatal(err)
	}
	if !Attempted(m, dir) || Attempted(&Manifest{ID: "other"}, dir) {
		t.Fatal("state.json not read")
	}
	os.WriteFile(filepath.Join(dir, "state.json"), []byte("{"), 0o600)
	if Attempted(m, dir) {
		t.Fatal("a broken state.json is an attempt")
	}
}
