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
	"runtime"
	"strings"

	"github.com/kuvert-app/kuvert/internal/termsafe"
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
		return "", fmt.Errorf("%w: entry %s has an absolute path", ErrUnsafe, quoteName(name))
	case len(n) >= 2 && n[1] == ':':
		return "", fmt.Errorf("%w: entry %s has a drive letter", ErrUnsafe, quoteName(name))
	}
	var parts []string
	for _, p := range strings.Split(n, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: entry %s points outside the output folder", ErrUnsafe, quoteName(name))
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "", nil // "./" and similar: nothing to create
	}
	return path.Join(parts...), nil
}

// Extract opens an archive into a folder in two steps. First every entry
// is written to a temporary file beside its final name and checked: its
// authentication tag verified and it produced exactly its declared size.
// Only when all of them passed are they put in place, so a failure, a
// cancelled context or a signal never leaves unverified plaintext and,
// with Force, never costs an existing file: existing
// files are moved aside, replaced, and the moved copies deleted only when
// every file is in place; on any failure they are put back.
//
// Paths are confined to the folder by [os.Root], so neither ".." nor a
// symbolic link planted in the folder can lead outside. On any failure
// everything written is removed again, and the folder too if Extract
// created it.
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
	files := 0
	for i, e := range s.entries {
		if e.isLink {
			return nil, fmt.Errorf("%w: entry %s is a symbolic link", ErrUnsafe, quoteName(e.name))
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
			return nil, fmt.Errorf("%w: the name %s occurs twice", ErrUnsafe, quoteName(n))
		}
		seen[key] = true
		names[i] = n
		if !e.isDir {
			files++
		}
	}
	// A hidden-names archive holds one entry whose files are known only
	// after it is decrypted; their targets are checked in [placeAll].
	hiddenOnly := files == 1 && seen[strings.ToLower(HiddenNamesEntry)]

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

	var made []string   // folders made, in order
	var stage []*staged // verified entries waiting in temporary files
	defer func() {
		if err == nil {
			return
		}
		for _, st := range stage {
			removeIn(root, st.tmp)
		}
		if created {
			// Windows removes no folder that a handle holds open.
			root.Close()
			removeTree(dest)
			return
		}
		for i := len(made) - 1; i >= 0; i-- {
			removeIn(root, made[i])
		}
	}()

	// Fail early, before any decryption, on targets already known.
	if !hiddenOnly {
		for i, n := range names {
			if n == "" || s.entries[i].isDir {
				continue
			}
			if err := checkTarget(root, dest, n, o.Force); err != nil {
				return nil, err
			}
		}
	}

	for i, e := range s.entries {
		n := names[i]
		if n == "" {
			continue
		}
		if e.isDir {
			if err := mkdirs(root, n, &made); err != nil {
				return nil, err
			}
			continue
		}
		if dir := path.Dir(n); dir != "." {
			if err := mkdirs(root, dir, &made); err != nil {
				return nil, err
			}
		}
		st, err := stageEntry(ctx, root, s, i, n, o.Progress)
		if err != nil {
			return nil, err
		}
		stage = append(stage, st)
	}
	if len(stage) == 1 && stage[0].name == HiddenNamesEntry {
		inner, err := stageHidden(ctx, root, dest, o, stage[0].tmp, &made, &stage)
		if err != nil {
			return nil, err
		}
		if inner != nil {
			removeIn(root, stage[0].tmp)
			stage = inner
		}
	}
	if err := placeAll(root, dest, stage, o.Force); err != nil {
		return nil, err
	}
	res = &ExtractResult{Dest: dest}
	for _, st := range stage {
		res.Files = append(res.Files, st.entry)
	}
	return res, nil
}

// staged is one verified entry in a temporary file beside its final name.
type staged struct {
	tmp, name string
	entry     Entry
	backup    string // an existing file at name, moved aside while placing
	placed    bool
}

// checkTarget refuses a target that exists (unless force) or is a folder.
func checkTarget(root *os.Root, dest, name string, force bool) error {
	fi, err := root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot write %s", describeFSError(err))
	case !force:
		return fmt.Errorf("%w: %s", ErrExists, displayPath(dest, name))
	case fi.IsDir():
		return fmt.Errorf("%w: %s is a folder", ErrExists, displayPath(dest, name))
	}
	return nil
}

func displayPath(dest, name string) string {
	return termsafe.Escape(filepath.Join(dest, filepath.FromSlash(name)))
}

