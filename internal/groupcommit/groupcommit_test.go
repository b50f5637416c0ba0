package groupcommit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every item is committed exactly once, no two commits run at once, and
// items handed in while a commit runs share the next one.
func TestEveryItemOnceInGroups(t *testing.T) {
	var q Queue[*int]
	var running, commits atomic.Int32
	seen := map[*int]int{}
	var mu sync.Mutex
	commit := func(group []*int) {
		if running.Add(1) != 1 {
			t.Error("two commits at once")
		}
		commits.Add(1)
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		for _, p := range group {
			seen[p]++
			*p = 1
		}
		mu.Unlock()
		running.Add(-1)
	}
	const n = 200
	items := make([]*int, n)
	var wg sync.WaitGroup
	for i := range items {
		items[i] = new(int)
		wg.Add(1)
		go func(p *int) {
			defer wg.Done()
			q.Do(p, commit)
			if *p != 1 {
				t.Error("Do returned before its item was committed")
			}
		}(items[i])
	}
	wg.Wait()
	for _, p := range items {
		if seen[p] != 1 {
			t.Fatalf("an item was committed %d times", seen[p])
		}
	}
	if c := commits.Load(); c >= n {
		t.Fatalf("%d commits for %d items: nothing was grouped", c, n)
	}
}
