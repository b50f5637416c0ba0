//go:build unix

package cli

import (
	"os"
	"syscall"
)

// stopSignals: Ctrl-C, a polite kill (systemd, timeout, kill), and a
// closed terminal or SSH session.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
