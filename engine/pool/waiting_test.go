package pool_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// TestWaitingCountsBlockedAcquires: with every connection checked out, the
// callers that queue are counted as waiting, and the pool is exhausted while
// they queue; an acquire that has returned is not counted.
func TestWaitingCountsBlockedAcquires(t *testing.T) {
	ctx := context.Background()
	p, err := pool.New(ctx, pool.Config{ConnString: localpgtest.DSN(t), ApplicationName: "pooltest-waiting", Size: 1, MaxOverflow: 1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Waiting != 0 || st.Exhausted {
		t.Fatalf("waiting = %d, exhausted %v with a free slot", st.Waiting, st.Exhausted)
	}
	b, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Waiting != 0 || st.Exhausted {
		t.Fatalf("waiting = %d, exhausted %v with no caller waiting", st.Waiting, st.Exhausted)
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
	if st := p.Stats(); st.Waiting != 3 || !st.Exhausted || st.ExhaustionEvents != 1 {
		t.Errorf("waiting = %d, exhausted %v, events %d; want the 3 blocked callers, true, 1", st.Waiting, st.Exhausted, st.ExhaustionEvents)
	}
	p.Release(a)
	p.Release(b)
	for range 3 {
		p.Release(<-got)
	}
	wg.Wait()
	st := p.Stats()
	if st.Waiting != 0 || st.Exhausted {
		t.Errorf("waiting = %d, exhausted %v after every caller was served", st.Waiting, st.Exhausted)
	}
	if st.ExhaustionEvents != 1 || st.ExhaustedTotal <= 0 || st.ExhaustedLongest != st.ExhaustedTotal {
		t.Errorf("events %d, total %v, longest %v: want one period, longest = total > 0", st.ExhaustionEvents, st.ExhaustedTotal, st.ExhaustedLongest)
	}
}

// TestWaitingCountsConnectingAcquires: an Acquire is counted as waiting until
// it returns, whatever the pool's state when it began: here the pool has
// room, and the call waits for a slow connect. The pool is not exhausted.
func TestWaitingCountsConnectingAcquires(t *testing.T) {
	slowDSN := proxyDSN(t, localpgtest.DSN(t), func(int) (time.Duration, bool) { return 300 * time.Millisecond, false })
	p := newPool(t, pool.Config{ConnString: slowDSN, ApplicationName: appName(t), Size: 1, MaxOverflow: 1, Timeout: 10 * time.Second})

	done := make(chan *pool.Conn)
	go func() {
		c, err := p.Acquire(context.Background())
		if err != nil {
			t.Errorf("Acquire: %v", err)
		}
		done <- c
	}()
	if !eventually(2*time.Second, func() bool { return p.Stats().Constructing == 1 }) {
		t.Fatalf("stats %+v, want a connect in progress", p.Stats())
	}
	if st := p.Stats(); st.Waiting != 1 || st.Exhausted {
		t.Errorf("while connecting: Waiting %d, Exhausted %v; want 1, false", st.Waiting, st.Exhausted)
	}
	c := <-done
	if st := p.Stats(); st.Waiting != 0 || st.ExhaustionEvents != 0 {
		t.Errorf("after Acquire returned: Waiting %d, ExhaustionEvents %d; want 0, 0", st.Waiting, st.ExhaustionEvents)
	}
	p.Release(c)
}
