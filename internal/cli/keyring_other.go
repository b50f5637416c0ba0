//go:build !windows

package cli

// The OS keyring: macOS Keychain, or a Secret Service on Linux.
const (
	keyringSV = "nyckelringen"
	keyringEN = "the OS keyring"
)
