package pool_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// TestLevelLog: with RecordLevels the pool logs every change of its busy
// level through checkouts, releases, connects, pre-pings, recycling and
// overflow closes. The log is a true account: each entry changes the
// level, in time order, within 0..Size+MaxOverflow; it reaches the capacity
// whenever the pool was exhausted; and once the load has stopped its last
// level is what Stats says (InUse + Constructing).
func TestLevelLog(t *testing.T) {
	const size, overflow = 2, 2
	p := newPool(t, pool.Config{ConnString: localpgtest.DSN(t), ApplicationName: appName(t), Size: size, MaxOverflow: overflow,
		Timeout: 5 * time.Second, Recycle: 30 * time.Millisecond, PrePing: true, RecordLevels: true})
	ctx := context.Background()

	var (
		log   []pool.LevelChange
		spare []pool.LevelChange
		mu    sync.Mutex // log
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	take := func() {
		got := p.TakeLevels(spare)
		mu.Lock()
		log = append(log, got...)
		mu.Unlock()
		spare = got
	}
	// 6 users thinking 0..4 ms between 2 ms holds on 4 slots: the level
	// moves all the time, and the pool is exhausted now and then.
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c, err := p.Acquire(ctx)
				if err != nil {
					t.Errorf("Acquire: %v", err)
					return
				}
				if _, err := c.PgConn().Exec(ctx, "SELECT 1"); err != nil {
					t.Errorf("SELECT 1: %v", err)
				}
				time.Sleep(2 * time.Millisecond)
				p.Release(c)
				time.Sleep(rand.N(4 * time.Millisecond))
			}
		}()
	}
	for end := time.Now().Add(600 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		take()
	}
	stop.Store(true)
	wg.Wait()
	// Overflow and recycled connections close in the background: wait
	// until every slot is idle or free.
	if !eventually(10*time.Second, func() bool { st := p.Stats(); return st.InUse == 0 && st.Constructing == 0 }) {
		t.Fatalf("the pool did not settle: %+v", p.Stats())
	}
	take()
	st := p.Stats()

	// Hundreds on an idle machine. A starved one runs fewer operations, and
	// while users wait a release hands its connection over without moving
	// the level (8 changes over 37 acquires under two CPU burners): the
	// log must at least see the level rise from 0 and come back (below).
	if len(log) < 2 {
		t.Fatalf("%d level changes logged over %d acquires, want the level to rise and fall (6 users, 600 ms)", len(log), st.Acquires)
	}
	prev, peak := pool.LevelChange{}, int32(0) // the level is 0 at creation
	for i, c := range log {
		if c.Level == prev.Level || c.Level < 0 || c.Level > size+overflow || c.At < prev.At {
			t.Fatalf("change %d: %+v after %+v: want another level within 0..%d, not earlier", i, c, prev, size+overflow)
		}
		prev, peak = c, max(peak, c.Level)
	}
	t.Logf("%d changes, peak %d; stats %+v", len(log), peak, st)
	// Six users on the pool hold two connections at once now and then,
	// however slow the machine.
	if peak < 2 {
		t.Errorf("%d changes with a peak of %d: want the level seen above 1", len(log), peak)
	}
	if st.ExhaustionEvents > 0 && peak != size+overflow {
		t.Errorf("%d exhaustion events, but the level peaked at %d of %d", st.ExhaustionEvents, peak, size+overflow)
	}
	if want := int32(st.InUse + st.Constructing); prev.Level != want {
		t.Errorf("last logged level %d, Stats says %d in use or being opened", prev.Level, want)
	}
	if st.ClosedRecycled == 0 || st.ClosedOverflow == 0 {
		t.Logf("recycled %d, overflow closes %d: the load did not exercise every path", st.ClosedRecycled, st.ClosedOverflow)
	}
}

// TestLevelLogOff: without RecordLevels nothing is logged.
func TestLevelLogOff(t *testing.T) {
	p := newPool(t, pool.Config{ConnString: localpgtest.DSN(t), ApplicationName: appName(t), Size: 1, Timeout: 5 * time.Second})
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Release(c)
	if got := p.TakeLevels(nil); len(got) != 0 {
		t.Errorf("logged %v without RecordLevels", got)
	}
}
