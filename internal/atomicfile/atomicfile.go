// Package atomicfile writes a file so that readers see either the old
// version or the whole new one, never half of it: the data is written to
// a temporary file in the same folder, synced, and renamed into place.
//
// It must never leave its temporary file behind on failure, and never
// replace the target before the new data is on disk.
package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path with mode perm, atomically and durably.
// The folder must exist.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteNew is [WriteFile] for a name that must not exist: the whole file
// appears under path only if nothing took that name meanwhile (a hard
// link, which fails atomically), else it returns an error matching
// fs.ErrExist and leaves nothing behind. Where links are not supported it
// falls back to a checked rename.
func WriteNew(path string, data []byte, perm fs.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err = tmp.Chmod(perm); err == nil {
		if _, err = tmp.Write(data); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Link(tmp.Name(), path); err == nil || errors.Is(err, fs.ErrExist) {
		if err == nil {
			SyncDir(filepath.Dir(path))
		}
		return err
	}
	if _, serr := os.Lstat(path); serr == nil {
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	if err = os.Rename(tmp.Name(), path); err == nil {
		SyncDir(filepath.Dir(path))
	}
	return err
}

// Write calls fill with a temporary file next to path, then syncs it and
// renames it to path. If fill or any step fails, path is untouched and
// the temporary file removed.
func Write(path string, perm fs.FileMode, fill func(*os.File) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	SyncDir(filepath.Dir(path))
	return nil
}

// SyncDir makes a new or renamed name in dir durable where the platform
// allows it (not on Windows, where opening a folder for sync fails; the
// error is ignored).
func SyncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
