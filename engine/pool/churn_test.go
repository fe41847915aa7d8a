package pool_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// TestChurnInvariants mixes everything at once on a small pool: pool
// timeouts, cancelled callers, recycling, pre-ping, broken connections and
// overflow. The server never lists more than Size+MaxOverflow backends, the
// counters agree with what the callers saw, and once the load stops the
// pool settles at most Size idle connections, all accounted for.
func TestChurnInvariants(t *testing.T) {
	dsn := localpgtest.DSN(t)
	app := appName(t)
	const size, overflow = 2, 3
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: app, Size: size, MaxOverflow: overflow,
		Timeout: 20 * time.Millisecond, Recycle: 50 * time.Millisecond, PrePing: true})
	admin := adminConn(t, dsn)

	var maxSeen atomic.Int64
	stopSampler, samplerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(samplerDone)
		for {
			select {
			case <-stopSampler:
				return
			case <-time.After(5 * time.Millisecond):
			}
			n := int64(backends(t, admin, app))
			if n > maxSeen.Load() {
				maxSeen.Store(n)
			}
		}
	}()

	var ok, timeouts, cancelled atomic.Int64
	deadline := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if rand.IntN(4) == 0 {
					ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(10))*time.Millisecond)
				}
				c, err := p.Acquire(ctx)
				cancel()
				var n int64
				switch {
				case err == nil:
					n = ok.Add(1)
				case errors.Is(err, pool.ErrTimeout):
					timeouts.Add(1)
					continue
				case errors.Is(err, context.DeadlineExceeded):
					cancelled.Add(1)
					continue
				default:
					t.Errorf("Acquire: %v", err)
					return
				}
				if n%10 == 0 {
					_ = c.PgConn().Close(context.Background()) // released closed: broken (one in a transaction is reset, not broken)
				} else if _, err := c.PgConn().Exec(context.Background(), "SELECT 1"); err != nil {
					t.Errorf("SELECT 1: %v", err)
				}
				hold := time.Duration(rand.IntN(3000)) * time.Microsecond
				if rand.IntN(10) == 0 {
					// Longer than the pool timeout: the queue then waits for
					// these, and some callers time out whatever the machine's
					// speed (with holds of at most 3 ms only, a quiet machine
					// served every caller within 20 ms: no timeout at all).
					hold = 40 * time.Millisecond
				}
				time.Sleep(hold)
				p.Release(c)
			}
		}()
	}
	wg.Wait()

	var st pool.Stats
	if !eventually(5*time.Second, func() bool { st = p.Stats(); return st.Total == st.Idle }) {
		t.Fatalf("stats %+v: connections still in use or closing 5 s after the load", st)
	}
	close(stopSampler)
	<-samplerDone
	t.Logf("ok %d, timeouts %d, cancelled %d, max backends %d, stats %+v", ok.Load(), timeouts.Load(), cancelled.Load(), maxSeen.Load(), st)

	if got := maxSeen.Load(); got > size+overflow {
		t.Errorf("server listed %d backends, want <= %d", got, size+overflow)
	}
	if st.MaxOpen > size+overflow || st.Idle > size {
		t.Errorf("MaxOpen %d, Idle %d: want <= %d, <= %d", st.MaxOpen, st.Idle, size+overflow, size)
	}
	if st.Acquires != ok.Load() || st.Timeouts != timeouts.Load() {
		t.Errorf("Acquires %d, Timeouts %d: want %d, %d (what the callers got)", st.Acquires, st.Timeouts, ok.Load(), timeouts.Load())
	}
	closed := st.ClosedRecycled + st.ClosedOverflow + st.ClosedBroken + st.ClosedEnd
	if st.Opened-closed != int64(st.Total) {
		t.Errorf("Opened %d - closed %d != Total %d", st.Opened, closed, st.Total)
	}
	if st.ClosedBroken == 0 || st.ClosedRecycled == 0 || st.Timeouts == 0 {
		t.Errorf("ClosedBroken %d, ClosedRecycled %d, Timeouts %d: the churn should produce each", st.ClosedBroken, st.ClosedRecycled, st.Timeouts)
	}
	if st.Waiting != 0 || st.Exhausted || st.ConnectFailures != 0 {
		t.Errorf("Waiting %d, Exhausted %v, ConnectFailures %d after the load: want 0, false, 0", st.Waiting, st.Exhausted, st.ConnectFailures)
	}
	if n := backends(t, admin, app); n != st.Total {
		t.Errorf("server lists %d backends, pool holds %d", n, st.Total)
	}
}
