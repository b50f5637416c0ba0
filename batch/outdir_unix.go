//go:build unix

package batch

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkFolderOwner refuses a folder another account owns or may write
// to: that account could swap an archive between its sealing and its
// mail, or plant a link where an archive is about to be written.
func checkFolderOwner(dir string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%w: utmappen %s ägs av ett annat konto (uid %d) / the output folder %s is owned by another account (uid %d); choose a folder of your own",
			ErrUnsafeOutDir, dir, st.Uid, dir, st.Uid)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: utmappen %s kan skrivas av andra (%v) / the output folder %s can be written by others (%v); run chmod go-w on it, or choose a folder only you can write to",
			ErrUnsafeOutDir, dir, perm, dir, perm)
	}
	return nil
}
