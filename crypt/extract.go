package crypt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ExtractOptions say where and how to extract.
type ExtractOptions struct {
	OpenOptions
	// Dest is the output folder; empty means a new folder beside the
	// archive ([DefaultExtractDir]).
	Dest  string
	Force bool // replace files that already exist in Dest
}

// ExtractResult says what [Extract] wrote.
type ExtractResult struct {
	Dest  string  `json:"dest"`
	Files []Entry `json:"files"`
}

// DefaultExtractDir proposes a new folder beside the archive named after
// it ("lista.zip" → "lista", "lista.csv.age" → "lista"), adding " (2)",
// " (3)"… when that name is taken, the way Windows names copies.
func DefaultExtractDir(archive string) string {
	dir, base := filepath.Split(archive)
	for _, suf := range []string{".asc", ".age", ".zip"} {
		base = strings.TrimSuffix(base, suf)
	}
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	if base == "" {
		base = "kuvert"
	}
	cand := filepath.Join(dir, base)
	for i := 2; ; i++ {
		if _, err := os.Lstat(cand); errors.Is(err, fs.ErrNotExist) {
			return cand
		}
		cand = filepath.Join(dir, fmt.Sprintf("%s (%d)", base, i))
	}
}

// SafeName turns an entry name from an archive into a relative,
// slash-separated path that stays inside the output folder, or fails.
// Backslashes count as separators (archives made on Windows); absolute
// paths, drive letters, ".." and NUL are refused, not repaired: an archive
// that tries them was not made by an honest tool.
func SafeName(name string) (string, error) {
	n := strings.ReplaceAll(name, `\`, "/")
	switch {
	case n == "":
		return "", fmt.Errorf("%w: an entry has an empty name", ErrUnsafe)
	case strings.ContainsRune(n, 0):
		return "", fmt.Errorf("%w: entry name contains a NUL byte", ErrUnsafe)
	case strings.HasPrefix(n, "/"):
		return "", fmt.Errorf("%w: entry %q has an absolute path", ErrUnsafe, name)
	case len(n) >= 2 && n[1] == ':':
		return "", fmt.Errorf("%w: entry %q has a drive letter", ErrUnsafe, name)
	}
	var parts []string
	for _, p := range strings.Split(n, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: entry %q points outside the output folder", ErrUnsafe, name)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "", nil // "./" and similar: nothing to create
	}
	return path.Join(parts...), nil
}

// Extract opens an archive into a folder. Every entry is written to a
// temporary file and renamed to its name only after its authentication tag
// verified; paths are confined to the folder by [os.Root], so neither ".."
// nor a symbolic link planted in the folder can lead outside. On any
// failure everything written is removed again, and the folder too if
// Extract created it.
func Extract(ctx context.Context, archive string, o ExtractOptions) (res *ExtractResult, err error) {
	o.limits()
	s, err := openSource(archive, o.OpenOptions)
	if err != nil {
		return nil, err
	}
	defer s.close()

	// Check every name before anything is written.
	names := make([]string, len(s.entries))
	seen := map[string]bool{}
	for i, e := range s.entries {
		if e.isLink {
			return nil, fmt.Errorf("%w: entry %q is a symbolic link", ErrUnsafe, e.name)
		}
		n, err := SafeName(e.name)
		if err != nil {
			return nil, err
		}
		if n == "" {
			continue
		}
		key := strings.ToLower(n)
		if !e.isDir && seen[key] {
			return nil, fmt.Errorf("%w: the name %q occurs twice", ErrUnsafe, n)
		}
		seen[key] = true
		names[i] = n
	}

	dest := o.Dest
	if dest == "" {
		dest = DefaultExtractDir(archive)
	}
	created := false
	if err := os.Mkdir(dest, 0o700); err == nil {
		created = true
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cannot create %s", describeFSError(err))
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s", describeFSError(err))
	}
	defer root.Close()

	var done []string // files and folders made, in order
	defer func() {
		if err == nil {
			return
		}
		if created {
			os.RemoveAll(dest)
			return
		}
		for i := len(done) - 1; i >= 0; i-- {
			root.Remove(done[i])
		}
	}()

	if !o.Force {
		for i, n := range names {
			if n == "" || s.entries[i].isDir {
				continue
			}
			if _, err := root.Lstat(n); err == nil {
				return nil, fmt.Errorf("%w: %s", ErrExists, filepath.Join(dest, filepath.FromSlash(n)))
			}
		}
	}

	res = &ExtractResult{Dest: dest}
	for i, e := range s.entries {
		n := names[i]
		if n == "" {
			continue
		}
		if e.isDir {
			if err := mkdirs(root, n, &done); err != nil {
				return nil, err
			}
			continue
		}
		if dir := path.Dir(n); dir != "." {
			if err := mkdirs(root, dir, &done); err != nil {
				return nil, err
			}
		}
		if err := extractOne(ctx, root, s, i, n, o.Force, o.Progress); err != nil {
			return nil, err
		}
		done = append(done, n)
		res.Files = append(res.Files, Entry{Name: n, Size: e.size, Modified: e.modified})
	}
	if len(res.Files) == 1 && res.Files[0].Name == HiddenNamesEntry {
		o.Dest = dest
		files, err := unpackHidden(ctx, root, o, &done)
		if err != nil {
			return nil, err
		}
		if files != nil {
			res.Files = files
		}
	}
	return res, nil
}

// unpackHidden replaces a hidden-names inner zip (bilagor.zip, already
// verified and extracted) by the files it holds, with the same checks as
// any archive. It returns nil if bilagor.zip is not kuvert's.
func unpackHidden(ctx context.Context, root *os.Root, o ExtractOptions, done *[]string) ([]Entry, error) {
	f, err := root.Open(HiddenNamesEntry)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, entries, ok := markedZip(f, st.Size(), o.Limits, hiddenNamesComment)
	if !ok {
		if entries != nil {
			return nil, fmt.Errorf("%w: the inner %s is not a valid zip", ErrDamaged, HiddenNamesEntry)
		}
		return nil, nil
	}
	s := plainSource(zr, entries)
	var files []Entry
	seen := map[string]bool{strings.ToLower(HiddenNamesEntry): true}
	for i, e := range entries {
		if e.isLink {
			return nil, fmt.Errorf("%w: entry %q is a symbolic link", ErrUnsafe, e.name)
		}
		n, err := SafeName(e.name)
		if err != nil {
			return nil, err
		}
		if n == "" || e.isDir {
			continue
		}
		if seen[strings.ToLower(n)] {
			return nil, fmt.Errorf("%w: the name %q occurs twice", ErrUnsafe, n)
		}
		seen[strings.ToLower(n)] = true
		if _, err := root.Lstat(n); err == nil && !o.Force {
			return nil, fmt.Errorf("%w: %s", ErrExists, filepath.Join(o.Dest, filepath.FromSlash(n)))
		}
		if dir := path.Dir(n); dir != "." {
			if err := mkdirs(root, dir, done); err != nil {
				return nil, err
			}
		}
		if err := extractOne(ctx, root, s, i, n, o.Force, o.Progress); err != nil {
			return nil, err
		}
		*done = append(*done, n)
		files = append(files, Entry{Name: n, Size: e.size, Modified: e.modified})
	}
	f.Close()
	if err := root.Remove(HiddenNamesEntry); err != nil {
		return nil, err
	}
	return files, nil
}

func mkdirs(root *os.Root, dir string, done *[]string) error {
	parts := strings.Split(dir, "/")
	for k := range parts {
		p := path.Join(parts[:k+1]...)
		err := root.Mkdir(p, 0o700)
		switch {
		case err == nil:
			*done = append(*done, p)
		case errors.Is(err, fs.ErrExist):
			fi, serr := root.Lstat(p)
			if serr != nil || !fi.IsDir() {
				return fmt.Errorf("%w: %s exists and is not a folder", ErrUnsafe, p)
			}
		default:
			return fmt.Errorf("cannot create %s", describeFSError(err))
		}
	}
	return nil
}

// extractOne writes entry i to a temporary file next to its final name and
// renames it into place only when the whole entry verified.
func extractOne(ctx context.Context, root *os.Root, s *source, i int, name string, force bool, progress func(int64)) (err error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(path.Dir(name), ".kuvert-"+hex.EncodeToString(rnd[:])+".part")
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("cannot write %s", describeFSError(err))
	}
	defer func() {
		if err != nil {
			f.Close()
			root.Remove(tmp)
		}
	}()
	if err := readEntry(ctx, s, i, f, progress); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return writeErr(name, err)
	}
	if m := s.entries[i].modified; !m.IsZero() {
		root.Chtimes(tmp, m, m)
	}
	if force {
		if fi, err := root.Lstat(name); err == nil && fi.IsDir() {
			return fmt.Errorf("%w: %s is a folder", ErrExists, name)
		}
		if err := root.Rename(tmp, name); err != nil {
			return writeErr(name, err)
		}
		return nil
	}
	if err := root.Link(tmp, name); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, name)
		}
		if err := root.Rename(tmp, name); err != nil {
			return writeErr(name, err)
		}
		return nil
	}
	root.Remove(tmp)
	return nil
}
