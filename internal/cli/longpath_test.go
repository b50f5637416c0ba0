package cli

import (
	"strings"
	"testing"
)

// An archive path Explorer and Outlook cannot reach gets a note, Swedish
// first, with its length in UTF-16 units as Windows counts (å is one);
// a path of 259 does not. testdata/windows/longpath.txtar shows it from
// kuvert.exe under Wine.
func TestLongPathNote(t *testing.T) {
	short := `C:\Users\asa\Documents\` + strings.Repeat("å", 259-len(`C:\Users\asa\Documents\`))
	if n := longPathNote(short); n != "" {
		t.Errorf("259 characters: %q", n)
	}
	long := short + "x"
	n := longPathNote(long)
	if !strings.HasPrefix(n, "kuvert: obs: arkivets sökväg är 260 tecken") || !strings.Contains(n, "kuvert: note: the archive's path is 260 characters") {
		t.Errorf("260 characters: %q", n)
	}
}
