package measure

import (
	"math"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

const ms = time.Millisecond

// change is a level change at t ms.
func change(t int, level int32) pool.LevelChange {
	return pool.LevelChange{At: time.Duration(t) * ms, Level: level}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func sameUtil(got, want results.Utilization) bool {
	return near(got.Mean, want.Mean) && near(got.P95, want.P95) && near(got.Max, want.Max)
}

// TestLevelTime: utilization is the exact time-weighted level, p95 the
// level the pool was at or below for 95 % of the window, max the highest
// level reached at any instant, however briefly.
func TestLevelTime(t *testing.T) {
	cases := []struct {
		name     string
		capacity int
		from     time.Duration // the warm-up's end
		changes  []pool.LevelChange
		end      time.Duration
		want     results.Utilization
	}{
		{
			name: "full half the time", capacity: 4, end: 100 * ms,
			changes: []pool.LevelChange{change(0, 4), change(50, 0)},
			want:    results.Utilization{Mean: 0.5, P95: 1, Max: 1},
		},
		{
			// 2 ms at 4 of 4 in 100 ms: a 100 ms sample would miss it.
			name: "a brief exhaustion is the max", capacity: 4, end: 100 * ms,
			changes: []pool.LevelChange{change(0, 2), change(10, 4), change(12, 2)},
			want:    results.Utilization{Mean: (2*98 + 4*2) / 100.0 / 4, P95: 0.5, Max: 1},
		},
		{
			name: "a change that lasted no time still counts for max", capacity: 2, end: 10 * ms,
			changes: []pool.LevelChange{change(0, 1), change(5, 2), change(5, 1)},
			want:    results.Utilization{Mean: 0.5, P95: 0.5, Max: 1},
		},
		{
			// 96 % of the time at 1, 4 % at 3: p95 is 1 of 4.
			name: "p95 is a level of time, not of changes", capacity: 4, end: 100 * ms,
			changes: []pool.LevelChange{change(0, 1), change(96, 3)},
			want:    results.Utilization{Mean: (96 + 3*4) / 100.0 / 4, P95: 0.25, Max: 0.75},
		},
		{
			// Full during the warm-up only: not measured. The level held
			// when the window opens counts from there.
			name: "the warm-up is left out", capacity: 2, from: 50 * ms, end: 150 * ms,
			changes: []pool.LevelChange{change(0, 2), change(40, 1), change(100, 0)},
			want:    results.Utilization{Mean: 0.25, P95: 0.5, Max: 0.5},
		},
		{
			name: "no time measured", capacity: 2, from: 50 * ms, end: 40 * ms,
			changes: []pool.LevelChange{change(0, 2)},
			want:    results.Utilization{},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLevels(c.capacity, 1, c.from)
			l.logs[0] = c.changes
			l.merge(c.end)
			if got := l.each[0].utilization(c.end); !sameUtil(got, c.want) {
				t.Errorf("replica: got %+v, want %+v", got, c.want)
			}
			if got := l.total.utilization(c.end); !sameUtil(got, c.want) {
				t.Errorf("total of one replica: got %+v, want %+v", got, c.want)
			}
		})
	}
}

// TestLevelTimeTotal: the total is the sum of the replicas' levels at each
// instant, not a combination of their summaries: two replicas full at
// different times are each at max 1, the total never.
func TestLevelTimeTotal(t *testing.T) {
	l := NewLevels(2, 2, 0)
	l.origin[1] = -10 * ms // created 10 ms before the scenario's start, the other at it
	// Taken in two parts: replica 2 is full from 50 ms to 100 ms; its
	// last change came 1 ms after the reading at 100 ms, and counts at it.
	l.logs[0] = []pool.LevelChange{change(0, 2), change(50, 0)}
	l.logs[1] = []pool.LevelChange{change(60, 2)}
	l.merge(60 * ms)
	l.logs[0], l.logs[1] = nil, []pool.LevelChange{change(110, 0), change(111, 1)}
	l.merge(100 * ms)
	end := 100 * ms
	for i, want := range []results.Utilization{{Mean: 0.5, P95: 1, Max: 1}, {Mean: 0.5, P95: 1, Max: 1}} {
		if got := l.each[i].utilization(end); !sameUtil(got, want) {
			t.Errorf("replica %d: got %+v, want %+v", i+1, got, want)
		}
	}
	want := results.Utilization{Mean: 0.5, P95: 0.5, Max: 0.5}
	if got := l.total.utilization(end); !sameUtil(got, want) {
		t.Errorf("total: got %+v, want %+v", got, want)
	}
	// The change logged after the reading counts from it on.
	if got := l.total.utilization(200 * ms); !near(got.Max, 0.5) || !near(got.Mean, (0.5*100+0.25*100)/200) {
		t.Errorf("total to 200ms: got %+v", got)
	}
}

// TestSeriesIsBounded feeds two hours of one-second points: the series stays
// within results.MaxSeriesPoints and keeps every operation.
func TestSeriesIsBounded(t *testing.T) {
	s := NewSeries(time.Second)
	const seconds = 2 * 60 * 60
	for i := 1; i <= seconds; i++ {
		s.Add(results.Point{T: time.Duration(i) * time.Second, Users: i % 7, Ops: 10, Errors: 1, AcquireP95: time.Duration(i) * time.Microsecond, Waiting: i % 5})
	}
	pts := s.Flush()
	if len(pts) > results.MaxSeriesPoints || len(pts) < results.MaxSeriesPoints/2 {
		t.Fatalf("%d points for a 2-hour run, want %d/2..%d", len(pts), results.MaxSeriesPoints, results.MaxSeriesPoints)
	}
	var ops, errs int64
	for i, p := range pts {
		ops += p.Ops
		errs += p.Errors
		if i > 0 && p.T <= pts[i-1].T {
			t.Fatalf("points out of order at %d", i)
		}
	}
	if ops != 10*seconds || errs != seconds {
		t.Errorf("downsampling lost counts: ops %d, errors %d", ops, errs)
	}
	if last := pts[len(pts)-1]; last.T != seconds*time.Second || last.AcquireP95 != seconds*time.Microsecond {
		t.Errorf("last point %+v: want the end and the worst p95", last)
	}
	t.Logf("2 h → %d points of %v", len(pts), s.step)
}

func TestRecoveryTracker(t *testing.T) {
	// Stage 2 runs from 1s to 2s; samples every 100 ms up to at most 3s.
	type interval struct {
		exhausted bool
		t         Tick
	}
	healthy := interval{false, Tick{Waits: 10, Ops: 10}}
	exhausted := interval{true, Tick{Waits: 10, Ops: 10}}
	slow := interval{false, Tick{Waits: 20, Slow: 2, Ops: 20}}
	failing := interval{false, Tick{Waits: 20, Ops: 20, Failed: 2}}
	// from returns n copies of iv.
	from := func(n int, iv interval) []interval {
		out := make([]interval, n)
		for i := range out {
			out[i] = iv
		}
		return out
	}
	cat := func(parts ...[]interval) []interval {
		var out []interval
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name      string
		intervals []interval // from 100 ms on
		status    results.RecoveryStatus
		duration  time.Duration
	}{
		{"stress before the stage is ignored", cat(from(9, exhausted), from(21, healthy)), results.RecoveryNotStressed, 0},
		{"stressed in the stage, healthy from its end", cat(from(10, healthy), from(10, exhausted), from(10, healthy)), results.RecoveryRecovered, 0},
		{"exhausted 300 ms past the end", cat(from(10, healthy), from(13, exhausted), from(7, healthy)), results.RecoveryRecovered, 300 * ms},
		{"slow acquires count as stress", cat(from(10, healthy), from(12, slow), from(8, healthy)), results.RecoveryRecovered, 200 * ms},
		{"sustained overload never recovers", cat(from(10, healthy), from(20, exhausted)), results.RecoveryNotRecovered, time.Second},
		{"a healthy moment inside an overload is not recovery", cat(from(10, healthy), from(12, exhausted), from(2, healthy), from(6, exhausted)), results.RecoveryNotRecovered, time.Second},
		{"healthy for less than the settle window", cat(from(10, healthy), from(17, exhausted), from(3, healthy)), results.RecoveryNotRecovered, time.Second},
		{"a relapse after settling is a new incident", cat(from(10, healthy), from(13, exhausted), from(5, healthy), from(2, exhausted)), results.RecoveryRecovered, 300 * ms},
		{"failed operations count as stress", cat(from(10, healthy), from(14, failing), from(6, healthy)), results.RecoveryRecovered, 400 * ms},
		{"stopped before the stage's end", cat(from(10, healthy), from(5, exhausted)), results.RecoveryNotReached, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Recovery{Start: time.Second, End: 2 * time.Second, Settle: RecoverySettle}
			for i, iv := range c.intervals {
				r.Add(time.Duration(i+1)*100*time.Millisecond, iv.exhausted, iv.t)
			}
			got := r.Finish()
			if got.Status != c.status || got.Duration != c.duration {
				t.Errorf("got %s after %v, want %s after %v", got.Status, got.Duration, c.status, c.duration)
			}
		})
	}
}

