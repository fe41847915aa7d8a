package engine_test

import (
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// onSecond is a live stream of one sink that calls f with every snapshot
// but the final one.
func onSecond(f func(*live.Snapshot)) []live.Sink {
	return []live.Sink{live.SinkFunc(func(s *live.Snapshot) *results.Outcome {
		if !s.Final {
			f(s)
		}
		return nil
	})}
}

// liveRecorder is a live sink that keeps every snapshot, and of each the
// counts of the histograms it handed over (only valid during the call).
type liveRecorder struct {
	mu     sync.Mutex
	snaps  []*live.Snapshot
	counts [][]liveCounts // by snapshot, by operation
	// slowest is, by snapshot, the longest statement of the first operation so far.
	slowest []time.Duration
}

type liveCounts struct{ acquire, query, op int64 }

func (l *liveRecorder) Live(s *live.Snapshot) *results.Outcome {
	var counts []liveCounts
	for _, h := range s.Histograms.Operations {
		counts = append(counts, liveCounts{h.Acquire.TotalCount(), h.Query.TotalCount(), h.Op.TotalCount()})
	}
	ops := s.Histograms.Operations
	var slowest time.Duration
	if len(ops) > 0 {
		slowest = time.Duration(ops[0].Query.Max())
	}
	l.mu.Lock()
	l.snaps = append(l.snaps, s)
	l.counts = append(l.counts, counts)
	l.slowest = append(l.slowest, slowest)
	l.mu.Unlock()
	return nil
}

// TestLiveSnapshots: with a live sink, a scenario hands it a snapshot once
// a second and a final one; counts never decrease, stay at zero in the
// warm-up, and the final snapshot's figures equal the scenario's results.
// Each snapshot's point is the series' point of that second. Pools come
// per replica and a fault shows as active while it lasts.
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
	r := run(t, prog, engine.RunOptions{Live: []live.Sink{nil, &sink}})
	sc := r.Scenarios[0]
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
		res := s.Scenario
		if res.Name != "s" || s.Index != 1 || s.Count != 1 || res.Mix != "m" || res.Model != results.ModelClosed || res.Planned != sc.Planned {
			t.Errorf("snapshot %d names %q #%d/%d mix %q model %q planned %v", i, res.Name, s.Index, s.Count, res.Mix, res.Model, res.Planned)
		}
		if s.Run != r {
			t.Errorf("snapshot %d: not of the run recorded", i)
		}
		if s.Final != (i == len(snaps)-1) {
			t.Errorf("snapshot %d: final %v", i, s.Final)
		}
		if res.Generator.Cores == 0 {
			t.Errorf("snapshot %d: no generator figures for a sink that reads them", i)
		}
		if res.Ops < prev {
			t.Errorf("snapshot %d: ops went down from %d to %d", i, prev, res.Ops)
		}
		prev = res.Ops
		if s.Warmup && res.Ops != 0 {
			t.Errorf("snapshot %d at %v is in the warm-up with %d ops counted", i, res.Elapsed, res.Ops)
		}
		if !s.Final && (s.Users != 6 || s.MaxUsers != 6) {
			t.Errorf("snapshot %d: users %d/%d, want 6/6", i, s.Users, s.MaxUsers)
		}
		if i < len(sc.Series) && !s.Final && s.Point != sc.Series[i] {
			t.Errorf("snapshot %d: point %+v, series %+v", i, s.Point, sc.Series[i])
		}
		if len(s.Pools) != 2 || s.Pools[0].Replica != 1 || s.Pools[1].Replica != 2 || s.Pools[0].Capacity != 2 || s.Pool().Capacity != 4 {
			t.Errorf("snapshot %d: pools %+v, want replicas 1 and 2 of capacity 2", i, s.Pools)
		}
		if len(s.Faults) != 1 || s.Faults[0].Index != 1 || s.Faults[0].Kind != "lock" {
			t.Errorf("snapshot %d: faults %+v", i, s.Faults)
		} else if s.Faults[0].Active {
			faultSeen = true
		}
		for o, c := range sink.counts[i] {
			if want := res.Operations[o]; c.acquire != want.Acquire.Count || c.op != want.Op.Count {
				t.Errorf("snapshot %d, operation %s: histograms count acquire %d op %d; its figures %d %d", i, want.Name, c.acquire, c.op, want.Acquire.Count, want.Op.Count)
			}
		}
	}
	if !faultSeen {
		t.Errorf("no snapshot saw the 1.5 s lock fault active")
	}
	if last.Faults[0].Active || last.Users != 0 {
		t.Errorf("final snapshot: fault active %v, users %d", last.Faults[0].Active, last.Users)
	}
	fin := last.Scenario
	if fin.Ops == 0 || fin.Ops != sc.Ops || fin.Errors != sc.Errors || fin.Dropped != sc.Dropped || fin.Cancelled != sc.Cancelled {
		t.Errorf("final snapshot ops %d errors %d dropped %d cancelled %d; results %d %d %d %d",
			fin.Ops, fin.Errors, fin.Dropped, fin.Cancelled, sc.Ops, sc.Errors, sc.Dropped, sc.Cancelled)
	}
	for cat, n := range sc.ErrorsBy {
		if fin.ErrorsBy[cat] != n {
			t.Errorf("errors_by %s: final snapshot %d, results %d", cat, fin.ErrorsBy[cat], n)
		}
	}
	if len(fin.Operations) != len(sc.Operations) {
		t.Fatalf("%d operations, results have %d", len(fin.Operations), len(sc.Operations))
	}
	for i, o := range fin.Operations {
		want := sc.Operations[i]
		if o.Name != want.Name || o.Ops != want.Ops || o.Errors != want.Errors || o.Op != want.Op {
			t.Errorf("operation %d: %s %d ops %d errors op %+v; results %s %d %d %+v", i, o.Name, o.Ops, o.Errors, o.Op, want.Name, want.Ops, want.Errors, want.Op)
		}
	}
	// The reads waited for the lock: a read started just after the grant
	// waited about as long as the lock was held (1.5 s, or less when a busy
	// machine granted it so late that the scenario's end cut it short).
	held := lockHeld(t, sc.Faults[0])
	if slowest := sink.slowest[len(snaps)-1]; slowest <= held-250*time.Millisecond {
		t.Errorf("the slowest read query took %v behind a lock held %v", slowest, held)
	}
	t.Logf("%d snapshots; final: %d ops, read %d write %d", len(snaps), fin.Ops, fin.Operations[0].Ops, fin.Operations[1].Ops)
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

