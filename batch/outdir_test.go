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
