//go:build !amd64 || purego

package crypt

func fastKeystream(rk []byte, nr int, ctr uint64, ks []byte) bool { return false }