// placeAll moves every staged file to its name, all or nothing: targets are
// checked first, existing ones (with force) are moved aside, and on any
// failure the new files are removed and the moved ones put back.
func placeAll(root *os.Root, dest string, stage []*staged, force bool) (err error) {
	for _, st := range stage {
		if err := checkTarget(root, dest, st.name, force); err != nil {
			return err
		}
	}
	defer func() {
		for i := len(stage) - 1; i >= 0; i-- {
			st := stage[i]
			if err != nil && st.placed {
				removeIn(root, st.name)
			}
			if st.backup == "" {
				continue
			}
			if err != nil {
				root.Rename(st.backup, st.name)
			} else {
				removeIn(root, st.backup)
			}
		}
	}()
	for _, st := range stage {
		if force {
			if _, err := root.Lstat(st.name); err == nil {
				bak := tempName(st.name, ".old")
				if err := root.Rename(st.name, bak); err != nil {
					return writeErr(termsafe.Escape(st.name), err)
				}
				st.backup = bak
			}
		}
		// Link refuses to replace a file that appeared since the check.
		if err := root.Link(st.tmp, st.name); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%w: %s", ErrExists, displayPath(dest, st.name))
			}
			// No hard links here (FAT, some network shares): rename.
			if _, lerr := root.Lstat(st.name); lerr == nil {
				return fmt.Errorf("%w: %s", ErrExists, displayPath(dest, st.name))
			}
			if err := root.Rename(st.tmp, st.name); err != nil {
				return writeErr(termsafe.Escape(st.name), err)
			}
		} else {
			removeIn(root, st.tmp)
		}
		st.placed = true
	}
	return nil
}

// stageHidden stages the files of a hidden-names inner zip (bilagor.zip,
// already verified, in the temporary file tmp) with the same checks as any
// archive. It returns nil if bilagor.zip is not kuvert's. Temporary files
// it makes are added to *all as they are made, so that a failure removes
// them.
func stageHidden(ctx context.Context, root *os.Root, dest string, o ExtractOptions, tmp string, made *[]string, all *[]*staged) ([]*staged, error) {
	f, err := root.Open(tmp)
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
	out := []*staged{}
	seen := map[string]bool{}
	for i, e := range entries {
		if e.isLink {
			return nil, fmt.Errorf("%w: entry %s is a symbolic link", ErrUnsafe, quoteName(e.name))
		}
		n, err := SafeName(e.name)
		if err != nil {
			return nil, err
		}
		if n == "" || e.isDir {
			continue
		}
		if seen[strings.ToLower(n)] {
			return nil, fmt.Errorf("%w: the name %s occurs twice", ErrUnsafe, quoteName(n))
		}
		seen[strings.ToLower(n)] = true
		if err := checkTarget(root, dest, n, o.Force); err != nil {
			return nil, err
		}
		if dir := path.Dir(n); dir != "." {
			if err := mkdirs(root, dir, made); err != nil {
				return nil, err
			}
		}
		sg, err := stageEntry(ctx, root, s, i, n, o.Progress)
		if err != nil {
			return nil, err
		}
		*all = append(*all, sg)
		out = append(out, sg)
	}
	return out, nil
}

func mkdirs(root *os.Root, dir string, made *[]string) error {
	parts := strings.Split(dir, "/")
	for k := range parts {
		p := path.Join(parts[:k+1]...)
		err := root.Mkdir(p, 0o700)
		switch {
		case err == nil:
			*made = append(*made, p)
		case errors.Is(err, fs.ErrExist):
			fi, serr := root.Lstat(p)
			if serr != nil || !fi.IsDir() {
				return fmt.Errorf("%w: %s exists and is not a folder", ErrUnsafe, termsafe.Escape(p))
			}
		default:
			return fmt.Errorf("cannot create %s", describeFSError(err))
		}
	}
	return nil
}

// tempName is a fresh hidden name beside name.
func tempName(name, suffix string) string {
	var rnd [8]byte
	rand.Read(rnd[:])
	return path.Join(path.Dir(name), ".kuvert-"+hex.EncodeToString(rnd[:])+suffix)
}

// stageEntry writes entry i to a temporary file beside name and returns it
// only when the whole entry verified; on failure the file is removed.
func stageEntry(ctx context.Context, root *os.Root, s *source, i int, name string, progress func(int64)) (_ *staged, err error) {
	tmp := tempName(name, ".part")
	f, err := root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot write %s", describeFSError(err))
	}
	defer func() {
		if err != nil {
			f.Close()
			removeIn(root, tmp)
		}
	}()
	aw := newAsyncWriter(f)
	rerr := readEntry(ctx, s, i, aw, progress)
	if werr := aw.close(); rerr == nil && werr != nil {
		rerr = writeErr(termsafe.Escape(name), werr)
	}
	if rerr != nil {
		return nil, rerr
	}
	if err := f.Close(); err != nil {
		return nil, writeErr(termsafe.Escape(name), err)
	}
	e := s.entries[i]
	if !e.modified.IsZero() {
		root.Chtimes(tmp, e.modified, e.modified)
	}
	return &staged{tmp: tmp, name: name, entry: Entry{Name: name, Size: e.size, Modified: e.modified}}, nil
}

// removeIn removes name inside root. Some file systems refuse the
// handle-relative delete that os.Root uses on Windows (Wine 8 answers
// "Invalid function"); the same name through the folder's path is tried
// then, so a failed extraction leaves no temporary file behind.
func removeIn(root *os.Root, name string) error {
	err := root.Remove(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) || runtime.GOOS != "windows" {
		return err
	}
	if os.Remove(filepath.Join(root.Name(), filepath.FromSlash(name))) == nil {
		return nil
	}
	return err
}

// removeTree removes a folder kuvert made, with what it holds, falling
// back to removing each path where os.RemoveAll's handle-relative
// deletes are refused (see [removeIn]).
func removeTree(dir string) {
	if os.RemoveAll(dir) == nil || runtime.GOOS != "windows" {
		return
	}
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		os.Remove(paths[i])
	}
}
