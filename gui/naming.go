package gui

import (
	"path/filepath"

	"github.com/kuvert-app/kuvert/crypt"
	"github.com/kuvert-app/kuvert/naming"
)

// archivePath is where the archive goes: named name (already checked by
// naming.Archive) or, when name is empty, by kuvert's one naming rule
// (never any part of a personnummer); beside the first file or in
// outputDir, never overwriting ("lista (2).zip").
func archivePath(ins []crypt.Input, f crypt.Format, paths []string, outputDir, name string) string {
	out := naming.Beside(ins, f, paths)
	if outputDir != "" {
		out = filepath.Join(outputDir, filepath.Base(out))
	}
	if name != "" {
		out = filepath.Join(filepath.Dir(out), name)
	}
	return naming.Free(out)
}

// proposedName is the archive's file name kuvert proposes for paths, by
// the same rule as archivePath without a name of the user's; "" when
// there is nothing to seal.
func proposedName(paths []string, f crypt.Format) string {
	if len(paths) == 0 {
		return ""
	}
	ins, _, err := crypt.CollectInputs(paths)
	if err != nil {
		return ""
	}
	return filepath.Base(naming.Beside(ins, f, paths))
}
