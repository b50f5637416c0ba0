package batch

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kuvert-app/kuvert/crypt"
)

// --password-out never writes passwords into a file others can read: an
// existing file with wider permissions than 0600, or one that is not a
// kuvert password file, is refused before anything is sealed, untouched;
// a new one is created 0600.
func TestPasswordFileMode(t *testing.T) {
	cases := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string // "" means accepted
	}{
		{"existing 0644", "", 0o644, "readable by others"},
		{"existing 0640 with our header", "\uFEFFrad;namn;arkiv;lösenord\r\n", 0o640, "readable by others"},
		{"existing 0600, someone's file", "my private notes\n", 0o600, "not a kuvert password file"},
		{"existing 0600, ours", "\uFEFFrad;namn;arkiv;lösenord\r\n", 0o600, ""},
		{"existing 0600, empty", "", 0o600, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			p := writeManifest(t, e.dir, 2, "file;name", ";")
			m, _ := Load(p, LoadOptions{NoSMS: true, Format: crypt.FormatZip})
			pwFile := filepath.Join(e.dir, "lösen.csv")
			os.WriteFile(pwFile, []byte(c.content), c.mode)
			os.Chmod(pwFile, c.mode) // past the umask
			sum, err := Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), NoSMS: true, PasswordOut: pwFile, Log: e.log})
			st, _ := os.Stat(pwFile)
			if c.want == "" {
				if err != nil || sum.Done != 2 || st.Mode().Perm() != 0o600 {
					t.Fatalf("%v %+v %v", err, sum, st.Mode())
				}
				return
			}
			if !errors.Is(err, crypt.ErrInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if b, _ := os.ReadFile(pwFile); string(b) != c.content || st.Mode().Perm() != c.mode {
				t.Fatalf("the file changed: %v %q", st.Mode(), b)
			}
			if _, err := os.Stat(filepath.Join(e.dir, "ut")); !os.IsNotExist(err) {
				t.Fatal("sealed although the password file was refused")
			}
		})
	}
	t.Run("new", func(t *testing.T) {
		e := newEnv(t)
		p := writeManifest(t, e.dir, 1, "file;name", ";")
		m, _ := Load(p, LoadOptions{NoSMS: true, Format: crypt.FormatZip})
		pwFile := filepath.Join(e.dir, "ny.csv")
		if _, err := Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), NoSMS: true, PasswordOut: pwFile, Log: e.log}); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(pwFile); st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", st.Mode())
		}
	})
}

// The password file may live in the output folder under a name of its own,
// even when that folder does not exist yet.
func TestPasswordFileInOutDir(t *testing.T) {
	e := newEnv(t)
	p := writeManifest(t, e.dir, 1, "file;name", ";")
	m, _ := Load(p, LoadOptions{NoSMS: true, Format: crypt.FormatZip})
	out := filepath.Join(e.dir, "ut")
	sum, err := Run(context.Background(), m, Options{OutDir: out, NoSMS: true, PasswordOut: filepath.Join(out, "lösen.csv"), Log: e.log})
	if err != nil || sum.Done != 1 {
		t.Fatalf("%v %+v", err, sum)
	}
}

// Every cell of the password file goes through the one Excel CSV writer:
// a row cannot make Excel evaluate a formula next to its own password
// (=HYPERLINK(…) would send it away), whether in the name or the archive
// column.
func TestPasswordFileFormulaSafe(t *testing.T) {
	e := newEnv(t)
	outputs := []string{"=HYPERLINK(D2).zip", "+WEBSERVICE(D3).zip", "@SUM(1).zip", "-1+1.zip", "vanlig.zip"}
	p := manifestWith(t, e.dir, outputs...)
	b, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(b), ";Anställd;", ";=HYPERLINK(D2);", 1)), 0o600)
	m, err := Load(p, LoadOptions{NoSMS: true, Format: crypt.FormatZip})
	if err != nil || len(m.Problems) > 0 || len(m.Rows) != len(outputs) {
		t.Fatalf("%v %v", err, m.Problems)
	}
	pwFile := filepath.Join(e.dir, "lösen.csv")
	if _, err := Run(context.Background(), m, Options{OutDir: filepath.Join(e.dir, "ut"), NoSMS: true, PasswordOut: pwFile, Log: e.log}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(pwFile)
	if !strings.HasPrefix(string(raw), passwordHeader) {
		t.Fatalf("header:\n%q", raw)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF")))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil || len(recs) != len(outputs)+1 {
		t.Fatalf("%v\n%s", err, raw)
	}
	byArchive := map[string][]string{}
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q of row %s starts a formula", cell, rec[0])
			}
		}
		byArchive[rec[2]] = rec
	}
	for _, o := range outputs {
		want := o
		if o != "vanlig.zip" {
			want = "'" + o
		}
		rec, ok := byArchive[want]
		if !ok {
			t.Errorf("no row with arkiv %q: %v", want, recs)
			continue
		}
		if len(rec[3]) < 20 || rec[3][0] == '\'' {
			t.Errorf("password cell %q", rec[3])
		}
	}
}
