package crypt

import (
	stdzip "archive/zip"
	"crypto/hmac"
	"crypto/sha1"
	"hash"
	"io"
	"sync"
)

// aesChunk is the unit handed from encryption to authentication.
const aesChunk = 256 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, aesChunk); return &b }}

// aesEntryWriter encrypts one entry's (compressed or stored) bytes and
// hands the ciphertext to a second goroutine, which computes the HMAC and
// writes it on: encryption and authentication run on both cores side by
// side, with at most a few chunks in flight.
type aesEntryWriter struct {
	raw    io.Writer // archive/zip's raw entry writer
	fh     *stdzip.FileHeader
	ctr    *winzipCTR
	mac    hash.Hash
	comp   *pflateWriter // nil for stored entries
	plainN int64         // bytes given to the entry (uncompressed)
	encN   int64         // bytes encrypted
	saltN  int
	ch     chan *[]byte
	done   chan struct{}
	mu     sync.Mutex
	err    error
	closed bool
}

// smallEntry is the size below which an entry is encrypted and
// authenticated on the caller's goroutine alone: for small files the
// hand-over between threads costs more than the overlap gains.
const smallEntry = 1 << 20

func newAESEntryWriter(raw io.Writer, fh *stdzip.FileHeader, k *winzipKeys, small bool) (*aesEntryWriter, error) {
	ctr, err := newWinzipCTR(k.enc)
	if err != nil {
		return nil, err
	}
	// Salt and password verifier come first, outside the MAC.
	if _, err := raw.Write(k.salt); err != nil {
		return nil, err
	}
	if _, err := raw.Write(k.pwv[:]); err != nil {
		return nil, err
	}
	w := &aesEntryWriter{saltN: len(k.salt), raw: raw, fh: fh, ctr: ctr, mac: hmac.New(sha1.New, k.auth)}
	if !small {
		w.ch, w.done = make(chan *[]byte, 4), make(chan struct{})
		go w.authenticate()
	}
	return w, nil
}

func (w *aesEntryWriter) authenticate() {
	defer close(w.done)
	for bp := range w.ch {
		b := *bp
		w.mac.Write(b)
		if w.failed() == nil {
			if _, err := w.raw.Write(b); err != nil {
				w.fail(err)
			}
		}
		putChunk(bp)
	}
}

func (w *aesEntryWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *aesEntryWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// input is where the entry's plaintext goes: the parallel compressor for
// deflated entries, the encryption directly for stored ones.
func (w *aesEntryWriter) input() io.Writer { return (*aesEntryInput)(w) }

type aesEntryInput aesEntryWriter

func (in *aesEntryInput) Write(p []byte) (int, error) {
	w := (*aesEntryWriter)(in)
	w.plainN += int64(len(p))
	if w.comp != nil {
		return w.comp.Write(p)
	}
	return w.Write(p)
}

// Write encrypts p (compressed data or a stored entry's bytes).
func (w *aesEntryWriter) Write(p []byte) (int, error) {
	if err := w.failed(); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		bp := chunkPool.Get().(*[]byte)
		k := min(len(p), len(*bp))
		b := (*bp)[:k]
		w.ctr.XORKeyStream(b, p[:k])
		*bp = b
		if w.ch == nil {
			w.mac.Write(b)
			_, err := w.raw.Write(b)
			putChunk(bp)
			if err != nil {
				w.fail(err)
				return 0, err
			}
		} else {
			w.ch <- bp
		}
		w.encN += int64(k)
		p = p[k:]
	}
	return n, nil
}

// close finishes the entry: the last compressed block, the MAC, and the
// sizes archive/zip writes into the data descriptor and the directory.
func (w *aesEntryWriter) close() error {
	if w.closed {
		return w.failed()
	}
	w.closed = true
	if w.comp != nil {
		if err := w.comp.Close(); err != nil {
			w.fail(err)
		}
	}
	if w.ch != nil {
		close(w.ch)
		<-w.done
	}
	if err := w.failed(); err != nil {
		return err
	}
	tag := w.mac.Sum(nil)
	if _, err := w.raw.Write(tag[:winzipMACLen]); err != nil {
		return err
	}
	fh := w.fh
	fh.CRC32 = 0 // AE-2: the MAC replaces the CRC
	fh.CompressedSize64 = uint64(int64(w.saltN+winzipPWVLen+winzipMACLen) + w.encN)
	fh.UncompressedSize64 = uint64(w.plainN)
	if fh.CompressedSize64 >= uint32max || fh.UncompressedSize64 >= uint32max {
		fh.CompressedSize, fh.UncompressedSize = uint32max, uint32max
		fh.ReaderVersion = 45 // zip64
	} else {
		fh.CompressedSize, fh.UncompressedSize = uint32(fh.CompressedSize64), uint32(fh.UncompressedSize64)
	}
	return nil
}

func (w *aesEntryWriter) abort() { w.close() }

const uint32max = (1 << 32) - 1

// putChunk returns a buffer to chunkPool at its full length.
func putChunk(bp *[]byte) {
	*bp = (*bp)[:cap(*bp)]
	chunkPool.Put(bp)
}
