//go:build !unix

package batch

// openNonblock: Windows has no named pipes in the file system, so
// nothing to guard against.
const openNonblock = 0
