package crypt

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// asyncHash computes a SHA-256 on its own goroutine, so that hashing the
// input overlaps with encryption on the other core instead of adding to
// it. give hands over a pooled buffer without a copy. Sum waits for
// everything so far.
type asyncHash struct {
	ch   chan *[]byte
	done chan struct{}
	h    hash.Hash
	sum  string
}

func newAsyncHash() *asyncHash {
	a := &asyncHash{ch: make(chan *[]byte, 4), done: make(chan struct{}), h: sha256.New()}
	go func() {
		for bp := range a.ch {
			a.h.Write(*bp)
			putChunk(bp)
		}
		a.sum = hex.EncodeToString(a.h.Sum(nil))
		close(a.done)
	}()
	return a
}

// give hashes a buffer from chunkPool and puts it back afterwards. The
// buffer may still be read by others meanwhile, but not written.
func (a *asyncHash) give(bp *[]byte) {
	a.ch <- bp
}

// Sum finishes the hash and returns it in hex. It must be called exactly
// once, after the last Write.
func (a *asyncHash) Sum() string {
	close(a.ch)
	<-a.done
	return a.sum
}

// Abort stops the goroutine when the result is not needed.
func (a *asyncHash) Abort() { a.Sum() }

// archiveSink is the archive's way to disk: it gathers the bytes written
// into chunks (like a bufio.Writer) and hands each full chunk to its own
// goroutine, which hashes it (the SHA-256 of the archive for the
// compliance log) and writes it to the file. The sealing goroutine never
// waits for a write system call or the hash.
type archiveSink struct {
	f    io.Writer
	h    hash.Hash
	n    int64
	cur  *[]byte
	ch   chan *[]byte
	done chan struct{}
	fail chan struct{}
	err  error // written by the goroutine; read after fail or done
	sum  string
}

func newArchiveSink(f io.Writer) *archiveSink {
	s := &archiveSink{f: f, h: sha256.New(), ch: make(chan *[]byte, 4), done: make(chan struct{}), fail: make(chan struct{})}
	go func() {
		defer close(s.done)
		for bp := range s.ch {
			if s.err == nil {
				s.h.Write(*bp)
				if _, err := s.f.Write(*bp); err != nil {
					s.err = err
					close(s.fail)
				}
			}
			putChunk(bp)
		}
		s.sum = hex.EncodeToString(s.h.Sum(nil))
	}()
	return s
}

func (s *archiveSink) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if s.cur == nil {
			s.cur = chunkPool.Get().(*[]byte)
			*s.cur = (*s.cur)[:0]
		}
		b := *s.cur
		k := copy(b[len(b):cap(b)], p)
		*s.cur = b[:len(b)+k]
		p = p[k:]
		if len(*s.cur) == cap(*s.cur) {
			if err := s.flush(); err != nil {
				return 0, err
			}
		}
	}
	s.n += int64(n)
	return n, nil
}

func (s *archiveSink) flush() error {
	if s.cur == nil {
		return nil
	}
	bp := s.cur
	s.cur = nil
	select {
	case s.ch <- bp:
		return nil
	case <-s.fail:
		putChunk(bp)
		return s.err
	}
}

// finish writes what is left and returns the archive's hash and size.
func (s *archiveSink) finish() (string, int64, error) {
	err := s.flush()
	close(s.ch)
	<-s.done
	if err == nil {
		err = s.err
	}
	return s.sum, s.n, err
}

// inputHash is what copyInput needs of a hash of its input.
type inputHash interface {
	give(bp *[]byte)
	Sum() string
	Abort()
}

// syncHash hashes on the caller's goroutine (small inputs).
type syncHash struct{ h hash.Hash }

func (s *syncHash) give(bp *[]byte) { s.h.Write(*bp); putChunk(bp) }
func (s *syncHash) Sum() string     { return hex.EncodeToString(s.h.Sum(nil)) }
func (s *syncHash) Abort()          {}
