//go:build windows

package cli

import (
	"os"
	"syscall"
)

// stopSignals: Ctrl-C and Ctrl-Break arrive as os.Interrupt; closing the
// console window, logging off and shutting down arrive as SIGTERM (see
// os/signal). Windows has no SIGHUP.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "Ctrl-C"
	case syscall.SIGTERM:
		return "the window closed or the session ended"
	}
	return sig.String()
}
