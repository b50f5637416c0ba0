package auditlog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An entry without an event writes the same line as before Event
// existed (so old entries keep their hashes); one with an event writes
// it after details, its field names sorted, so its line is reproducible.
func TestEventInTheLine(t *testing.T) {
	e := Entry{Seq: 1, ID: "20260101-aa", Action: ActionSuperseded, Refers: "20251231-bb", Details: "ersatt av / superseded by 20260101-cc"}
	b, _ := json.Marshal(e)
	if strings.Contains(string(b), "event") {
		t.Errorf("an entry without an event: %s", b)
	}
	want := `"action":"prune","event":{"code":"log.pruned","fields":{"before":"2024-01-01","count":"3","retention":"2y"}}}`
	for range 20 { // map order would show within a few tries
		b, _ = json.Marshal(Entry{Action: ActionPrune, Event: NewEvent(CodePruned, "retention", "2y", "count", "3", "before", "2024-01-01")})
		if !strings.HasSuffix(string(b), want) {
			t.Fatalf("line %s\nwant it to end %s", b, want)
		}
	}
}

// An event's values are masked and bounded like every other text of an
// entry: a personnummer in one never reaches the file.
func TestEventValuesMasked(t *testing.T) {
	l, _ := newLog(t)
	e := sealEntry(1)
	e.Event = NewEvent(CodeRelayed, "device", "pc-811218-9876", "long", strings.Repeat("x", 3*MaxTextLen))
	got, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	if f := got.Event.Fields; strings.Contains(f["device"], "9876") || len(f["long"]) > MaxTextLen {
		t.Errorf("fields as written: %q, long %d bytes", f["device"], len(f["long"]))
	}
	b, _ := os.ReadFile(filepath.Join(l.dir, entriesFile))
	if bytes.Contains(b, []byte("9876")) || !bytes.Contains(b, []byte(`"code":"log.relayed"`)) {
		t.Errorf("entries file: %s", b)
	}
	if _, err := l.Verify(l.VerifierKey()); err != nil {
		t.Fatal(err)
	}
}
