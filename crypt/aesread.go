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
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, fmt.Errorf("%w: entry %s: %v", ErrDamaged, quoteName(e.name), err)
	}
	strength := e.aes.strength
	saltN := winzipSaltLen(strength)
	head := make([]byte, saltN+winzipPWVLen)
	if _, err := io.ReadFull(raw, head); err != nil {
		return nil, fmt.Errorf("%w: entry %s is truncated", ErrDamaged, quoteName(e.name))
	}
	k, err := deriveWinzipKeys(password, head[:saltN], strength)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(k.pwv[:], head[saltN:]) != 1 {
		return nil, fmt.Errorf("%w (entry %s)", ErrWrongPassword, quoteName(e.name))
	}
	ctr, err := newWinzipCTR(k.enc)
	if err != nil {
		return nil, err
	}
	dataN := e.csize - int64(len(head)) - winzipMACLen // checkZip ensured ≥ 0
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
