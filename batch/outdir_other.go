//go:build !unix

package batch

import "io/fs"

// checkFolderOwner: on Windows who may write to a folder is its ACL's
// business, which kuvert does not read; only the link check
// ([checkOutFolder]) applies there.
func checkFolderOwner(dir string, fi fs.FileInfo) error { return nil }
