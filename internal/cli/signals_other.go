//go:build !unix && !windows

package cli

import "os"

// stopSignals: only os.Interrupt is portable everywhere else.
var stopSignals = []os.Signal{os.Interrupt}

func signalExitCode(os.Signal) int { return 130 }

func signalName(sig os.Signal) string { return sig.String() }
