//go:build !amd64 || purego

package crypt

func fastKeystream(rk []byte, nr int, ctr uint64, ks []byte) bool { return false }

const haveSHANI = false

func sha1BlockSHANI(h *[5]uint32, p *[64]byte) { panic("no SHA extensions") }
