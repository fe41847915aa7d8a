package engine_test

import (
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/results"
)

// liveRecorder is a LiveSink that keeps every snapshot.
type liveRecorder struct {
	mu    sync.Mutex
	snaps []engine.LiveSnapshot
}

func (l *liveRecorder) Scenario(s engine.LiveSnapshot) {
	l.mu.Lock()
	l.snaps = append(l.snaps, s)
	l.mu.Unlock()
}

// TestLiveSnapshots: with a live sink, a scenario hands it a snapshot once
// a second and a final one; counts never decrease, stay at zero in the
// warm-up, and the final snapshot's figures equal the scenario's results.
// Pools come per replica and a fault shows as active while it lasts.
func TestLiveSnapshots(t *testing.T) {
	prog := compile(t, `
version: 1
name: live
target: {replicas: 2}
pool: {size: 2, max_overflow: 0, timeout: 5s}
setup: [CREATE TABLE IF NOT EXISTS engine_live_locked (id int)]
teardown: [DROP TABLE IF EXISTS engine_live_locked]
mixes:
  m:
    - {name: read, sql: SELECT count(*) FROM engine_live_locked, hold: 5ms, weight: 3}
    - {name: write, sql: SELECT 1, hold: 10ms, weight: 1}
scenarios:
  - name: s
    users: 6
    warmup: 1s
    duration: 3500ms
    faults:
      - {at: 1500ms, fault: lock, table: engine_live_locked, for: 1500ms}
`, engine.Options{})
	var sink liveRecorder
	sc := run(t, prog, engine.RunOptions{Live: &sink}).Scenarios[0]
	snaps := sink.snaps
	if len(snaps) < 3 {
		t.Fatalf("%d snapshots, want one a second and a final one", len(snaps))
	}
	last := snaps[len(snaps)-1]
	if !last.Final {
		t.Fatalf("the last snapshot is not final: %+v", last)
	}
	var prev int64
	faultSeen := false
	for i, s := range snaps {
		if s.Scenario != "s" || s.Index != 1 || s.Mix != "m" || s.Model != results.ModelClosed {
			t.Errorf("snapshot %d names %q #%d mix %q model %q", i, s.Scenario, s.Index, s.Mix, s.Model)
		}
		if s.Final != (i == len(snaps)-1) {
			t.Errorf("snapshot %d: final %v", i, s.Final)
		}
		if s.Ops < prev {
			t.Errorf("snapshot %d: ops went down from %d to %d", i, prev, s.Ops)
		}
		prev = s.Ops
		if s.Warmup && s.Ops != 0 {
			t.Errorf("snapshot %d at %v is in the warm-up with %d ops counted", i, s.Elapsed, s.Ops)
		}
		if len(s.Pools) != 2 || s.Pools[0].Replica != 1 || s.Pools[1].Replica != 2 || s.Pools[0].Capacity != 2 {
			t.Errorf("snapshot %d: pools %+v, want replicas 1 and 2 of capacity 2", i, s.Pools)
		}
		if len(s.Faults) != 1 || s.Faults[0].Index != 1 || s.Faults[0].Kind != "lock" {
			t.Errorf("snapshot %d: faults %+v", i, s.Faults)
		} else if s.Faults[0].Active {
			faultSeen = true
		}
		if len(s.Lateness.Buckets) != len(engine.LiveBuckets) {
			t.Errorf("snapshot %d: %d lateness buckets", i, len(s.Lateness.Buckets))
		}
	}
	if !faultSeen {
		t.Errorf("no snapshot saw the 1.5 s lock fault active")
	}
	if last.Faults[0].Active {
		t.Errorf("the fault is still active in the final snapshot")
	}
	if last.Ops == 0 || last.Ops != sc.Ops || last.Errors != sc.Errors || last.Dropped != sc.Dropped || last.Cancelled != sc.Cancelled {
		t.Errorf("final snapshot ops %d errors %d dropped %d cancelled %d; results %d %d %d %d",
			last.Ops, last.Errors, last.Dropped, last.Cancelled, sc.Ops, sc.Errors, sc.Dropped, sc.Cancelled)
	}
	for cat, n := range sc.ErrorsBy {
		if last.ErrorsBy[cat] != n {
			t.Errorf("errors_by %s: final snapshot %d, results %d", cat, last.ErrorsBy[cat], n)
		}
	}
	if len(last.Operations) != len(sc.Operations) {
		t.Fatalf("%d operations, results have %d", len(last.Operations), len(sc.Operations))
	}
	for i, o := range last.Operations {
		want := sc.Operations[i]
		if o.Name != want.Name || o.Ops != want.Ops || o.Errors != want.Errors {
			t.Errorf("operation %d: %s %d ops %d errors; results %s %d %d", i, o.Name, o.Ops, o.Errors, want.Name, want.Ops, want.Errors)
		}
		// Every operation here ran (nothing dropped): its op time counts each.
		if o.Op.Count != uint64(want.Op.Count) || o.Acquire.Count != uint64(want.Acquire.Count) {
			t.Errorf("operation %s: histogram counts op %d acquire %d; results %d %d", o.Name, o.Op.Count, o.Acquire.Count, want.Op.Count, want.Acquire.Count)
		}
		if n := len(o.Op.Buckets); o.Op.Buckets[n-1] != o.Op.Count {
			t.Errorf("operation %s: last bucket %d, count %d (no operation took over a minute)", o.Name, o.Op.Buckets[n-1], o.Op.Count)
		}
		for b := 1; b < len(o.Op.Buckets); b++ {
			if o.Op.Buckets[b] < o.Op.Buckets[b-1] {
				t.Errorf("operation %s: buckets not cumulative: %v", o.Name, o.Op.Buckets)
				break
			}
		}
		// The mean from the buckets' sum agrees with the engine's within
		// the histogram's precision.
		if mean := time.Duration(o.Op.Sum / float64(o.Op.Count) * float64(time.Second)); o.Op.Count > 0 &&
			(mean < want.Op.Mean*95/100 || mean > want.Op.Mean*105/100) {
			t.Errorf("operation %s: mean from the live sum %v, results %v", o.Name, mean, want.Op.Mean)
		}
	}
	// The reads waited for the lock: a read started just after the grant
	// waited about as long as the lock was held (1.5 s, or less when a busy
	// machine granted it so late that the scenario's end cut it short).
	// Some read took longer than the largest bucket under the hold less
	// 250 ms (1.024 s for the full 1.5 s).
	held := lockHeld(t, sc.Faults[0])
	t.Logf("the lock was held %v", held)
	b := 0
	for b+1 < len(engine.LiveBuckets) && engine.LiveBuckets[b+1] <= (held-250*time.Millisecond).Seconds() {
		b++
	}
	read := last.Operations[0]
	if over := read.Query.Count - read.Query.Buckets[b]; over == 0 {
		t.Errorf("no read query over %gs behind a lock held %v: %v", engine.LiveBuckets[b], held, read.Query.Buckets)
	}
	t.Logf("%d snapshots; final: %d ops, read %d write %d", len(snaps), last.Ops, last.Operations[0].Ops, last.Operations[1].Ops)
}

// lockHeld is how long a lock fault held its lock, from its effect ("held
// ACCESS EXCLUSIVE on t for 1.50s (granted after 3.00ms)").
func lockHeld(t *testing.T, f results.Fault) time.Duration {
	t.Helper()
	m := regexp.MustCompile(` for (\S+) \(granted after`).FindStringSubmatch(f.Effect)
	if m == nil {
		t.Fatalf("lock fault: status %s, effect %q: no hold", f.Status, f.Effect)
	}
	held, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatalf("lock fault: effect %q: %v", f.Effect, err)
	}
	return held
}

// TestLiveBuckets: the fixed buckets span 0.5 ms to over a minute.
func TestLiveBuckets(t *testing.T) {
	b := engine.LiveBuckets
	if b[0] != 0.0005 || b[len(b)-1] < 60 {
		t.Errorf("buckets %v: want 0.5 ms up to at least a minute", b)
	}
}