// TestLiveStops: a sink that stops the scenario aborts it with its outcome,
// every sink still sees that second, and the final snapshot follows.
func TestLiveStops(t *testing.T) {
	prog := compile(t, `
version: 1
name: live-stop
mixes:
  m:
    - {name: a, sql: SELECT 1, hold: 5ms}
scenarios:
  - {name: s, users: 2, duration: 30s}
  - {name: t, users: 2, duration: 1s}
`, engine.Options{})
	var seen []bool // by sink 2's snapshot: final
	stop := live.SinkFunc(func(s *live.Snapshot) *results.Outcome {
		return &results.Outcome{Name: "guard", Status: results.OutcomeFail, Aborted: true}
	})
	after := live.SinkFunc(func(s *live.Snapshot) *results.Outcome {
		seen = append(seen, s.Final)
		return nil
	})
	start := time.Now()
	r := run(t, prog, engine.RunOptions{Live: []live.Sink{stop, after}})
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the run took %v: the 30 s scenario was not stopped", took)
	}
	if r.Status != results.StatusAborted || r.Scenarios[0].Status != results.StatusAborted {
		t.Errorf("status %s / %s, want aborted", r.Status, r.Scenarios[0].Status)
	}
	if len(seen) != 2 || seen[0] || !seen[1] {
		t.Errorf("the second sink saw %v (final flags), want the stopping second and the final snapshot", seen)
	}
}

// viewer is a sink that does not read the generator's figures.
type viewer struct{ generators []results.Generator }

func (v *viewer) Live(s *live.Snapshot) *results.Outcome {
	v.generators = append(v.generators, s.Scenario.Generator)
	return nil
}

func (v *viewer) ReadsGenerator() bool { return false }

// TestLiveGeneratorOnlyWhenRead: when no sink reads them, the snapshots
// leave the generator's figures out, all but the final one.
func TestLiveGeneratorOnlyWhenRead(t *testing.T) {
	prog := compile(t, `
version: 1
name: live-viewer
mixes:
  m:
    - {name: a, sql: SELECT 1, hold: 5ms}
scenarios:
  - {name: s, users: 2, duration: 2500ms}
`, engine.Options{})
	var v viewer
	run(t, prog, engine.RunOptions{Live: []live.Sink{&v}})
	n := len(v.generators)
	if n < 2 {
		t.Fatalf("%d snapshots", n)
	}
	for i, g := range v.generators[:n-1] {
		if g != (results.Generator{}) {
			t.Errorf("snapshot %d: generator figures %+v, read by no sink", i, g)
		}
	}
	if v.generators[n-1].Cores == 0 {
		t.Errorf("the final snapshot has no generator figures: %+v", v.generators[n-1])
	}
}
