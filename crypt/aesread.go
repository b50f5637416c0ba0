package crypt

import (
	stdzip "archive/zip"
	"compress/flate"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"sync"
)

// openAESEntry opens one WinZip AES entry of an archive checkZip passed.
// The plaintext is handed out as it is decrypted, but io.EOF comes only
// after the HMAC over the whole entry verified (and, for AE-1, the CRC):
// callers keep nothing before EOF (Extract writes to a temporary file).
//
// One goroutine reads the ciphertext and computes the HMAC while the
// caller decrypts and inflates the chunk before it, so both cores work.
func openAESEntry(f *stdzip.File, e zipEntry, password string) (io.ReadCloser, error) {
	k, err := entryKeys(f, e, password)
	if err != nil {
		return nil, err
	}
	return openAESEntryKeys(f, e, k)
}

// entryKeys reads an entry's salt and password verifier and derives its
// keys; a verifier that does not match is ErrWrongPassword.
func entryKeys(f *stdzip.File, e zipEntry, password string) (*winzipKeys, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, fmt.Errorf("%w: entry %s: %v", ErrDamaged, quoteName(e.name), err)
	}
	saltN := winzipSaltLen(e.aes.strength)
	head := make([]byte, saltN+winzipPWVLen)
	if _, err := io.ReadFull(raw, head); err != nil {
		return nil, fmt.Errorf("%w: entry %s is truncated", ErrDamaged, quoteName(e.name))
	}
	k, err := deriveWinzipKeys(password, head[:saltN], e.aes.strength)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(k.pwv[:], head[saltN:]) != 1 {
		return nil, fmt.Errorf("%w (entry %s)", ErrWrongPassword, quoteName(e.name))
	}
	return k, nil
}

func openAESEntryKeys(f *stdzip.File, e zipEntry, k *winzipKeys) (io.ReadCloser, error) {
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, fmt.Errorf("%w: entry %s: %v", ErrDamaged, quoteName(e.name), err)
	}
	head := int64(len(k.salt) + winzipPWVLen)
	if _, err := io.CopyN(io.Discard, raw, head); err != nil {
		return nil, fmt.Errorf("%w: entry %s is truncated", ErrDamaged, quoteName(e.name))
	}
	ctr, err := newWinzipCTR(k.enc)
	if err != nil {
		return nil, err
	}
	dataN := e.csize - head - winzipMACLen // checkZip ensured ≥ 0
	r := &aesEntryReader{name: e.name, ctr: ctr, ch: make(chan aesPiece, 4), stop: make(chan struct{})}
	go r.readAndAuthenticate(raw, dataN, k.auth)
	var rc io.ReadCloser = r
	if e.aes.method == zipDeflate {
		rc = &inflateReader{raw: r, fr: flate.NewReader(r), name: e.name}
	}
	if e.aes.version == 1 {
		// AE-1 also carries the CRC-32 of the plaintext.
		rc = &crcReader{rc: rc, want: e.crc, h: crc32.NewIEEE(), name: e.name}
	}
	return rc, nil
}

// keyAhead derives the keys of the next few encrypted entries on every
// core while the current one is decrypted: PBKDF2 costs ~0.65 ms per
// entry, which for many small entries is most of the work. It works at
// most keyLookahead entries past the last one asked for, and never on one
// the caller has passed over, so a wrong password on an archive of 10,000
// entries wastes a handful of derivations, not seconds.
type keyAhead struct {
	results   []chan keyResult
	mu        sync.Mutex
	cond      *sync.Cond
	requested int
	stopped   bool
	stop      chan struct{}
}

type keyResult struct {
	k   *winzipKeys
	err error
}

const keyLookahead = 8

