// Package groupcommit batches work that many goroutines hand in at once
// into one commit: the first caller commits everything that queued up
// while it worked, until nothing is left, and each caller returns once
// the group holding its item was committed. The compliance log uses it to
// pay one lock, fsync and checkpoint per group; the server, one database
// transaction per group.
package groupcommit

import "sync"

// Queue batches items of type T (usually pointers the commit fills in
// with results). The zero value is ready.
type Queue[T any] struct {
	mu      sync.Mutex
	pending []*waiter[T]
	busy    bool
}

type waiter[T any] struct {
	item T
	done chan struct{}
}

// Do queues item and returns after commit has run on a group that holds
// it. commit is called by one caller at a time, with items in the order
// they arrived; every caller of one Queue must pass the same commit.
func (q *Queue[T]) Do(item T, commit func(group []T)) {
	w := &waiter[T]{item: item, done: make(chan struct{})}
	q.mu.Lock()
	q.pending = append(q.pending, w)
	if q.busy {
		q.mu.Unlock()
		<-w.done
		return
	}
	q.busy = true
	q.mu.Unlock()
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		if len(batch) == 0 {
			q.busy = false
			q.mu.Unlock()
			break
		}
		q.mu.Unlock()
		items := make([]T, len(batch))
		for i, b := range batch {
			items[i] = b.item
		}
		commit(items)
		for _, b := range batch {
			close(b.done)
		}
	}
	<-w.done
}
