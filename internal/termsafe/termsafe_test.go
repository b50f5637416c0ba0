package termsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"lönelista_åäö.csv", "lönelista_åäö.csv"},
		{"mapp/fil med mellanslag.txt", "mapp/fil med mellanslag.txt"},
		{`C:\windows\namn.txt`, `C:\windows\namn.txt`},
		{"a\x1b[2Jb.txt", `a\x1b[2Jb.txt`},
		{"\x1b]0;titel\x07.txt", `\x1b]0;titel\x07.txt`},
		{"rad1\nOK: 3 filer\r", `rad1\nOK: 3 filer\r`},
		{"tab\there", `tab\there`},
		{"del\x7f", `del\x7f`},
		{"c1\u009bx", `c1\u009bx`},
		{"lön_\u202efdp.exe", `lön_\u202efdp.exe`},
		{"\u2066isolate\u2069", `\u2066isolate\u2069`},
		{"zero\u200bwidth\u200e", `zero\u200bwidth\u200e`},
		{"nbsp\u00a0x", `nbsp\u00a0x`},
		{"line\u2028sep", `line\u2028sep`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"", ""},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Whatever goes in, what comes out holds only printable characters: no
// byte a terminal could act on.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a\x1b[31m", "\u202e", "ö\n", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if !unicode.IsPrint(r) {
				t.Fatalf("Escape(%q) = %q holds %U", s, out, r)
			}
		}
		if isPlain(s) && out != s {
			t.Fatalf("printable %q changed to %q", s, out)
		}
		if !strings.Contains(s, `\`) && isPlain(out) && out != s && !strings.Contains(out, `\`) {
			t.Fatalf("%q changed without an escape: %q", s, out)
		}
	})
}
