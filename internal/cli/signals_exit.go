//go:build unix || windows

package cli

import (
	"os"
	"syscall"
)

// signalExitCode is the shell's convention: 128 + the signal's number
// (130 for Ctrl-C, 143 for SIGTERM).
func signalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitFailure
}
