package measure

import (
	"time"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

// Tick is what one sample interval holds for the recovery measure: the
// waits completed in it and how many of them were longer than the recovery
// threshold, the operations that ended in it and how many failed. A wait
// is a SQL operation's acquire, or an HTTP request's whole response time:
// the service's own pool wait is inside it, and only the service sees it.
type Tick struct {
	Waits, Slow, Ops, Failed int64
}

// Note counts one operation's result: a cancelled one not at all, a
// dropped arrival as a failed operation with no wait; a wait longer than
// slow is slow.
func (t *Tick) Note(res *tally.Result, slow time.Duration) {
	switch res.Category {
	case tally.Cancelled:
		return
	case tally.Dropped:
		t.Ops++
		t.Failed++
		return
	}
	switch {
	case res.Request:
		t.Waits++
		if res.Total > slow {
			t.Slow++
		}
	case res.Acquired || res.Acquire > 0:
		t.Waits++
		if res.Acquire > slow {
			t.Slow++
		}
	}
	t.Ops++
	if res.Category >= 0 {
		t.Failed++
	}
}

// Add sums u into t.
func (t *Tick) Add(u Tick) {
	t.Waits += u.Waits
	t.Slow += u.Slow
	t.Ops += u.Ops
	t.Failed += u.Failed
}

// RecoverySettle is how long the pool must stay healthy after its last
// stressed interval to count as recovered (docs/metrics.md).
const RecoverySettle = 500 * time.Millisecond

// Recovery measures the time from the end of a stage (or a fault)
// until the pool is healthy again, at the resolution of the pool samples
// that feed it (Add). A sample interval is stressed when the pool was
// exhausted for at least half of it, more than 5% of the waits completed
// in it (acquires, HTTP requests: Tick) were longer than the recovery
// threshold (the interval's wait p95 is above it), or more than 5% of the operations
// that ended in it failed. Measured from the stage's start on:
//
//   - never stressed: nothing to recover from (RecoveryNotStressed);
//   - otherwise recovery is the end of the last stressed interval before
//     the pool first stayed healthy for RecoverySettle after the stage's end,
//     minus the stage's end (0 when the pool was healthy from the end on);
//     a stress after that is a new incident, not a failed recovery. If the
//     pool never settled before the scenario ended, it did not recover
//     (RecoveryNotRecovered);
//   - a scenario that stopped before the stage's end did not reach it
//     (RecoveryNotReached).
//
// So a sustained overload can never read as recovered: it stays stressed.
type Recovery struct {
	Start, End time.Duration // offsets of the stage's (or fault's) start and end
	Settle     time.Duration // how long the pool must stay healthy: RecoverySettle
	stressed   bool
	lastStress time.Duration // end of the last stressed interval
	lastAt     time.Duration // end of the last interval seen
	settled    bool          // the pool stayed healthy for settle after the stage's end
	healthyAt  time.Duration // when it became healthy for good, once settled
}

// Add takes one sample interval ending at offset at.
func (r *Recovery) Add(at time.Duration, exhausted bool, t Tick) {
	r.lastAt = at
	if at <= r.Start {
		return
	}
	if r.settled {
		return // recovered; later stress is a new incident
	}
	if exhausted || float64(t.Slow) > 0.05*float64(t.Waits) || float64(t.Failed) > 0.05*float64(t.Ops) {
		r.stressed = true
		r.lastStress = at
	}
	if since := max(r.lastStress, r.End); r.stressed && at-since >= r.Settle {
		r.settled, r.healthyAt = true, since
	}
}

// Finish returns the measurement once the scenario's sampling has ended.
func (r *Recovery) Finish() *results.Recovery {
	out := &results.Recovery{Settle: r.Settle}
	switch {
	case r.lastAt < r.End:
		out.Status = results.RecoveryNotReached
	case !r.stressed:
		out.Status = results.RecoveryNotStressed
	case r.settled:
		out.Status = results.RecoveryRecovered
		out.Duration = r.healthyAt - r.End
	default:
		out.Status = results.RecoveryNotRecovered
		out.Duration = r.lastAt - r.End
	}
	return out
}
