//go:build unix

package batch

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"github.com/kuvert-app/kuvert/fault"
)

// checkFolderOwner refuses a folder another account owns or may write
// to: that account could swap an archive between its sealing and its
// mail, or plant a link where an archive is about to be written.
func checkFolderOwner(dir string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%w: %w", ErrUnsafeOutDir, fault.New(CodeOutDirOtherOwner, "dir", dir, "uid", strconv.FormatUint(uint64(st.Uid), 10)))
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %w", ErrUnsafeOutDir, fault.New(CodeOutDirShared, "dir", dir, "mode", perm.String()))
	}
	return nil
}