// TestTickNote: a SQL operation's wait is its acquire, an HTTP request's is
// its whole response time (the service's pool wait is inside it); a dropped
// arrival fails with no wait, a cancelled operation does not count.
func TestTickNote(t *testing.T) {
	const slow = 50 * time.Millisecond
	failed := 3 // any error category
	for _, tc := range []struct {
		name string
		res  tally.Result
		want Tick
	}{
		{"fast acquire, slow statement", tally.Result{Acquired: true, Acquire: time.Millisecond, Total: time.Second, Category: -1}, Tick{Waits: 1, Ops: 1}},
		{"slow acquire", tally.Result{Acquired: true, Acquire: 60 * time.Millisecond, Total: 70 * time.Millisecond, Category: -1}, Tick{Waits: 1, Slow: 1, Ops: 1}},
		{"acquire timed out", tally.Result{Acquire: time.Second, Total: time.Second, Category: failed}, Tick{Waits: 1, Slow: 1, Ops: 1, Failed: 1}},
		{"fast request", tally.Result{Request: true, Total: 10 * time.Millisecond, Category: -1}, Tick{Waits: 1, Ops: 1}},
		{"slow request", tally.Result{Request: true, Total: 2 * time.Second, Category: -1}, Tick{Waits: 1, Slow: 1, Ops: 1}},
		{"request failed fast", tally.Result{Request: true, Total: time.Millisecond, Category: failed}, Tick{Waits: 1, Ops: 1, Failed: 1}},
		{"dropped arrival", tally.Result{Category: tally.Dropped}, Tick{Ops: 1, Failed: 1}},
		{"cancelled", tally.Result{Request: true, Total: time.Minute, Category: tally.Cancelled}, Tick{}},
	} {
		var got Tick
		got.Note(&tc.res, slow)
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
