package pool_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/internal/pgtest"
)

// TestWaitingCountsBlockedAcquires: with every connection checked out, the
// callers that queue are counted as waiting; an acquire served at once is not.
func TestWaitingCountsBlockedAcquires(t *testing.T) {
	ctx := context.Background()
	p, err := pool.New(ctx, pool.Config{ConnString: pgtest.DSN(t), ApplicationName: "pooltest-waiting", Size: 1, MaxOverflow: 1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Stats().Waiting; w != 0 {
		t.Fatalf("waiting = %d with a free slot", w)
	}
	b, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make(chan *pool.Conn, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.Acquire(ctx)
			if err == nil {
				got <- c
			}
		}()
	}
	deadline := time.Now().Add(2 * time.Second)
	for p.Stats().Waiting != 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if w := p.Stats().Waiting; w != 3 {
		t.Errorf("waiting = %d, want the 3 blocked callers", w)
	}
	p.Release(a)
	p.Release(b)
	for range 3 {
		p.Release(<-got)
	}
	wg.Wait()
	if w := p.Stats().Waiting; w != 0 {
		t.Errorf("waiting = %d after every caller was served", w)
	}
}
