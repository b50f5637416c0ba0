// Package crypt is kuvert's core: it seals attachments into AES-256 zip
// (WinZip AE-2) or age files, opens them again safely, and generates the
// passwords that protect them.
//
// Both the CLI (cmd/kuvert) and the desktop app (cmd/kuvert-gui) are thin
// shells over this package. It must never import a user-interface or
// transport package (cobra, fyne, twilio), never print, and never put a
// password into an error, a log line or a file name.
//
// Opening is written for hostile input: entry names are confined to the
// output folder through [os.Root], sizes and ratios are limited, the zip
// directory is parsed and checked by the standard library's archive/zip
// before any entry is decrypted, and no plaintext is kept unless its
// authentication tag verified.
//
// The WinZip AES layer (winzip.go, aesentry.go, aesread.go) is kuvert's
// own, for speed: WinZip's little-endian counter mode over
// the standard library's AES (crypto/aes), PBKDF2 and HMAC from the
// standard library, and encryption, authentication, compression and
// hashing on separate goroutines. It never implements a cryptographic
// primitive itself: hand-written AES-NI and SHA-NI assembly measured
// faster but was left out for that reason. github.com/yeka/zip stays in the tests as the
// independent implementation every archive kuvert writes must open in.
package crypt
