package batch

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// OutDir returns where a manifest's archives go by default: a dated folder
// beside it, or the folder of an earlier run of the same manifest.
func OutDir(m *Manifest) string {
	dir := filepath.Dir(m.Path)
	stem := strings.TrimSuffix(filepath.Base(m.Path), filepath.Ext(m.Path))
	if prev, _ := filepath.Glob(filepath.Join(dir, stem+"-*", "state.json")); prev != nil {
		for _, p := range prev {
			var st state
			if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &st) == nil && st.BatchID == m.ID {
				return filepath.Dir(p)
			}
		}
	}
	return freeOutDir(filepath.Join(dir, stem+"-"+time.Now().Format("2006-01-02")), m.ID)
}

// state is state.json in the output folder: which batch the folder
// belongs to and how its rows ended. While a run is under way it also
// claims the archive names the run may write (Claimed, since ClaimedAt);
// a run that ends normally closes the claim. An open claim is how the
// next attempt knows an archive left by a crash before its log entry as
// its own.
type state struct {
	BatchID   string      `json:"batch"`
	Manifest  string      `json:"manifest"`
	Updated   string      `json:"updated"`
	Rows      []RowResult `json:"rows"`
	Claimed   []string    `json:"claimed,omitempty"`
	ClaimedAt string      `json:"claimed_at,omitempty"` // RFC 3339 with nanoseconds
}

// writeState records how the rows ended and closes the run's claim.
func writeState(dir string, m *Manifest, sum *Summary) error {
	return writeStateFile(dir, state{BatchID: m.ID, Manifest: m.Path, Updated: time.Now().Format(time.RFC3339), Rows: sum.Rows})
}

func writeStateFile(dir string, st state) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	return atomicfile.WriteFile(filepath.Join(dir, "state.json"), b, 0o600)
}

// readState reads the output folder's state.json; nil if there is none.
func readState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil || st.BatchID == "" {
		return nil, errors.New("not a kuvert batch state file")
	}
	return &st, nil
}

// Folder is what an output folder's state.json says about the run that
// wrote it: the batch and the manifest it came from. Other packages read
// a folder through [ReadFolder]; the file's layout stays this package's.
type Folder struct {
	BatchID  string
	Manifest string // the manifest's path as the run was given it
}

// ReadFolder reads dir's state.json: nil, nil when dir holds none, an
// error when it holds something else under that name.
func ReadFolder(dir string) (*Folder, error) {
	st, err := readState(dir)
	if err != nil || st == nil {
		return nil, err
	}
	return &Folder{BatchID: st.BatchID, Manifest: st.Manifest}, nil
}

// Row returns the manifest's row numbered n (the report's numbering), or
// nil.
func (m *Manifest) Row(n int) *Row {
	for i := range m.Rows {
		if m.Rows[i].Num == n {
			return &m.Rows[i]
		}
	}
	return nil
}
