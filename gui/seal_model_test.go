package gui

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/sms"
)

const strongASCII = "Kattens-bla-cykel-star-vid-Nybroviken-7"

// The form's rules, without a window: what Validate reports for each
// field, and that it reports nothing when the form can be sealed.
func TestSealFormValidate(t *testing.T) {
	gen, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	one := []fileItem{{path: "/tmp/a.txt", size: 1}}
	type want struct {
		field formField
		kind  problemKind
	}
	cases := []struct {
		name string
		form sealForm
		want []want
	}{
		{"empty form", sealForm{Generated: gen}, []want{{fieldFiles, problemNoFiles}}},
		{"files and a generated password", sealForm{Files: one, Generated: gen}, nil},
		{"no number is no SMS, not a problem", sealForm{Files: one, Generated: gen, Phone: "   "}, nil},
		{"mobile number", sealForm{Files: one, Generated: gen, Phone: "070-123 45 67"}, nil},
		{"foreign mobile with 00", sealForm{Files: one, Generated: gen, Phone: "0046 70 123 45 67"}, nil},
		{"landline", sealForm{Files: one, Generated: gen, Phone: "08-123 456 78"}, []want{{fieldPhone, problemNumber}}},
		{"toll-free", sealForm{Files: one, Generated: gen, Phone: "020-123 456"}, []want{{fieldPhone, problemNumber}}},
		{"not a number", sealForm{Files: one, Generated: gen, Phone: "hej"}, []want{{fieldPhone, problemNumber}}},
		{"weak own password", sealForm{Files: one, Password: passwordOwn, OwnPassword: "sommar2024"}, []want{{fieldPassword, problemWeakPassword}}},
		{"empty own password", sealForm{Files: one, Password: passwordOwn}, []want{{fieldPassword, problemWeakPassword}}},
		{"å in a zip password", sealForm{Files: one, Password: passwordOwn, OwnPassword: "Kattens-blå-cykel-står-vid-Nybroviken-7"}, []want{{fieldPassword, problemZipPassword}}},
		{"a zip password over 99 bytes", sealForm{Files: one, Password: passwordOwn, OwnPassword: strings.Repeat("Kx7-pQ2!mZ", 10)}, []want{{fieldPassword, problemZipPassword}}},
		{"99 bytes in a zip password", sealForm{Files: one, Password: passwordOwn, OwnPassword: strings.Repeat("Kx7-pQ2!mZ", 10)[:99]}, nil},
		{"over 99 bytes in an age password", sealForm{Files: one, Format: crypt.FormatAge, Password: passwordOwn, OwnPassword: strings.Repeat("Kx7-pQ2!mZ", 10)}, nil},
		{"å in an age password", sealForm{Files: one, Format: crypt.FormatAge, Password: passwordOwn, OwnPassword: "Kattens-blå-cykel-står-vid-Nybroviken-7"}, nil},
		{"strong ASCII own password", sealForm{Files: one, Password: passwordOwn, OwnPassword: strongASCII}, nil},
		{"a weak own password typed, then generated chosen", sealForm{Files: one, Generated: gen, Password: passwordGenerated, OwnPassword: "x"}, nil},
		{"everything wrong at once", sealForm{Password: passwordOwn, OwnPassword: "abc", Phone: "08-123 456 78"},
			[]want{{fieldFiles, problemNoFiles}, {fieldPassword, problemWeakPassword}, {fieldPhone, problemNumber}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []want
			for _, p := range c.form.Validate() {
				got = append(got, want{p.Field, p.Kind})
				if p.Kind == problemNumber {
					var ne *sms.NumberError
					if !errors.As(p, &ne) {
						t.Errorf("the number problem does not carry sms.NumberError: %v", p.Err)
					}
				}
				if !errors.Is(p, crypt.ErrInput) || p.Error() == "" {
					t.Errorf("problem %+v: not an input error, or no words (%q)", p, p.Error())
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("Validate = %v, want %v", got, c.want)
			}
			for _, w := range c.want {
				if p, ok := c.form.Problem(w.field); !ok || p.Kind != w.kind {
					t.Errorf("Problem(%v) = %+v, %v", w.field, p, ok)
				}
			}
		})
	}
}

// Request builds envelope's request from the form alone: inputs, a free
// archive name, the chosen password, the log's fields and the SMS.
func TestSealFormRequest(t *testing.T) {
	dir := tempDir(t)
	write := func(name string) fileItem {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("namn;pnr\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return fileItem{path: p, size: 9}
	}
	lista := write("lista.csv")
	gen, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	outbox := &sms.Outbox{Path: filepath.Join(tempDir(t), "sms.jsonl")}
	setup := func() (smsSetup, error) {
		return smsSetup{Sender: outbox, Policy: &sms.Policy{Template: sms.Templates["en"], Organisation: "Lönekontoret"}}, nil
	}
	calls := 0
	counted := func() (smsSetup, error) { calls++; return setup() }
	other := tempDir(t)

	cases := []struct {
		name      string
		form      sealForm
		env       requestEnv
		wantOut   string
		wantPw    string
		wantOrig  string
		wantSMS   bool
		wantError error
	}{
		{name: "zip beside the file, generated password, no SMS",
			form:    sealForm{Files: []fileItem{lista}, Generated: gen, Case: "  KS 2026/1 ", Name: " Anna "},
			env:     requestEnv{Operator: "Eva", SMS: counted},
			wantOut: filepath.Join(dir, "lista.zip"), wantPw: gen.Value, wantOrig: "generated"},
		{name: "age in the configured folder, own password",
			form:    sealForm{Files: []fileItem{lista}, Format: crypt.FormatAge, Password: passwordOwn, OwnPassword: strongASCII},
			env:     requestEnv{OutputDir: other},
			wantOut: filepath.Join(other, "lista.csv.age"), wantPw: strongASCII, wantOrig: "user"},
		{name: "with a number, texted through the SMS setup",
			form:    sealForm{Files: []fileItem{lista}, Generated: gen, Phone: " 070-123 45 67 "},
			env:     requestEnv{SMS: setup},
			wantOut: filepath.Join(dir, "lista.zip"), wantPw: gen.Value, wantOrig: "generated", wantSMS: true},
		{name: "a form Validate refuses is not built",
			form:      sealForm{Files: []fileItem{lista}, Generated: gen, Phone: "08-123 456 78"},
			env:       requestEnv{SMS: setup},
			wantError: crypt.ErrInput},
		{name: "the provider's refusal stops it",
			form:      sealForm{Files: []fileItem{lista}, Generated: gen, Phone: "0701234567"},
			env:       requestEnv{SMS: func() (smsSetup, error) { return smsSetup{}, errTestProvider }},
			wantError: errTestProvider},
		{name: "a file gone since it was listed",
			form:      sealForm{Files: []fileItem{{path: filepath.Join(dir, "borta.txt")}}, Generated: gen},
			wantError: crypt.ErrInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := c.form.Request(c.env)
			if c.wantError != nil {
				if !errors.Is(err, c.wantError) {
					t.Fatalf("err %v, want %v", err, c.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.Seal.Output != c.wantOut {
				t.Errorf("output %s, want %s", req.Seal.Output, c.wantOut)
			}
			if req.Seal.Format != c.form.format() || len(req.Seal.Inputs) != len(c.form.Files) {
				t.Errorf("format %v, %d inputs", req.Seal.Format, len(req.Seal.Inputs))
			}
			if req.Seal.Password.Value != c.wantPw || req.Seal.Password.Origin != c.wantOrig {
				t.Errorf("password origin %q, same as chosen: %v", req.Seal.Password.Origin, req.Seal.Password.Value == c.wantPw)
			}
			if req.Case != strings.TrimSpace(c.form.Case) || req.Note != strings.TrimSpace(c.form.Name) || req.Operator != c.env.Operator {
				t.Errorf("log fields: case %q, note %q, operator %q", req.Case, req.Note, req.Operator)
			}
			if (req.SMS != nil) != c.wantSMS {
				t.Fatalf("SMS %+v, want one: %v", req.SMS, c.wantSMS)
			}
			if c.wantSMS && (req.SMS.Policy.Sender != outbox || req.SMS.To != "070-123 45 67" || req.SMS.Policy.Organisation != "Lönekontoret" || req.SMS.Policy.Template != sms.Templates["en"]) {
				t.Errorf("SMS %+v", req.SMS)
			}
		})
	}
	if calls != 0 {
		t.Errorf("the SMS provider was set up %d times for a sealing without a number", calls)
	}

	// An existing archive is never the proposal: the next free name is.
	f := sealForm{Files: []fileItem{lista}, Generated: gen}
	os.WriteFile(filepath.Join(dir, "lista.zip"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "lista (2).zip"), nil, 0o644)
	req, err := f.Request(requestEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "lista (3).zip"); req.Seal.Output != want {
		t.Errorf("with lista.zip and lista (2).zip present: %s, want %s", req.Seal.Output, want)
	}
}

var errTestProvider = errors.New("twilio: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")
