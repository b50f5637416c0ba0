package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/envelope"
	"github.com/kuvert-app/kuvert/settings"
	"github.com/kuvert-app/kuvert/sms"
)

// outbox is an SMS policy that writes its texts to a file in dir.
func outbox(dir string) func(*settings.Settings) (*sms.Policy, error) {
	return func(*settings.Settings) (*sms.Policy, error) {
		return &sms.Policy{Sender: &sms.Outbox{Path: filepath.Join(dir, "sms.jsonl")}, Organisation: "Sundsvalls kommun"}, nil
	}
}

// sealed is an App over a fresh home and one sealing of dir/lista.csv
// texted to 070-123 45 67; it returns the App, the folder and the SMS
// reference.
func sealed(t *testing.T) (*App, string, string) {
	t.Helper()
	// The settings of a fresh home and an empty environment: nothing
	// from this process.
	st, err := settings.Resolve(settings.Sources{Home: filepath.Join(t.TempDir(), "home")})
	if err != nil {
		t.Fatal(err)
	}
	a := &App{Settings: st, Tool: "kuvert test"}
	dir := t.TempDir()
	in := filepath.Join(dir, "lista.csv")
	if err := os.WriteFile(in, []byte("namn;belopp\nAnna;100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, cfg, err := a.OpenLog()
	if err != nil {
		t.Fatal(err)
	}
	pol, _ := outbox(dir)(cfg)
	pw, err := crypt.Generate(crypt.GenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(in)
	res, err := Seal(context.Background(), l, envelope.Request{
		Seal: crypt.SealOptions{Inputs: []crypt.Input{{Path: in, Name: "lista.csv", Size: fi.Size(), ModTime: fi.ModTime()}},
			Output: filepath.Join(dir, "lista.zip"), Format: crypt.FormatZip, Password: pw},
		Case: "KS 2026/12",
		SMS:  &envelope.SMS{Policy: pol, To: "070-123 45 67"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, dir, res.Delivery.Ref
}

func TestResend(t *testing.T) {
	t.Parallel()
	a, dir, ref := sealed(t)
	res, err := a.Resend(context.Background(), ResendRequest{Ref: ref, To: "0701234567", Dir: dir, Policy: outbox(dir)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Old.Delivery == nil || res.Old.Delivery.Ref != ref {
		t.Fatalf("replaced %+v, want the sealing with reference %s", res.Old.Delivery, ref)
	}
	d := res.Sealed.Delivery
	if d == nil || d.Ref == ref {
		t.Fatalf("new sealing's SMS %+v: want a new reference", d)
	}
	l, _, _ := a.OpenLog()
	all, _ := l.Entries()
	for _, s := range auditlog.Sealings(all) {
		if s.Entry.ID == res.Old.ID && s.SupersededBy != res.Sealed.Entry.ID {
			t.Fatalf("the log has %s superseded by %q, want %s", res.Old.ID, s.SupersededBy, res.Sealed.Entry.ID)
		}
	}
	if want := filepath.Join(dir, "lista-"+d.Ref+".zip"); res.Sealed.Archive != want {
		t.Fatalf("archive %s, want %s", res.Sealed.Archive, want)
	}
	// The old sealing is replaced now: resending it again is refused and
	// points at the new reference.
	_, err = a.Resend(context.Background(), ResendRequest{Ref: ref, To: "0701234567", Dir: dir, Policy: outbox(dir)})
	var r *Refusal
	if !errors.As(err, &r) || r.Reason != Superseded || r.By != res.Sealed.Entry.ID || r.ByRef != d.Ref {
		t.Fatalf("second resend of %s: %v (%+v), want superseded by %s (%s)", ref, err, r, res.Sealed.Entry.ID, d.Ref)
	}
}

func TestResendRefusals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		req    func(dir, ref string) ResendRequest
		change func(dir string)
		want   Reason
	}{
		{"unknown reference", func(dir, ref string) ResendRequest { return ResendRequest{Ref: "zzzzzz", To: "0701234567", Dir: dir} }, nil, RefUnknown},
		{"no such batch row", func(dir, ref string) ResendRequest {
			return ResendRequest{Batch: "lön-2026", Row: 3, To: "0701234567", Dir: dir}
		}, nil, NoBatchRow},
		{"another number", func(dir, ref string) ResendRequest { return ResendRequest{Ref: ref, To: "0709876543", Dir: dir} }, nil, NumberMismatch},
		// Same first and last digits, so the same masked form: only the
		// log's keyed hash of the number tells them apart.
		{"another number masked alike", func(dir, ref string) ResendRequest { return ResendRequest{Ref: ref, To: "0701999967", Dir: dir} }, nil, NumberTag},
		{"file gone", func(dir, ref string) ResendRequest { return ResendRequest{Ref: ref, To: "0701234567", Dir: dir} },
			func(dir string) { os.Remove(filepath.Join(dir, "lista.csv")) }, SourceGone},
		{"file changed", func(dir, ref string) ResendRequest { return ResendRequest{Ref: ref, To: "0701234567", Dir: dir} },
			func(dir string) {
				os.WriteFile(filepath.Join(dir, "lista.csv"), []byte("namn;belopp\nAnna;900\n"), 0o600)
			}, SourceChanged},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, dir, ref := sealed(t)
			if c.change != nil {
				c.change(dir)
			}
			req := c.req(dir, ref)
			req.Policy = func(*settings.Settings) (*sms.Policy, error) {
				t.Fatal("the SMS policy was built for a refused resend")
				return nil, nil
			}
			_, err := a.Resend(context.Background(), req)
			var r *Refusal
			if !errors.As(err, &r) || r.Reason != c.want {
				t.Fatalf("got %v, want a refusal %q", err, c.want)
			}
			matches, _ := filepath.Glob(filepath.Join(dir, "lista-*.zip"))
			if len(matches) != 0 {
				t.Fatalf("a refused resend wrote %v", matches)
			}
		})
	}
}
