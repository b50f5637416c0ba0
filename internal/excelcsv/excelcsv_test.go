package excelcsv

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	w.Write("namn", "arkiv")
	w.Write("=HYPERLINK(\"x\")", "+1;2")
	w.Write("Åsa", "-3")
	w.Write("+46 73-123 45 67", "+46 73-123 45 67\"")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFnamn;arkiv\r\n\"'=HYPERLINK(\"\"x\"\")\";\"'+1;2\"\r\nÅsa;'-3\r\n" +
		"\"=\"\"+46 73-123 45 67\"\"\";\"'+46 73-123 45 67\"\"\"\r\n"
	if b.String() != want {
		t.Fatalf("got  %q\nwant %q", b.String(), want)
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx", "1-2": "1-2",
		// Phone numbers: a string constant Excel shows without a mark.
		"+46 73-123 45 67": `="+46 73-123 45 67"`, "+46701234567": `="+46701234567"`, "+4": "'+4",
		"+46 70-*** ** 67": `="+46 70-*** ** 67"`, "+*": "'+*", "+46*/1": "'+46*/1",
		// Anything else that starts with a plus keeps the apostrophe.
		"+46 73\"&A1": "'+46 73\"&A1", "+46 73-": "'+46 73-", "+ 46": "'+ 46", "+46(73)1": "'+46(73)1",
		"+46 73 SUM(A1)": "'+46 73 SUM(A1)", "+46\t731": "'+46\t731", "+" + strings.Repeat("1", 32): "'+" + strings.Repeat("1", 32),
		"=\"+46 73\"": "'=\"+46 73\""} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}
