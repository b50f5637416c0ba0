package batch

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/internal/excelcsv"
)

// checkPasswordOut refuses a password file that would take the place of
// a file the run reads or writes.
func checkPasswordOut(m *Manifest, o Options) error {
	if o.PasswordOut == "" {
		return nil
	}
	pw, err1 := filepath.Abs(o.PasswordOut)
	out, err2 := filepath.Abs(o.OutDir)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if man, err := filepath.Abs(m.Path); err == nil && man == pw {
		return fmt.Errorf("%w: the password file %s is the manifest; choose another name", crypt.ErrInput, o.PasswordOut)
	}
	for _, r := range m.Rows {
		for _, f := range r.Files {
			if f, err := filepath.Abs(f); err == nil && f == pw {
				return fmt.Errorf("%w: the password file %s is row %d's input; choose another name", crypt.ErrInput, o.PasswordOut, r.Num)
			}
		}
	}
	if filepath.Dir(pw) != out {
		return nil
	}
	name := filepath.Base(pw)
	if OwnFile(name) {
		return fmt.Errorf("%w: the password file %s would take the name of the run's own file in %s; choose another name or folder", crypt.ErrInput, o.PasswordOut, o.OutDir)
	}
	for _, r := range m.Rows {
		if strings.EqualFold(r.Output, name) {
			return fmt.Errorf("%w: the password file %s would take row %d's archive name; choose another name or folder", crypt.ErrInput, o.PasswordOut, r.Num)
		}
	}
	return nil
}

// passwordFile is the --password-out CSV (mode 0600), appended and synced
// row by row so that a password is never lost once its archive exists.
type passwordFile struct {
	mu   sync.Mutex
	f    *os.File
	rows map[int]bool
}

// passwordHeader is the password file's first line, as the one Excel CSV
// writer writes it (with the BOM).
var passwordHeader = func() string {
	var b strings.Builder
	w := excelcsv.New(&b)
	w.Write("rad", "namn", "arkiv", "lösenord")
	w.Flush()
	return b.String()
}()

// openPasswordFile opens the --password-out file for appending. A new file
// is created with mode 0600. An existing one (an earlier attempt of the
// run) must be a kuvert password file that only its owner can read: a
// file with wider permissions, or anything else, is refused untouched
// rather than filled with passwords.
func openPasswordFile(path string) (*passwordFile, error) {
	p := &passwordFile{rows: map[int]bool{}}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if _, err = f.WriteString(passwordHeader); err == nil {
			err = f.Sync()
		}
		if err != nil {
			f.Close()
			os.Remove(path)
			return nil, fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err)
		}
		p.f = f
		return p, nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err)
	}
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: lösenordsfilen %s är ingen vanlig fil / the password file %s is not a regular file (a link, a folder or a device); name a new file", crypt.ErrInput, path, path)
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err)
	}
	refuse := func(err error) (*passwordFile, error) {
		f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return refuse(fmt.Errorf("%w: lösenordsfilen %s är ingen vanlig fil / the password file %s is not a regular file; name a new file", crypt.ErrInput, path, path))
	}
	// Windows has no such mode bits; there the folder's ACL decides.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return refuse(fmt.Errorf("%w: lösenordsfilen %s kan läsas av andra (%v) / the password file %s is readable by others (%v); kuvert writes passwords only into a file only you can read: run chmod 600 on it, or name a new file", crypt.ErrInput, path, fi.Mode().Perm(), path, fi.Mode().Perm()))
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return refuse(fmt.Errorf("kan inte läsa lösenordsfilen / cannot read the password file %s: %v", path, err))
	}
	switch {
	case len(b) == 0:
		if _, err := f.WriteString(passwordHeader); err != nil {
			return refuse(fmt.Errorf("kan inte skriva lösenordsfilen / cannot write the password file %s: %v", path, err))
		}
	case !strings.HasPrefix(string(b), passwordHeader):
		return refuse(fmt.Errorf("%w: %s är ingen lösenordsfil från kuvert / %s is not a kuvert password file, and kuvert adds passwords to nothing else; name a new file", crypt.ErrInput, path, path))
	default:
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF")))
		r.Comma = ';'
		r.FieldsPerRecord = -1
		recs, _ := r.ReadAll()
		for _, rec := range recs {
			if n, err := strconv.Atoi(rec[0]); err == nil {
				p.rows[n] = true
			}
		}
	}
	p.f = f
	return p, nil
}

func (p *passwordFile) has(row int) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rows[row]
}

func (p *passwordFile) add(r Row, archive, pw string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if excelcsv.Safe(pw) != pw {
		// Generated passwords never start like a formula; an apostrophe
		// in front would make this one wrong.
		return errors.New("the password cannot be written as a CSV cell")
	}
	var b strings.Builder
	w := excelcsv.NewContinued(&b)
	w.Write(strconv.Itoa(r.Num), r.Name, filepath.Base(archive), pw)
	if err := w.Flush(); err != nil {
		return err
	}
	if _, err := p.f.WriteString(b.String()); err != nil {
		return err
	}
	p.rows[r.Num] = true
	return p.f.Sync()
}

func (p *passwordFile) close() { p.f.Close() }
