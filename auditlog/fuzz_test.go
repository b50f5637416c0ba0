package auditlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// FuzzVerifyEdits replaces one entry line of a signed log (which holds no
// prune record) with arbitrary bytes. Verify must never panic, and must
// never accept a log whose bytes changed: any accepted change would be a
// forgery. Seeds include the pruned-stub shape with the right leaf hash.
func FuzzVerifyEdits(f *testing.F) {
	dir := f.TempDir()
	l, err := Open(Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := l.Append(sealEntry(i)); err != nil {
			f.Fatal(err)
		}
	}
	orig, _ := os.ReadFile(filepath.Join(l.dir, entriesFile))
	lines := bytes.SplitAfter(orig, []byte("\n"))[:4]
	for i, line := range lines {
		leaf := tlog.RecordHash(bytes.TrimSuffix(line, []byte("\n")))
		stub, _ := json.Marshal(Entry{Seq: int64(i + 1), Pruned: true, Leaf: base64.StdEncoding.EncodeToString(leaf[:])})
		f.Add(uint8(i), stub)
		f.Add(uint8(i), bytes.TrimSuffix(line, []byte("\n")))
	}
	f.Add(uint8(1), []byte(`{"seq":2,"action":"prune","prune":{"through":1}}`))
	f.Add(uint8(3), []byte("{\"seq\":4}\n{\"seq\":5}"))
	f.Fuzz(func(t *testing.T, at uint8, repl []byte) {
		i := int(at) % len(lines)
		edited := make([][]byte, len(lines))
		copy(edited, lines)
		edited[i] = append(append([]byte(nil), repl...), '\n')
		body := bytes.Join(edited, nil)
		tl := &Log{dir: t.TempDir(), keyDir: filepath.Join(dir, "keys"), verifier: l.verifier}
		os.WriteFile(tl.path(entriesFile), body, 0o600)
		cp, _ := os.ReadFile(l.path(checkpointsFile))
		os.WriteFile(tl.path(checkpointsFile), cp, 0o600)
		res, err := tl.Verify("")
		if err == nil && !bytes.Equal(body, orig) {
			t.Fatalf("an edited log verified: line %d = %q (%+v)", i+1, repl, res)
		}
	})
}
