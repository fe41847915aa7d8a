package results_test

import (
	"math"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
)

// TestCombinePoints: consecutive points keep the later levels and the
// step's peaks; concurrent points add every level; both add counts
// (saturated) and take the larger percentiles.
func TestCombinePoints(t *testing.T) {
	a := results.Point{T: 2 * time.Second, Users: 4, Ops: 10, Errors: 1, AcquireP95: 3 * time.Millisecond, OpP95: 9 * time.Millisecond,
		InUse: 3, Idle: 1, Total: 4, Waiting: 2, InFlight: 5, Warmup: true}
	b := results.Point{T: 3 * time.Second, Users: 6, Ops: 20, Errors: 2, AcquireP95: 2 * time.Millisecond, OpP95: 12 * time.Millisecond,
		InUse: 2, Idle: 3, Total: 5, Waiting: 1, InFlight: 7}
	got := results.CombinePoints(a, b, results.Consecutive)
	want := results.Point{T: 3 * time.Second, Users: 6, Ops: 30, Errors: 3, AcquireP95: 3 * time.Millisecond, OpP95: 12 * time.Millisecond,
		InUse: 3, Idle: 3, Total: 5, Waiting: 2, InFlight: 7}
	if got != want {
		t.Errorf("consecutive: %+v\nwant %+v", got, want)
	}
	got = results.CombinePoints(a, b, results.Concurrent)
	want = results.Point{T: 2 * time.Second, Users: 10, Ops: 30, Errors: 3, AcquireP95: 3 * time.Millisecond, OpP95: 12 * time.Millisecond,
		InUse: 5, Idle: 4, Total: 9, Waiting: 3, InFlight: 12}
	if got != want {
		t.Errorf("concurrent: %+v\nwant %+v", got, want)
	}
	big := results.Point{Ops: math.MaxInt64, Users: math.MaxInt}
	for _, rel := range []results.PointsAre{results.Consecutive, results.Concurrent} {
		if p := results.CombinePoints(big, big, rel); p.Ops != math.MaxInt64 {
			t.Errorf("%v: ops %d, want saturated at %d", rel, p.Ops, int64(math.MaxInt64))
		}
	}
	if p := results.CombinePoints(big, big, results.Concurrent); p.Users != math.MaxInt {
		t.Errorf("concurrent users %d, want saturated", p.Users)
	}
}
