package crypt

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
)

// pbkdf2SHA1 is PBKDF2-HMAC-SHA1 (RFC 8018) as WinZip AES uses it. With
// the SHA extensions it runs the 1,000 iterations on precomputed inner
// and outer HMAC states, two compressions each and nothing else — about
// twice as fast as crypto/pbkdf2 through crypto/hmac, which matters when a
// thousand small files each need their own keys (issue 17). Elsewhere it
// is crypto/pbkdf2. TestPBKDF2SHA1 holds the two to the same output.
func pbkdf2SHA1(password, salt []byte, iter, keyLen int) []byte {
	if !haveSHANI {
		dk, err := pbkdf2.Key(sha1.New, string(password), salt, iter, keyLen)
		if err != nil {
			panic(err) // only for keyLen out of range, never here
		}
		return dk
	}
	key := password
	if len(key) > 64 {
		s := sha1.Sum(key)
		key = s[:]
	}
	var ipad, opad [64]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	iState, oState := sha1Init, sha1Init
	sha1BlockSHANI(&iState, &ipad)
	sha1BlockSHANI(&oState, &opad)

	// A 20-byte message after one 64-byte block: padding and the
	// bit length (84 bytes) are the same in every iteration.
	var blk [64]byte
	blk[20] = 0x80
	binary.BigEndian.PutUint64(blk[56:], (64+20)*8)

	dk := make([]byte, 0, (keyLen+19)/20*20)
	mac := hmac.New(sha1.New, password)
	for block := uint32(1); len(dk) < keyLen; block++ {
		// U1 = HMAC(P, S || INT(block)), through crypto/hmac (any length).
		mac.Reset()
		mac.Write(salt)
		var be [4]byte
		binary.BigEndian.PutUint32(be[:], block)
		mac.Write(be[:])
		u := mac.Sum(nil)
		var t, uw [5]uint32
		for i := range 5 {
			uw[i] = binary.BigEndian.Uint32(u[4*i:])
			t[i] = uw[i]
		}
		for n := 1; n < iter; n++ {
			for i := range 5 {
				binary.BigEndian.PutUint32(blk[4*i:], uw[i])
			}
			s := iState
			sha1BlockSHANI(&s, &blk)
			for i := range 5 {
				binary.BigEndian.PutUint32(blk[4*i:], s[i])
			}
			s = oState
			sha1BlockSHANI(&s, &blk)
			for i := range 5 {
				uw[i] = s[i]
				t[i] ^= s[i]
			}
		}
		for i := range 5 {
			dk = binary.BigEndian.AppendUint32(dk, t[i])
		}
	}
	return dk[:keyLen]
}

var sha1Init = [5]uint32{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}
