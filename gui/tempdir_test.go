package gui

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// tempDir is t.TempDir, except that on Windows a folder whose
// os.RemoveAll fails is removed path by path. Wine 8 answers Go's
// handle-relative delete (NtSetInformationFile with
// FileDispositionInformationEx, used by os.RemoveAll since Go 1.24) with
// "Invalid function", which Go does not take as "not supported", so
// t.TempDir's clean-up fails every test run under Wine (make
// test-windows). Real Windows on NTFS supports it; this is the test's
// own clean-up, not the app's (crypt removes its own files by path
// already).
func tempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "kuvert-gui-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if os.RemoveAll(dir) == nil {
			return
		}
		var paths []string
		filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err == nil {
				paths = append(paths, p)
			}
			return nil
		})
		for i := len(paths) - 1; i >= 0; i-- {
			if err := os.Remove(paths[i]); err != nil && !os.IsNotExist(err) {
				t.Errorf("removing the test's folder: %v", err)
				return
			}
		}
	})
	return dir
}
