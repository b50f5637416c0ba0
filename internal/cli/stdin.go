package cli

import (
	"context"
	"io"
	"os"

	"golang.org/x/term"
)

// Reading a password from standard input or the terminal blocks in the
// operating system, where a cancelled context cannot reach it: Ctrl-C
// (or a closed console window on Windows) at the prompt, or while
// `--password-file -` waits for a pipe, used to leave kuvert waiting for
// a second Ctrl-C. The readers below give up when the context is
// cancelled, so the command returns, cleans up and exits with the
// signal's code; the blocked read is left to end with the process.

// ctxReader is r, whose Read returns the context's error once the
// context is cancelled, even while the read underneath still blocks.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

type readResult struct {
	n   int
	err error
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	// The read goes to a buffer of its own: p must not be written after
	// Read has returned.
	buf := make([]byte, len(p))
	done := make(chan readResult, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- readResult{n, err}
	}()
	select {
	case res := <-done:
		copy(p, buf[:res.n])
		return res.n, res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// ctxPrompt wraps a terminal password prompt the same way; restore puts
// the terminal back (echo on) when the prompt is abandoned.
func ctxPrompt(ctx context.Context, read func(string) (string, error), restore func()) func(string) (string, error) {
	return func(prompt string) (string, error) {
		done := make(chan struct {
			s   string
			err error
		}, 1)
		go func() {
			s, err := read(prompt)
			done <- struct {
				s   string
				err error
			}{s, err}
		}()
		select {
		case r := <-done:
			return r.s, r.err
		case <-ctx.Done():
			if restore != nil {
				restore()
			}
			return "", ctx.Err()
		}
	}
}

// interruptible makes the system streams' password reads give up when
// ctx is cancelled (see above).
func interruptible(ctx context.Context, s *IOStreams) {
	s.In = ctxReader{ctx, s.In}
	if s.ReadPassword != nil {
		fd := int(os.Stdin.Fd())
		var restore func()
		if st, err := term.GetState(fd); err == nil {
			restore = func() { _ = term.Restore(fd, st) }
		}
		s.ReadPassword = ctxPrompt(ctx, s.ReadPassword, restore)
	}
}
