// Command recorder stands in for a mail program in the Wine tests: the
// test registers it for .eml in the prefix's registry, and it writes the
// arguments the shell started it with, one a line, to recorder.txt beside
// itself. Built by the test from source; never shipped.
package main

import (
	"os"
	"path/filepath"
	"strings"
)

func main() {
	exe, err := os.Executable()
	if err != nil {
		os.Exit(1)
	}
	out := filepath.Join(filepath.Dir(exe), "recorder.txt")
	if err := os.WriteFile(out+".tmp", []byte(strings.Join(os.Args[1:], "\n")+"\n"), 0o644); err != nil {
		os.Exit(1)
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		os.Exit(1)
	}
}
