// Package opener is the recipient page, "Öppna krypterad bilaga / Open
// encrypted attachment": one self-contained HTML file that opens kuvert's
// AES-256 zips and age files in the recipient's browser, with nothing but
// the password and without sending anything anywhere.
//
// The page is built from opener/web (plain JavaScript, @zip.js/zip.js and
// age-encryption pinned by package-lock.json, bundled by esbuild) into
// opener/dist/oppna.html, which is committed and embedded here so that
// `go build` needs no npm. TestEmbeddedPageIsBuilt checks that the embedded
// bytes are exactly what the sources and the lock file build.
//
// This package never fetches or otherwise changes the page at run time,
// with one exception: [Branded] puts the organisation's name and logo in
// the one place the page leaves for them. The SHA-256 an organisation
// publishes is that of the page it serves, byte for byte: [Page] when it
// gives no name, the branded page's when it does (`kuvert opener` prints
// it; see docs/opener.md).
package opener

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// FileName is the name the page is published under.
const FileName = "oppna.html"

//go:embed dist/oppna.html
var page []byte

// Page returns a copy of the built page.
func Page() []byte { return append([]byte(nil), page...) }

// SHA256 is the hex SHA-256 of [Page], the value an organisation publishes
// so that anyone can check the page it serves.
func SHA256() string {
	sum := sha256.Sum256(page)
	return hex.EncodeToString(sum[:])
}
