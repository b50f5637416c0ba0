package cli

import (
	"fmt"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/batch"
	"github.com/kuvert-app/kuvert/internal/catalog"
)

// describe is err as the CLI says it: each fault the core returned in
// the catalog's two-language words, the rest as the error reads.
func describe(err error) string { return catalog.Text(err) }

// details is what an entry says beyond its fields, in the catalog's
// words (an older entry's prose as it is).
func details(e *auditlog.Entry) string { return catalog.Details(e) }

// problemText is one of a manifest's problems as the CLI prints it.
func problemText(p batch.Problem) string {
	if p.Row == 0 {
		return describe(p.Err)
	}
	return fmt.Sprintf("row %d: %s", p.Row, describe(p.Err))
}
