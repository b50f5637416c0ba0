package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// An output folder another account could change under the run is
// refused before anything is sealed or sent: a link, a folder others may
// write to, a folder another account owns.
func TestUnsafeOutDirRefused(t *testing.T) {
	cases := map[string]func(t *testing.T, out string, outp *string){
		"symlink": func(t *testing.T, out string, outp *string) {
			real := out + "-real"
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, out); err != nil {
				t.Fatal(err)
			}
		},
		"writable by others": func(t *testing.T, out string, outp *string) {
			os.Mkdir(out, 0o700)
			if err := os.Chmod(out, 0o777); err != nil {
				t.Fatal(err)
			}
		},
		"writable by group": func(t *testing.T, out string, outp *string) {
			os.Mkdir(out, 0o700)
			if err := os.Chmod(out, 0o770); err != nil {
				t.Fatal(err)
			}
		},
		"owned by another account": func(t *testing.T, out string, outp *string) {
			os.Mkdir(out, 0o755)
			if os.Getuid() == 0 {
				if err := os.Chown(out, 4242, 4242); err != nil {
					t.Fatal(err)
				}
				return
			}
			// Not root: a folder root owns, untouched (nothing can be
			// written there anyway, so only the refusal is checked).
			*outp = "/usr"
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			m, err := Load(writeManifest(t, e.dir, 2, "fil;mobil;namn;dnr", ";"), LoadOptions{Format: crypt.FormatZip})
			if err != nil || len(m.Problems) > 0 {
				t.Fatalf("%v %v", err, m.Problems)
			}
			out := filepath.Join(e.dir, "ut")
			setup(t, out, &out)
			for _, dry := range []bool{true, false} {
				_, err := Run(context.Background(), m, Options{OutDir: out, Sender: e.tw, Log: e.log, From: "Lön", DryRun: dry})
				if !errors.Is(err, ErrUnsafeOutDir) || !errors.Is(err, crypt.ErrInput) || !strings.Contains(err.Error(), "utmappen") {
					t.Fatalf("dry-run %v: %v", dry, err)
				}
			}
			if n := len(e.fake.Messages()); n != 0 {
				t.Fatalf("%d SMS", n)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 && out != "/usr" {
				t.Fatalf("written into the folder: %v", ents)
			}
			if es, _ := e.log.Entries(); len(es) != 0 {
				t.Fatalf("%d log entries", len(es))
			}
		})
	}
}

// The mail carries exactly the archive that was sealed and logged: a file
// swapped in at the archive's path after sealing (another account's
// unencrypted zip) is never mailed; the row fails, nothing is texted,
// and the log says why.
func TestSwappedArchiveNotMailed(t *testing.T) {
	for _, mode := range []string{MailSend, MailDraft} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			relay, r := startRelay(t)
			m, err := Load(writeMailManifest(t, e.dir, 3), LoadOptions{Format: crypt.FormatZip})
			if err != nil || len(m.Problems) > 0 {
				t.Fatalf("%v %v", err, m.Problems)
			}
			evil := []byte("PK\x03\x04 the other account's unencrypted zip")
			swapped := 0
			testHookBeforeMail = func(archive string) {
				if strings.Contains(archive, "_rad4") {
					return // row 4 is left alone: it must go out
				}
				tmp := archive + ".evil"
				os.WriteFile(tmp, evil, 0o600)
				if err := os.Rename(tmp, archive); err != nil {
					t.Error(err)
				}
				swapped++
			}
			t.Cleanup(func() { testHookBeforeMail = nil })
			out := filepath.Join(e.dir, "ut")
			sum, err := Run(context.Background(), m, Options{OutDir: out, Sender: e.tw, Log: e.log, From: "Lön", Jobs: 1,
				Mail: mode, Mailer: r, MailFrom: "lon@kommun.example"})
			if !errors.Is(err, ErrPartial) || swapped != 2 {
				t.Fatalf("%v, %d swapped", err, swapped)
			}
			for _, row := range sum.Rows {
				if row.Row == 4 {
					if row.Result != ResultSent {
						t.Fatalf("row 4: %+v", row)
					}
					continue
				}
				if row.Result != ResultFailed || !strings.Contains(row.Error, "changed after it was sealed") || !strings.Contains(row.Error, "SHA-256") {
					t.Fatalf("row %d: %+v", row.Row, row)
				}
			}
			if n := len(e.fake.Messages()); n != 1 {
				t.Fatalf("%d SMS, want 1 (row 4's)", n)
			}
			var mailed [][]byte
			if mode == MailSend {
				for _, msg := range relay.Messages() {
					mailed = append(mailed, msg.Data)
				}
			} else {
				ds, _ := os.ReadDir(filepath.Join(out, DraftDir))
				for _, d := range ds {
					b, _ := os.ReadFile(filepath.Join(out, DraftDir, d.Name()))
					mailed = append(mailed, b)
				}
			}
			if len(mailed) != 1 {
				t.Fatalf("%d mails/drafts, want 1", len(mailed))
			}
			_, _, name, att := mailParts(t, mailed[0])
			if !strings.Contains(name, "rad4") || strings.Contains(string(att), "unencrypted") {
				t.Fatalf("mailed %s", name)
			}
			log := readLogText(t, e)
			if strings.Count(log, "the archive is not the one sealed and logged") != 2 {
				t.Fatalf("log:\n%s", log)
			}
		})
	}
}
