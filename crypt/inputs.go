package crypt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Input is one file to be sealed: where it is on disk and the name it gets
// inside the archive.
type Input struct {
	Path    string
	Name    string // slash-separated, relative
	Size    int64
	ModTime time.Time
}

// CollectInputs expands files and directories (recursively) into the list
// of regular files to seal, in a stable order. Inside directories, symbolic
// links and special files are skipped and reported in skipped; a named
// input that is not a regular file or directory is an error. Two inputs
// that would get the same name in the archive are an error rather than one
// silently hiding the other.
func CollectInputs(paths []string) (inputs []Input, skipped []string, err error) {
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("%w: no files given", ErrInput)
	}
	seen := map[string]string{}
	add := func(in Input) error {
		key := strings.ToLower(in.Name) // Windows and macOS fold case
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("%w: %s and %s would both be stored as %q", ErrInput, prev, in.Path, in.Name)
		}
		seen[key] = in.Path
		inputs = append(inputs, in)
		return nil
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, inputFSError(err)
		}
		switch {
		case fi.Mode().IsRegular():
			if err := add(Input{Path: p, Name: filepath.Base(p), Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
				return nil, nil, err
			}
		case fi.IsDir():
			base := filepath.Base(filepath.Clean(p))
			if base == "." || base == string(filepath.Separator) {
				abs, err := filepath.Abs(p)
				if err != nil {
					return nil, nil, err
				}
				base = filepath.Base(abs)
			}
			var dirInputs []Input
			err := filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
				if err != nil {
					return inputFSError(err)
				}
				if d.IsDir() {
					return nil
				}
				if !d.Type().IsRegular() {
					skipped = append(skipped, fp)
					return nil
				}
				info, err := d.Info()
				if err != nil {
					return inputFSError(err)
				}
				rel, err := filepath.Rel(p, fp)
				if err != nil {
					return err
				}
				dirInputs = append(dirInputs, Input{Path: fp, Name: path.Join(base, filepath.ToSlash(rel)), Size: info.Size(), ModTime: info.ModTime()})
				return nil
			})
			if err != nil {
				return nil, nil, err
			}
			sort.Slice(dirInputs, func(i, j int) bool { return dirInputs[i].Name < dirInputs[j].Name })
			for _, in := range dirInputs {
				if err := add(in); err != nil {
					return nil, nil, err
				}
			}
		default:
			return nil, nil, fmt.Errorf("%w: %s is not a regular file or folder", ErrInput, p)
		}
	}
	if len(inputs) == 0 {
		return nil, skipped, fmt.Errorf("%w: no files to seal (empty folders)", ErrInput)
	}
	return inputs, skipped, nil
}

// describeFSError turns an *fs.PathError into "PATH: reason" without Go's
// "open"/"stat" operation prefix, which means nothing to a user.
func describeFSError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		switch {
		case os.IsNotExist(pe.Err):
			return pe.Path + ": no such file or folder"
		case os.IsPermission(pe.Err):
			return pe.Path + ": permission denied"
		}
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}
