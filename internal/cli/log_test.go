package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// --json output escapes the characters that reverse or hide text on a
// terminal (U+202E in a crafted file name), and still means the same.
func TestJSONEscapesBidi(t *testing.T) {
	t.Parallel()
	name := "faktura\u202Efdp.exe"
	var b bytes.Buffer
	if err := encodeJSON(&b, map[string]string{"name": name, "ok": "åäö"}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(b.String(), '\u202E') || !strings.Contains(b.String(), `\u202e`) || !strings.Contains(b.String(), "åäö") {
		t.Fatalf("json: %s", b.String())
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["name"] != name {
		t.Fatalf("does not decode back: %v %q", err, back["name"])
	}
}

// The CSV export is for a file: on a terminal it would print whatever a
// crafted name holds, raw.
func TestExportRefusesTerminal(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	var out, errOut bytes.Buffer
	code := Run(context.Background(), []string{"log", "export"}, e.factory(&IOStreams{Out: &out, ErrOut: &errOut, OutTTY: true}))
	if code != ExitUsage || out.Len() != 0 || !strings.Contains(errOut.String(), "hint: add -o") {
		t.Fatalf("exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := Run(context.Background(), []string{"log", "export"}, e.factory(&IOStreams{Out: &out, ErrOut: &errOut})); code != 0 || !strings.HasPrefix(out.String(), "\uFEFFlöpnummer") {
		t.Fatalf("to a pipe: exit %d, %q", code, out.String())
	}
}
