//go:build !windows

package cli

// archivePathNote: only Windows programs stop at MAX_PATH (longpath.go).
func archivePathNote(string) string { return "" }
