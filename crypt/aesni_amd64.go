//go:build amd64 && !purego

package crypt

import "golang.org/x/sys/cpu"

// aesCTRKeystream is in aesni_amd64.s.
//
//go:noescape
func aesCTRKeystream(rk *byte, nr int, ctr uint64, dst *byte, groups int)

var haveAESNI = cpu.X86.HasAES && cpu.X86.HasSSE41

// fastKeystream fills ks (a multiple of 128 bytes) with the keystream from
// counter ctr on, if the CPU has AES-NI. The standard library's AES uses
// AES-NI too, but one block per call; eight blocks at a time run about
// four times faster here (issue 17).
func fastKeystream(rk []byte, nr int, ctr uint64, ks []byte) bool {
	if !haveAESNI || len(rk) < 16*(nr+1) || len(ks)%128 != 0 || len(ks) == 0 {
		return false
	}
	aesCTRKeystream(&rk[0], nr, ctr, &ks[0], len(ks)/128)
	return true
}

// sha1BlockSHANI and cpuHasSHA are in sha1ni_amd64.s.
//
//go:noescape
func sha1BlockSHANI(h *[5]uint32, p *[64]byte)

func cpuHasSHA() bool

var haveSHANI = cpuHasSHA() && cpu.X86.HasAVX && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3
