package batch

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadFolder(t *testing.T) {
	dir := t.TempDir()
	if f, err := ReadFolder(dir); f != nil || err != nil {
		t.Fatalf("empty folder: %+v, %v; want nil, nil", f, err)
	}
	if err := writeStateFile(dir, state{BatchID: "lön-2026-11", Manifest: "/m/lön.csv"}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFolder(dir)
	if err != nil || f == nil || f.BatchID != "lön-2026-11" || f.Manifest != "/m/lön.csv" {
		t.Fatalf("ReadFolder = %+v, %v", f, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"rows":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := ReadFolder(dir); err == nil {
		t.Fatalf("a state.json without a batch read as %+v", f)
	}
}

func TestManifestRow(t *testing.T) {
	m := &Manifest{Rows: []Row{{Num: 2}, {Num: 5}}}
	if r := m.Row(5); r == nil || r != &m.Rows[1] {
		t.Fatalf("Row(5) = %p, want %p", r, &m.Rows[1])
	}
	if r := m.Row(3); r != nil {
		t.Fatalf("Row(3) = %+v, want nil", r)
	}
}
