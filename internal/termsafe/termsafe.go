// Package termsafe makes names that come from outside (entries of an
// archive someone sent, files on disk) safe to print on a terminal or in a
// message. It is the one escaping rule kuvert uses everywhere a name is
// shown: a listing, an extraction message, an error naming an entry, the
// scanner's report.
//
// A hostile name can carry terminal escape sequences (recolour the screen,
// rewrite the title, move the cursor to hide a line), newlines (fake an
// extra line of output, such as "OK"), or Unicode bidirectional overrides
// that show "lön_fdp.exe" as "lön_exe.pdf". Escape keeps every printable
// character as it is, so Swedish names stay readable, and writes every
// other one as a visible escape.
//
// It must never be used on data that is parsed back (JSON, CSV): those
// formats have their own quoting, and the escaped form is for eyes only.
package termsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that is not printable written as
// an escape: \n, \r, \t, \xNN for other ASCII control bytes and for bytes
// that are not UTF-8, \uNNNN or \UNNNNNNNN for other control, format
// (bidirectional overrides and isolates, zero-width characters), separator
// and unassigned characters, and for spaces other than the plain space.
// Printable text, including å ä ö and the backslash, passes unchanged.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

func isPlain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
