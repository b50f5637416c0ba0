package batch

import (
	"path/filepath"
	"sync"
	"testing"
)

// Rows run side by side (Options.Jobs) keep and drop their passwords in
// the one OUT/.pending folder: one row finishing must never make another
// row's keeping fail. (Row 3 resumed its SMS and removed the folder,
// empty for an instant, between row 4's MkdirAll and the creation of its
// temporary file: row 4 failed with "the password could not be kept".)
func TestPendingRowsSideBySide(t *testing.T) {
	o := Options{OutDir: filepath.Join(t.TempDir(), "ut")}
	const rounds = 300
	errs := make(chan error, 2*rounds)
	var wg sync.WaitGroup
	for _, row := range []int{3, 4} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if err := writePending(o, row, "pw"); err != nil {
					errs <- err
					return
				}
				if pw, err := readPending(o, row); err != nil || pw != "pw" {
					t.Errorf("row %d: kept %q, %v", row, pw, err)
					return
				}
				removePending(o, row)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("the password could not be kept: %v", err)
	}
}
