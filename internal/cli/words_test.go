package cli

import (
	"errors"
	"testing"

	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/fault"
)

// A manifest's problem is printed with its row, in the catalog's words.
func TestProblemText(t *testing.T) {
	p := batch.Problem{Row: 3, Err: fault.New(batch.CodeFileMissing, "file", "saknas.pdf")}
	if got := problemText(p); got != "row 3: file saknas.pdf: missing" {
		t.Errorf("problemText %q", got)
	}
	p = batch.Problem{Row: 0, Err: errors.New("the manifest has no rows")}
	if got := problemText(p); got != "the manifest has no rows" {
		t.Errorf("problemText %q", got)
	}
}
