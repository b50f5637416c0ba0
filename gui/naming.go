package gui

import (
	"path/filepath"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/naming"
)

// archivePath proposes a free archive name by kuvert's one naming rule
// (never any part of a personnummer), beside the first file or in
// outputDir, never overwriting ("lista (2).zip").
func archivePath(ins []crypt.Input, f crypt.Format, paths []string, outputDir string) string {
	out := naming.Beside(ins, f, paths)
	if outputDir != "" {
		out = filepath.Join(outputDir, filepath.Base(out))
	}
	return naming.Free(out)
}
