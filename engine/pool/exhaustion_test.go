package pool_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// loadResult is what runLoad measured while its users ran.
type loadResult struct {
	samples     int
	meanWaiting float64 // of Stats().Waiting, sampled every 10 ms
	exhausted   int     // samples with Stats().Exhausted
	elapsed     time.Duration
	first, last pool.Stats // at the start and the end of the window
}

// runLoad runs users goroutines that acquire, SELECT 1, hold for hold and
// release, without think time. Once every user has had a connection (the
// pool is warm), it samples Stats every 10 ms for window. It stops the users
// before returning.
func runLoad(t *testing.T, p *pool.Pool, users int, hold, window time.Duration) loadResult {
	t.Helper()
	ctx := context.Background()
	var (
		stop   atomic.Bool
		served atomic.Int64 // users that have had a connection at least once
		wg     sync.WaitGroup
	)
	for range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			for !stop.Load() {
				c, err := p.Acquire(ctx)
				if err != nil {
					t.Errorf("Acquire: %v", err)
					return
				}
				if _, err := c.PgConn().Exec(ctx, "SELECT 1"); err != nil {
					t.Errorf("SELECT 1: %v", err)
				}
				time.Sleep(hold)
				p.Release(c)
				if first {
					served.Add(1)
					first = false
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	warm := time.Now()
	if !eventually(time.Minute, func() bool { return served.Load() == int64(users) || t.Failed() }) || t.Failed() {
		t.Fatalf("users served at least once: %d of %d", served.Load(), users)
	}
	t.Logf("every user served once after %v", time.Since(warm))

	var r loadResult
	var waitingSum int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	r.first = p.Stats()
	for time.Since(start) < window {
		<-tick.C
		st := p.Stats()
		r.samples++
		waitingSum += int64(st.Waiting)
		if st.Exhausted {
			r.exhausted++
		}
	}
	r.last = p.Stats()
	r.elapsed = time.Since(start) // brackets both snapshots
	r.meanWaiting = float64(waitingSum) / float64(r.samples)
	return r
}

// TestExhaustionGroundTruth: 100 users on 5 connections, holding 10 ms
// without think time. At any instant 5 users hold a connection and the other
// 95 are inside Acquire (but for the instants between a release and the
// next Acquire), so the pool is exhausted all the time.
func TestExhaustionGroundTruth(t *testing.T) {
	p := newPool(t, pool.Config{ConnString: localpgtest.DSN(t), ApplicationName: appName(t), Size: 5, Timeout: time.Minute})
	r := runLoad(t, p, 100, 10*time.Millisecond, 2*time.Second)
	exhausted := r.last.ExhaustedTotal - r.first.ExhaustedTotal
	t.Logf("%d samples in %v: mean Waiting %.1f, Exhausted in %d samples; ExhaustedTotal grew %v (%.1f%% of the window); events %d, longest %v",
		r.samples, r.elapsed, r.meanWaiting, r.exhausted, exhausted, 100*exhausted.Seconds()/r.elapsed.Seconds(),
		r.last.ExhaustionEvents, r.last.ExhaustedLongest)

	if r.samples < 10 {
		t.Fatalf("only %d samples, want >= 10", r.samples)
	}
	if r.meanWaiting < 90 {
		t.Errorf("mean Waiting = %.1f, want >= 90 of 100 users (5 connections)", r.meanWaiting)
	}
	// The window is measured with the clock the pool uses; the pool's own
	// total cannot exceed it and must cover at least 90% of it.
	if exhausted < r.elapsed*9/10 || exhausted > r.elapsed {
		t.Errorf("ExhaustedTotal grew %v in a window of %v, want 90%%..100%% of it", exhausted, r.elapsed)
	}
	if r.exhausted*10 < r.samples*9 {
		t.Errorf("Exhausted in %d of %d samples, want >= 90%%", r.exhausted, r.samples)
	}
	st := r.last
	if st.ExhaustionEvents < 1 || st.ExhaustedLongest <= 0 || st.ExhaustedLongest > st.ExhaustedTotal {
		t.Errorf("ExhaustionEvents %d, ExhaustedLongest %v, ExhaustedTotal %v: want >= 1 event and 0 < longest <= total",
			st.ExhaustionEvents, st.ExhaustedLongest, st.ExhaustedTotal)
	}
	if st.Timeouts != 0 {
		t.Errorf("Timeouts = %d, want 0", st.Timeouts)
	}

	// Once the load stopped (runLoad returned), the period has ended and its
	// total no longer grows.
	end := p.Stats()
	time.Sleep(20 * time.Millisecond)
	if again := p.Stats(); end.Exhausted || again.ExhaustedTotal != end.ExhaustedTotal || end.Waiting != 0 {
		t.Errorf("after the load: Exhausted %v, Waiting %d, ExhaustedTotal %v then %v; want false, 0, unchanged",
			end.Exhausted, end.Waiting, end.ExhaustedTotal, again.ExhaustedTotal)
	}
}

// TestNoExhaustionWithRoom: with a connection for every user (some of them
// overflow) and room to spare, no Acquire ever queues: the pool is never
// exhausted. The spare 5 slots are for overflow connections being closed
// (a close keeps its slot until the server has closed its end): with 15
// users on 15 slots, a slow close on a busy machine makes the next Acquire
// wait, as the pool's semantics say it must.
func TestNoExhaustionWithRoom(t *testing.T) {
	p := newPool(t, pool.Config{ConnString: localpgtest.DSN(t), ApplicationName: appName(t), Size: 5, MaxOverflow: 10, Timeout: time.Minute})
	r := runLoad(t, p, 10, 5*time.Millisecond, 500*time.Millisecond)
	st := p.Stats()
	t.Logf("mean Waiting %.1f, stats %+v", r.meanWaiting, st)
	if st.ExhaustionEvents != 0 || st.ExhaustedTotal != 0 || st.ExhaustedLongest != 0 || r.exhausted != 0 {
		t.Errorf("ExhaustionEvents %d, ExhaustedTotal %v, ExhaustedLongest %v, exhausted samples %d: want all 0",
			st.ExhaustionEvents, st.ExhaustedTotal, st.ExhaustedLongest, r.exhausted)
	}
	if st.Acquires == 0 || st.MaxOpen > 15 {
		t.Errorf("Acquires %d, MaxOpen %d: want > 0 and <= 15", st.Acquires, st.MaxOpen)
	}
}
