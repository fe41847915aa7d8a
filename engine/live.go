package engine

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/results"
)

// LiveSink receives a scenario's live figures while a plan runs (the CLI's
// --metrics-addr serves them to Prometheus). It is optional
// ([RunOptions.Live]); without one the engine does no live work at all.
//
// Scenario is called once a second from the scenario's sampler goroutine,
// never from a user's, and once more when the scenario has ended (Final
// set), with figures equal to its results. It must return quickly and must
// not block: the sampler waits for it. The snapshot is the sink's to keep;
// the engine never touches it again.
type LiveSink interface {
	Scenario(snap LiveSnapshot)
}

// LiveBuckets are the upper bounds, in seconds, of the fixed buckets of a
// [LiveHistogram]: 0.5 ms doubling up to 65.536 s (18 buckets); larger
// values fall in the implicit +Inf bucket.
var LiveBuckets = func() []float64 {
	out := make([]float64, 18)
	for i := range out {
		out[i] = 0.0005 * math.Pow(2, float64(i))
	}
	return out
}()

// LiveSnapshot is a scenario's figures at one moment. Every count is
// cumulative and, like the scenario's results, leaves out the warm-up:
// while Warmup is true they stay at zero. The final snapshot's counts equal
// the scenario's results (Ops, Errors, ErrorsBy, Dropped, Cancelled and each
// operation's Ops and Errors).
type LiveSnapshot struct {
	Scenario string
	Index    int           // the scenario's position in the run, from 1
	Mix      string        // the mix's name
	Model    results.Model // closed or open
	Elapsed  time.Duration
	// Warmup is true while the scenario is in its warm-up period.
	Warmup bool
	// Final is true for the last snapshot, taken once the scenario ended.
	Final bool

	Ops, Errors, Dropped, Cancelled int64
	// ErrorsBy counts the errors by category (results.ErrorCategories,
	// cancelled left out: see Cancelled); every category is present.
	ErrorsBy map[string]int64
	// Operations are the mix's operations, in plan order.
	Operations []LiveOperation

	// Pools are the scenario's pools, one per replica, at the last pool
	// sample (every 100 ms).
	Pools []LivePool
	// Users are the active users of a closed model, or an open model's
	// operations in flight. TargetRate is an open model's target rate now,
	// in arrivals per second (0 for a closed model).
	Users      int
	TargetRate float64
	// Lateness is how late the load generator's own 10 ms timer fired
	// (internal/selfwatch), over the whole scenario warm-up included: a
	// starved generator measures itself.
	Lateness LiveHistogram
	// Faults are the scenario's scheduled faults, in plan order.
	Faults []LiveFault
}

// LiveOperation is one operation of the mix.
type LiveOperation struct {
	Name               string
	Ops, Errors        int64
	Acquire, Query, Op LiveHistogram
}

// LiveHistogram is a cumulative histogram over [LiveBuckets]: Buckets[i]
// counts the values up to LiveBuckets[i] seconds (so it never decreases
// with i), Count all of them, Sum their total in seconds. Values are those
// of the engine's HdrHistograms, so a bound places a value within their
// precision (2 significant figures per operation).
type LiveHistogram struct {
	Count   uint64
	Sum     float64
	Buckets []uint64
}

// LivePool is one replica's pool.
type LivePool struct {
	Replica int // results.Replica.Index
	// Open, InUse, Idle are connections; Waiting are callers waiting for
	// one; Capacity is size + max_overflow.
	Open, InUse, Idle, Waiting, Capacity int
}

// LiveFault is one scheduled fault. Active is true from its start until it
// ended (an instantaneous fault is active while it is being applied).
type LiveFault struct {
	Index  int // from 1, as in the plan's order
	Kind   string
	What   string
	Active bool
}

// publishLive hands the scenario's figures to the run's live sink, if any.
// It runs on the scenario's sampler goroutine (the collector's), after a
// series step or the final collection; final marks the last call.
func (r *scenarioRun) publishLive(el time.Duration, final bool) {
	sink := r.env.opts.Live
	if sink == nil {
		return
	}
	c := r.col
	t := c.total
	s := LiveSnapshot{
		Scenario: r.sc.Name, Index: r.progress.Index, Mix: r.sc.Mix.Name,
		Model: results.ModelClosed, Elapsed: el, Warmup: el < r.sc.Warmup, Final: final,
		Ops: t.ops, Errors: t.errors, Dropped: t.dropped, Cancelled: t.cancelled,
		ErrorsBy: map[string]int64{},
		Users:    len(r.users),
	}
	for i, cat := range results.ErrorCategories {
		if i != cancelledCategory {
			s.ErrorsBy[cat] = t.errorsBy[i]
		}
	}
	for i, op := range r.sc.Mix.Ops {
		w := &t.perOp[i]
		s.Operations = append(s.Operations, LiveOperation{
			Name: op.Name, Ops: w.ops, Errors: w.errors,
			Acquire: liveHistogram(w.acquire, time.Nanosecond),
			Query:   liveHistogram(w.query, time.Nanosecond),
			Op:      liveHistogram(w.op, time.Nanosecond),
		})
	}
	capacity := r.env.capacity()
	for i := range c.replicas {
		st := c.replicas[i].last
		s.Pools = append(s.Pools, LivePool{Replica: r.replicas.numbers[i],
			Open: st.Total, InUse: st.InUse, Idle: st.Idle, Waiting: st.Waiting, Capacity: capacity})
	}
	if r.open != nil {
		s.Model = results.ModelOpen
		s.Users = int(r.open.inFlight.Load())
		if !final {
			s.TargetRate = r.open.model.rateAt(el)
		}
	}
	if final {
		s.Users = 0
	}
	s.Lateness = liveHistogram(r.self.Lateness(), time.Microsecond)
	for _, w := range c.faults {
		started, ended := w.state.started.Load(), w.state.ended.Load()
		s.Faults = append(s.Faults, LiveFault{Index: w.f.Index + 1, Kind: w.f.Kind, What: w.f.What,
			Active: started >= 0 && ended < 0})
	}
	sink.Scenario(s)
}

// liveHistogram counts h's values (in units of unit) into LiveBuckets.
func liveHistogram(h *hdrhistogram.Histogram, unit time.Duration) LiveHistogram {
	out := LiveHistogram{Buckets: make([]uint64, len(LiveBuckets))}
	if h == nil || h.TotalCount() == 0 {
		return out
	}
	per := unit.Seconds()
	b := 0
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		// A bar holds values From..To, equivalent within the histogram's
		// precision; its middle stands for them.
		v := float64(bar.From+bar.To) / 2 * per
		for b < len(LiveBuckets) && v > LiveBuckets[b] {
			b++
		}
		if b < len(LiveBuckets) {
			out.Buckets[b] += uint64(bar.Count)
		}
		out.Count += uint64(bar.Count)
		out.Sum += v * float64(bar.Count)
	}
	for i := 1; i < len(out.Buckets); i++ {
		out.Buckets[i] += out.Buckets[i-1]
	}
	return out
}
