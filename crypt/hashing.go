package crypt

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// asyncHash computes a SHA-256 on its own goroutine, so that hashing the
// input and the archive overlaps with encryption on a second core instead
// of adding to it. Write copies the bytes (the caller may reuse its
// buffer); Sum waits for everything written so far.
type asyncHash struct {
	ch   chan []byte
	done chan struct{}
	pool sync.Pool
	h    hash.Hash
	n    int64
	sum  string
}

func newAsyncHash() *asyncHash {
	a := &asyncHash{ch: make(chan []byte, 8), done: make(chan struct{}), h: sha256.New()}
	a.pool.New = func() any { b := make([]byte, 0, 256<<10); return &b }
	go func() {
		for b := range a.ch {
			a.h.Write(b)
			b = b[:0]
			a.pool.Put(&b)
		}
		a.sum = hex.EncodeToString(a.h.Sum(nil))
		close(a.done)
	}()
	return a
}

func (a *asyncHash) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		bp := a.pool.Get().(*[]byte)
		k := min(len(p), cap(*bp))
		b := append((*bp)[:0], p[:k]...)
		a.ch <- b
		p = p[k:]
	}
	a.n += int64(n)
	return n, nil
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
