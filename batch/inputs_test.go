//go:build unix

package batch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/fault"
)

// A manifest reaches only regular files in its own folder or below:
// "..", absolute paths, links (to a file or out of the folder), named
// pipes, folders and kuvert's own folder (its log-signing key) are
// refused with the row; a named pipe never hangs the check.
func TestInputsConfinedToManifestFolder(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "lön")
	home := filepath.Join(dir, "kuverthem") // KUVERT_HOME inside the manifest's folder
	for _, d := range []string{filepath.Join(dir, "spec"), filepath.Join(home, "keys"), filepath.Join(dir, "mapp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(top, "hemlig.txt"), []byte("outside"), 0o600)
	os.WriteFile(filepath.Join(home, "keys", "log.key"), []byte("signing key"), 0o600)
	os.WriteFile(filepath.Join(dir, "spec", "a.pdf"), []byte("ok"), 0o600)
	os.WriteFile(filepath.Join(dir, "b.pdf"), []byte("ok"), 0o600)
	os.Symlink(filepath.Join(top, "hemlig.txt"), filepath.Join(dir, "länk.pdf"))
	os.Symlink("b.pdf", filepath.Join(dir, "inne.pdf"))                           // a link, even to a file inside
	os.Symlink(top, filepath.Join(dir, "upp"))                                    // a folder link out of the folder
	os.Symlink(filepath.Join("kuverthem", "keys"), filepath.Join(dir, "nycklar")) // relative: stays inside, reaches the key
	if err := syscall.Mkfifo(filepath.Join(dir, "rör.pdf"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The CLI's words for each code: TestCatalogKeepsBatchWords.
	rows := []struct {
		file string
		want fault.Code
	}{
		{"spec/a.pdf", ""},
		{"b.pdf|spec/a.pdf", ""},
		{"../hemlig.txt", CodeFileOutside},
		{"spec/../../hemlig.txt", CodeFileOutside},
		{filepath.Join(top, "hemlig.txt"), CodeFileAbsolute},
		{"länk.pdf", CodeFileSymlink},
		{"inne.pdf", CodeFileSymlink},
		{"upp/hemlig.txt", CodeFileViaLink},
		{"rör.pdf", CodeFileNotRegular},
		{"mapp", CodeFileNotRegular},
		{"kuverthem/keys/log.key", CodeFileInHome},
		{"nycklar/log.key", CodeFileInHome},
		{"saknas.pdf", CodeFileMissing},
	}
	var b strings.Builder
	b.WriteString("fil;mobil\n")
	for i, r := range rows {
		b.WriteString(r.file + ";" + number(i)[3:] + "\n")
	}
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(b.String()), 0o600)
	type result struct {
		m   *Manifest
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := Load(p, LoadOptions{Format: crypt.FormatZip, Home: home})
		done <- result{m, err}
	}()
	var m *Manifest
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		m = r.m
	case <-time.After(30 * time.Second):
		t.Fatal("Load hangs (on the named pipe)")
	}
	probs := map[int]fault.Code{}
	for _, pr := range m.Problems {
		f, ok := fault.As(pr.Err)
		if !ok || probs[pr.Row] != "" {
			t.Errorf("row %d: problem %v", pr.Row, pr.Err)
			continue
		}
		probs[pr.Row] = f.Code
	}
	for i, r := range rows {
		if got := probs[i+2]; got != r.want {
			t.Errorf("row %d (%s): problem %q, want %q", i+2, r.file, got, r.want)
		}
	}
	if len(m.Rows) != 2 || m.Rows[1].Inputs[0] != "b.pdf" || m.Rows[1].Inputs[1] != filepath.Join("spec", "a.pdf") {
		t.Fatalf("rows %+v", m.Rows)
	}

	// --dry-run lists the inputs each row would seal.
	e := newEnv(t)
	var seen []RowResult
	sum, err := Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), DryRun: true, Sender: e.tw, Log: e.log,
		OnRow: func(r RowResult) { seen = append(seen, r) }})
	if err != nil || len(seen) != 2 || strings.Join(sum.Rows[1].Inputs, ",") != "b.pdf,"+filepath.Join("spec", "a.pdf") || strings.Join(seen[0].Inputs, ",") != filepath.Join("spec", "a.pdf") {
		t.Fatalf("%v %+v", err, seen)
	}
}

// A file that turns into a link after the manifest was read is not
// sealed: it is checked again just before sealing.
func TestInputsCheckedAgainBeforeSealing(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 2, "fil;mobil;namn;dnr", ";")
	m, err := Load(p, LoadOptions{Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 {
		t.Fatalf("%v %v", err, m.Problems)
	}
	os.WriteFile(filepath.Join(e.dir, "..", "annan.txt"), []byte("not the payslip"), 0o600)
	first := filepath.Join(e.dir, "lönespec_001.pdf")
	os.Remove(first)
	os.Symlink(filepath.Join(e.dir, "..", "annan.txt"), first)
	sum, err := e.run(t, m)
	if err == nil || sum.Rows[0].Result != ResultFailed || !isFault(sum.Rows[0].Err, CodeFileSymlink) || sum.Rows[1].Result != ResultSent {
		t.Fatalf("%v %+v", err, sum.Rows)
	}
	if n := len(e.fake.Messages()); n != 1 {
		t.Fatalf("%d SMS", n)
	}
}
