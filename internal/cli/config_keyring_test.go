package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// brokenKeyring is a keyring that cannot be used at all (no Secret
// Service, Windows Credential Manager blocked).
type brokenKeyring struct{}

var errNoKeyring = errors.New("The specified logon session does not exist")

func (brokenKeyring) Get(string, string) (string, error) { return "", errNoKeyring }
func (brokenKeyring) Set(string, string, string) error   { return errNoKeyring }
func (brokenKeyring) Delete(string, string) error        { return errNoKeyring }

// With a keyring that cannot be read, `config show` does not claim the
// secrets are absent (the user would store them again, into a keyring
// that cannot take them): it says it does not know, and why. A secret
// from the environment is shown as usual.
func TestConfigShowKeyringUnreadable(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.env["KUVERT_SMTP_PASSWORD"] = "relä-lösen-9f3k"
	show := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		f := e.factory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		f.Keyring = brokenKeyring{}
		f.Now = time.Now
		code := Run(context.Background(), append([]string{"config", "show"}, args...), f)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := show()
	if code != 0 {
		t.Fatalf("config show: %d %s", code, errOut)
	}
	if !regexpLine(out, `^server-token +okänt / unknown +nyckelringen gick inte att läsa / the keyring could not be read$`) {
		t.Errorf("server-token row:\n%s", out)
	}
	if !regexpLine(out, `^smtp-password +ja / yes +miljövariabel / environment \(KUVERT_SMTP_PASSWORD\)$`) {
		t.Errorf("smtp-password row:\n%s", out)
	}
	if strings.Contains(out+errOut, "relä-lösen") {
		t.Error("a secret was shown")
	}

	code, out, _ = show("--json")
	var doc struct {
		Secrets []struct {
			Key     string
			Stored  bool
			Unknown bool
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("--json: %d %v\n%s", code, err, out)
	}
	for _, s := range doc.Secrets {
		if want := s.Key != "smtp-password"; s.Unknown != want || s.Stored == want {
			t.Errorf("%s: stored %v unknown %v", s.Key, s.Stored, s.Unknown)
		}
	}

	// A keyring that merely lacks the entry: "no", as before.
	code, out, _ = e.run("config", "show")
	if code != 0 || !regexpLine(out, `^server-token +nej / no +-$`) {
		t.Errorf("empty keyring:\n%s", out)
	}
}