func newKeyAhead(zr *stdzip.Reader, entries []zipEntry, password string) *keyAhead {
	ka := &keyAhead{results: make([]chan keyResult, len(entries)), stop: make(chan struct{})}
	ka.cond = sync.NewCond(&ka.mu)
	for i := range entries {
		ka.results[i] = make(chan keyResult, 1)
	}
	jobs := make(chan int)
	go func() { // in order, within the window, skipping what was passed over
		defer close(jobs)
		for i, e := range entries {
			if !e.encrypted || e.isDir {
				continue
			}
			ka.mu.Lock()
			for !ka.stopped && i > ka.requested+keyLookahead {
				ka.cond.Wait()
			}
			stopped, passed := ka.stopped, i < ka.requested
			ka.mu.Unlock()
			if stopped {
				return
			}
			if passed {
				continue
			}
			select {
			case jobs <- i:
			case <-ka.stop:
				return
			}
		}
	}()
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for i := range jobs {
				k, err := entryKeys(zr.File[i], entries[i], password)
				ka.results[i] <- keyResult{k, err}
			}
		}()
	}
	return ka
}

// get waits for entry i's keys. Entries are asked for in increasing
// order, each at most once.
func (ka *keyAhead) get(i int) (*winzipKeys, error) {
	ka.mu.Lock()
	if i > ka.requested {
		ka.requested = i
		ka.cond.Broadcast()
	}
	ka.mu.Unlock()
	r := <-ka.results[i]
	return r.k, r.err
}

func (ka *keyAhead) close() {
	ka.mu.Lock()
	if !ka.stopped {
		ka.stopped = true
		close(ka.stop)
		ka.cond.Broadcast()
	}
	ka.mu.Unlock()
}

// aesPiece is a chunk of authenticated-so-far ciphertext, or the end: err
// is nil at the end only if the MAC verified.
type aesPiece struct {
	b   *[]byte
	end bool
	err error
}

type aesEntryReader struct {
	name string
	ctr  *winzipCTR
	ch   chan aesPiece
	stop chan struct{}
	once sync.Once
	cur  *[]byte
	off  int
	err  error
}

func (r *aesEntryReader) damaged() error {
	return fmt.Errorf("%w: entry %s failed its integrity check", ErrDamaged, quoteName(r.name))
}

func (r *aesEntryReader) readAndAuthenticate(raw io.Reader, n int64, authKey []byte) {
	defer close(r.ch)
	mac := hmac.New(sha1.New, authKey)
	send := func(p aesPiece) bool {
		select {
		case r.ch <- p:
			return true
		case <-r.stop:
			return false
		}
	}
	for n > 0 {
		bp := chunkPool.Get().(*[]byte)
		b := (*bp)[:min(int64(len(*bp)), n)]
		if _, err := io.ReadFull(raw, b); err != nil {
			send(aesPiece{end: true, err: r.damaged()})
			return
		}
		mac.Write(b)
		n -= int64(len(b))
		*bp = b
		if !send(aesPiece{b: bp}) {
			return
		}
	}
	var tag [winzipMACLen]byte
	if _, err := io.ReadFull(raw, tag[:]); err != nil || !macEqual(tag[:], mac.Sum(nil)) {
		send(aesPiece{end: true, err: r.damaged()})
		return
	}
	send(aesPiece{end: true})
}

func (r *aesEntryReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.cur == nil {
		pc, ok := <-r.ch
		switch {
		case !ok:
			r.err = r.damaged()
			return 0, r.err
		case pc.end && pc.err != nil:
			r.err = pc.err
			return 0, r.err
		case pc.end:
			r.err = io.EOF
			return 0, io.EOF
		}
		r.cur, r.off = pc.b, 0
	}
	b := (*r.cur)[r.off:]
	n := min(len(p), len(b))
	r.ctr.XORKeyStream(p[:n], b[:n])
	r.off += n
	if r.off == len(*r.cur) {
		putChunk(r.cur)
		r.cur = nil
	}
	return n, nil
}

func (r *aesEntryReader) Close() error {
	r.once.Do(func() { close(r.stop) })
	return nil
}

// crcReader checks an AE-1 entry's CRC-32 before reporting EOF.
type crcReader struct {
	rc   io.ReadCloser
	want uint32
	h    interface {
		io.Writer
		Sum32() uint32
	}
	name string
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.h.Write(p[:n])
	if errors.Is(err, io.EOF) && c.h.Sum32() != c.want {
		return 0, fmt.Errorf("%w: entry %s failed its CRC check", ErrDamaged, quoteName(c.name))
	}
	return n, err
}

func (c *crcReader) Close() error { return c.rc.Close() }
