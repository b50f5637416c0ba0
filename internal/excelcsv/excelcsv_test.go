package excelcsv

import (
	"bytes"
	"testing"
)

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := New(&b)
	w.Write("namn", "arkiv")
	w.Write("=HYPERLINK(\"x\")", "+1;2")
	w.Write("Åsa", "-3")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "\uFEFFnamn;arkiv\r\n\"'=HYPERLINK(\"\"x\"\")\";\"'+1;2\"\r\nÅsa;'-3\r\n"
	if b.String() != want {
		t.Fatalf("got  %q\nwant %q", b.String(), want)
	}
}

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx", "1-2": "1-2"} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}
