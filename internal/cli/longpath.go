package cli

import (
	"fmt"
	"unicode/utf16"
)

// maxPath is Windows' MAX_PATH: 260 UTF-16 units with the terminating
// NUL, so 259 for a path. kuvert itself reads and writes longer paths (Go
// adds the \\?\ prefix), but Explorer, Outlook's "Bifoga fil" and many
// older programs stop at it: a clerk could not attach the archive.
const maxPath = 260

// longPathNote is the note shown after sealing when the archive's full
// path (abs, as Windows spells it) is too long for those programs; ""
// when it is not.
func longPathNote(abs string) string {
	n := len(utf16.Encode([]rune(abs)))
	if n < maxPath {
		return ""
	}
	return fmt.Sprintf("kuvert: obs: arkivets sökväg är %d tecken, fler än de 259 som Utforskaren och Outlook klarar; flytta arkivet till en kortare mapp (eller välj en med -o) innan du bifogar det\n"+
		"kuvert: note: the archive's path is %d characters, more than the 259 Explorer and Outlook handle; move it to a shorter folder (or choose one with -o) before attaching it\n", n, n)
}
