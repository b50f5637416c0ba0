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
// output folder through [os.Root], sizes and ratios are limited, the
// third-party zip reader runs behind recover() and a structural pre-check
// with the standard library, and no plaintext is kept unless its
// authentication tag verified.
package crypt
