package cli

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressThreshold: below this, sealing is over before a bar helps.
const progressThreshold = 32 << 20

// progress shows a bar on ErrOut when it is a terminal and the job is big
// enough; otherwise it does nothing.
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(s *IOStreams, silent bool, total int64, label string) *progress {
	if silent || !s.ErrTTY || total < progressThreshold {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(s.ErrOut),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p *progress) add(n int64) {
	if p.bar != nil {
		p.bar.Add64(n)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
