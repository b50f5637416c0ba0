package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
)

// The WinZip AE-1/AE-2 primitives (https://www.winzip.com/en/support/aes-encryption/):
// PBKDF2-HMAC-SHA1 with 1,000 iterations over a random salt derives the
// AES key, the HMAC-SHA1 key and a 2-byte password verifier; the data is
// encrypted with AES in counter mode whose 128-bit counter is
// LITTLE-endian and starts at 1, and HMAC-SHA1 over the ciphertext,
// truncated to 10 bytes, follows it. kuvert writes AES-256 (strength 3)
// only. The standard library's cipher.NewCTR counts big-endian, so the
// counter mode is here; yeka/zip, which has its own, remains the
// independent implementation the tests check this one against.

const (
	winzipIterations = 1000
	winzipMACLen     = 10
	winzipPWVLen     = 2
	aes256Strength   = 3
)

// winzipKeyLen is the AES key length of a strength (1, 2, 3).
func winzipKeyLen(strength byte) int { return 8 * (int(strength) + 1) }

// winzipSaltLen is the salt length of a strength: half the key.
func winzipSaltLen(strength byte) int { return winzipKeyLen(strength) / 2 }

// winzipKeys is one entry's derived key material.
type winzipKeys struct {
	salt []byte
	enc  []byte // AES key
	auth []byte // HMAC-SHA1 key
	pwv  [2]byte
}

func deriveWinzipKeys(password string, salt []byte, strength byte) (*winzipKeys, error) {
	kl := winzipKeyLen(strength)
	dk := pbkdf2SHA1([]byte(password), salt, winzipIterations, 2*kl+winzipPWVLen)
	k := &winzipKeys{salt: salt, enc: dk[:kl], auth: dk[kl : 2*kl]}
	copy(k.pwv[:], dk[2*kl:])
	return k, nil
}

// ctrBatch is how many counter blocks are encrypted per round: a batch
// turns the XOR into one large subtle.XORBytes.
const ctrBatch = 128

// winzipCTR is AES-CTR with WinZip's little-endian counter, starting at 1.
type winzipCTR struct {
	b   cipher.Block
	ctr uint64 // the next counter value
	ks  [ctrBatch * aes.BlockSize]byte
	in  [ctrBatch * aes.BlockSize]byte // counter blocks; high halves stay zero
	pos int                            // consumed bytes of ks
}

func newWinzipCTR(key []byte) (*winzipCTR, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	c := &winzipCTR{b: b, ctr: 1}
	c.pos = len(c.ks)
	return c, nil
}

// refill encrypts the next ctrBatch counter blocks into ks. The counter is
// 128 bits little-endian; 2^64 blocks (256 EiB) never occur, so the high
// half stays zero.
func (c *winzipCTR) refill() {
	// The counter blocks live in c.in, not on the stack: slices of a local
	// array passed to the cipher.Block interface escape, and that was a
	// 2 KiB allocation per refill (a third of the time).
	in := &c.in
	for i := 0; i < ctrBatch; i++ {
		binary.LittleEndian.PutUint64(in[i*16:], c.ctr)
		c.ctr++
	}
	for i := 0; i < len(in); i += aes.BlockSize {
		c.b.Encrypt(c.ks[i:i+aes.BlockSize], in[i:i+aes.BlockSize])
	}
	c.pos = 0
}

// XORKeyStream encrypts or decrypts src into dst (which may be src).
func (c *winzipCTR) XORKeyStream(dst, src []byte) {
	for len(src) > 0 {
		if c.pos == len(c.ks) {
			c.refill()
		}
		n := subtle.XORBytes(dst, src, c.ks[c.pos:])
		c.pos += n
		dst, src = dst[n:], src[n:]
	}
}

// keyMaker derives the key material for the entries of one archive ahead
// of time, on every core: PBKDF2 costs about 0.65 ms per entry, which for
// a thousand small files is most of the work. Each entry still
// gets its own random salt and so its own keys.
type keyMaker struct {
	password string
	n, taken int
	ch       chan *winzipKeys
	stop     chan struct{}
	once     sync.Once
}

// newKeyMaker starts deriving n key sets for password on up to GOMAXPROCS
// goroutines; next hands them out in any order.
func newKeyMaker(password string, n int) *keyMaker {
	workers := min(runtime.GOMAXPROCS(0), n)
	km := &keyMaker{password: password, n: n, ch: make(chan *winzipKeys, 2*max(workers, 1)), stop: make(chan struct{})}
	var mu sync.Mutex
	left := n
	for range workers {
		go func() {
			for {
				mu.Lock()
				if left == 0 {
					mu.Unlock()
					return
				}
				left--
				mu.Unlock()
				k, _ := newWinzipKeys(password) // nil on failure: next derives again and reports it
				select {
				case km.ch <- k:
				case <-km.stop:
					return
				}
			}
		}()
	}
	return km
}

func newWinzipKeys(password string) (*winzipKeys, error) {
	salt := make([]byte, winzipSaltLen(aes256Strength))
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return deriveWinzipKeys(password, salt, aes256Strength)
}

// next returns fresh keys for the next entry. It is called from one
// goroutine; past the n announced it derives on the spot.
func (km *keyMaker) next() (*winzipKeys, error) {
	if km.taken < km.n {
		km.taken++
		select {
		case k := <-km.ch:
			if k != nil {
				return k, nil
			}
		case <-km.stop:
			return nil, errors.New("zip writer closed")
		}
	}
	return newWinzipKeys(km.password)
}

// close stops the workers; keys not handed out are dropped.
func (km *keyMaker) close() { km.once.Do(func() { close(km.stop) }) }

// macEqual compares a stored tag with the computed one in constant time.
func macEqual(stored, computed []byte) bool {
	return hmac.Equal(stored, computed[:winzipMACLen])
}
