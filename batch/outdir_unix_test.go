//go:build unix

package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
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
	// The words for each code ("utmappen … / the output folder …"):
	// internal/catalog.
	want := map[string]fault.Code{"symlink": CodeOutDirLink, "writable by others": CodeOutDirShared, "writable by group": CodeOutDirShared, "owned by another account": CodeOutDirOtherOwner}
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
				if !errors.Is(err, ErrUnsafeOutDir) || !errors.Is(err, crypt.ErrInput) || !isFault(err, want[name]) {
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
