package gui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kuvert-app/kuvert/crypt"
)

// archivePath proposes a free archive name: crypt's default name (never
// with a personnummer), beside the first file or in outputDir, never
// overwriting ("lista (2).zip").
func archivePath(ins []crypt.Input, f crypt.Format, paths []string, outputDir string) string {
	out := crypt.DefaultOutput(ins, f, false, paths)
	if outputDir != "" {
		out = filepath.Join(outputDir, filepath.Base(out))
	}
	ext := ".zip"
	for _, e := range []string{".zip.age", ".age", ".zip"} {
		if strings.HasSuffix(out, e) {
			ext = e
			break
		}
	}
	stem := strings.TrimSuffix(out, ext)
	for i := 2; ; i++ {
		if _, err := os.Lstat(out); os.IsNotExist(err) {
			return out
		}
		out = fmt.Sprintf("%s (%d)%s", stem, i, ext)
	}
}
