package batch

import (
	"context"
	"sync"
	"time"

	"github.com/kuvert-app/kuvert/sms"
)

// limiter spaces SMS sends at a steady rate, shared by all workers.
type limiter struct {
	mu   sync.Mutex
	next time.Time
	gap  time.Duration
}

func (l *limiter) wait(ctx context.Context) {
	if l.gap <= 0 {
		return
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.gap)
	l.mu.Unlock()
	select {
	case <-time.After(time.Until(at)):
	case <-ctx.Done():
	}
}

// limitedSender waits for the shared rate before each send.
type limitedSender struct {
	sms.Sender
	lim *limiter
}

// Unwrap lets sms.IsDemo and sms.RateLimit see the provider.
func (l *limitedSender) Unwrap() sms.Sender { return l.Sender }

func (l *limitedSender) Send(ctx context.Context, m sms.Message) (sms.Receipt, error) {
	l.lim.wait(ctx)
	return l.Sender.Send(ctx, m)
}
