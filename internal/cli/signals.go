package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
)

// interrupted is the cause of the command's context when a signal asked
// kuvert to stop. Run turns it into exit code 128 + the signal's number,
// what a shell reports for a process the signal ended.
type interrupted struct{ sig os.Signal }

func (e interrupted) Error() string { return "interrupted (" + signalName(e.sig) + ")" }

// withSignals returns a context cancelled by the first of stopSignals
// (SIGINT, SIGTERM, SIGHUP where the platform has them; see the
// signals_*.go files). Every command watches that context and, when it is
// cancelled, removes what it wrote — temporary files, unverified
// plaintext — before kuvert exits. After the first
// signal the default action is back, so a second one ends kuvert at once
// when someone cannot wait for the clean-up.
func withSignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			signal.Reset(stopSignals...)
			cancel(interrupted{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		close(done)
		signal.Stop(ch)
		cancel(nil)
	}
}

// signalCause returns the signal that cancelled ctx, if one did.
func signalCause(ctx context.Context) (interrupted, bool) {
	var in interrupted
	ok := errors.As(context.Cause(ctx), &in)
	return in, ok
}
