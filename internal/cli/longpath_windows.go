package cli

import "path/filepath"

// archivePathNote: see longPathNote. Windows only: elsewhere long paths
// are ordinary.
func archivePathNote(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	return longPathNote(abs)
}
