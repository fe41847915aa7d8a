package engine

import (
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

// Sampling cadence: the pool is sampled every sampleInterval; the users'
// windows are collected into the time series every seriesInterval.
const (
	sampleInterval = 100 * time.Millisecond
	seriesInterval = time.Second
)

// collector merges the recorders' measurements and samples the pool. It runs
// on one goroutine (the scenario's sampler), so its state needs no lock; it
// touches the recorders only through their methods.
type collector struct {
	sc     *scenario
	recs   []*recorder // fixed for the scenario; user i records into recs[i % len]
	warmup time.Duration

	spare *tally.Scenario // swapped into the next recorder collected
	sec   *tally.Scenario // the current series step
	// total is the whole scenario after the warm-up, with how late each
	// pool sample came after the previous one (beyond sampleInterval: the
	// generator's own starvation, generator_lag).
	total *tally.Scenario

	rare rare // merged from the recorders

	lastTick time.Duration

	series seriesBuilder

	// pools samples every replica's pool together; replicas each one.
	pools    poolSamples
	replicas []poolSamples
	// levels accounts the pools' busy levels exactly, for utilization.
	levels   *poolLevels
	rec      *recoveryTracker
	faults   []*faultWatch // one per scheduled fault, in plan order
	waitMax  int           // max waiting within the current series step
	inUseMax int           // max in use within the current series step
	// An open model's in-flight samples (see sampleInFlight), and the
	// dropped arrivals of the last series step closed.
	stepInFlight, inFlightMax int
	inFlightSum, inFlightN    int64
	lastDropped               int64
}

// newCollector returns the collector of a scenario run on replicas pools
// of capacity connections each.
func newCollector(sc *scenario, capacity, replicas int) *collector {
	ops := make([]tally.Op, len(sc.Mix.Ops))
	for i, op := range sc.Mix.Ops {
		ops[i] = tally.Op{Name: op.Name, Weight: op.Weight}
	}
	open := sc.Open != nil // only an open model measures start lag
	c := &collector{
		sc: sc, warmup: sc.Warmup,
		spare: tally.New(ops, open), sec: tally.New(ops, open), total: tally.New(ops, open),
		series: seriesBuilder{step: seriesInterval},
		levels: newPoolLevels(capacity, replicas, sc.Warmup),
	}
	c.replicas = make([]poolSamples, replicas)
	for range recorderCount(sc.concurrency()) {
		c.recs = append(c.recs, newRecorder(tally.New(ops, open), sc.RecoveryThreshold))
	}
	if sc.RecoveryAfter > 0 {
		var start time.Duration // of stage RecoveryAfter
		if sc.RecoveryAfter > 1 {
			start = sc.Shape.StageEnd(sc.RecoveryAfter - 1)
		}
		c.rec = &recoveryTracker{
			start:     start,
			end:       sc.Shape.StageEnd(sc.RecoveryAfter),
			threshold: sc.RecoveryThreshold,
			settle:    recoverySettle,
		}
	}
	for _, f := range sc.Faults {
		c.faults = append(c.faults, &faultWatch{f: f, state: newFaultState(),
			rec: &recoveryTracker{threshold: sc.RecoveryThreshold, settle: recoverySettle}})
	}
	return c
}

// recorderFor returns the recorder of user id.
func (c *collector) recorderFor(id int) *recorder {
	return c.recs[id%len(c.recs)]
}

// sample takes one sample of every replica's pool covering (at-SampleInterval, at].
func (c *collector) sample(at time.Duration, sts []pool.Stats) {
	if c.lastTick > 0 && at > c.warmup {
		c.total.AddSampleLag(at - c.lastTick - sampleInterval)
	}
	c.lastTick = at
	var t tick
	for _, r := range c.recs {
		t.add(r.takeTick())
	}
	// Exhausted for at least half the interval: a sustained queue. A brief
	// one (random arrivals on a healthy pool make them) is not stress. With
	// several replicas, one exhausted replica is: its users wait.
	exhausted := false
	for i, st := range sts {
		exhausted = exhausted || st.ExhaustedTotal-c.replicas[i].last.ExhaustedTotal >= sampleInterval/2
	}
	st := sumStats(sts)
	c.waitMax = max(c.waitMax, st.Waiting)
	c.inUseMax = max(c.inUseMax, st.InUse)
	if c.rec != nil {
		c.rec.add(at, exhausted, t)
	}
	for _, f := range c.faults {
		f.sample(at, exhausted, t)
	}
	measured := at > c.warmup
	c.pools.add(st, measured)
	for i := range sts {
		c.replicas[i].add(sts[i], measured)
	}
}

// startLevels starts the busy levels' accounting of pools (in replica
// order), created before the scenario's start.
func (c *collector) startLevels(start time.Time, pools []*pool.Pool) {
	for i, p := range pools {
		c.levels.origin[i] = p.Created().Sub(start)
	}
}

// poolSamples are the samples of one pool (or of every replica's pools
// together) after the warm-up: the peak of open connections; and the
// pool's state at the last sample and its timeouts at the warm-up's end.
// (Utilization is not sampled: see poolLevels.)
type poolSamples struct {
	maxOpen int
	last    pool.Stats
	// warmTimeouts is the pool's timeout count when the warm-up ended.
	warmTimeouts int64
}

// add takes one sample; measured: it is past the warm-up.
func (p *poolSamples) add(st pool.Stats, measured bool) {
	if measured {
		p.maxOpen = max(p.maxOpen, st.Total, st.MaxOpen)
	}
	p.last = st
}

// endWarmup notes the pool's state at the warm-up's end.
func (p *poolSamples) endWarmup(st pool.Stats) {
	p.warmTimeouts = st.Timeouts
	p.last = st
}

// exhaustion is the exhaustion after the warm-up, from the pool's own
// accounting (st is its final state).
func (p *poolSamples) exhaustion(st pool.Stats) results.Exhaustion {
	return results.Exhaustion{
		Events:   int(st.ExhaustionEvents),
		Total:    st.ExhaustedTotal,
		Longest:  st.ExhaustedLongest,
		Timeouts: st.Timeouts - p.warmTimeouts,
	}
}

// collect takes every recorder's tally and merges it into the current
// step. (Merges of one mix's tallies cannot fail: their histograms have one
// range, and no count of one run comes near 2^63.)
func (c *collector) collect() {
	for _, r := range c.recs {
		w := r.swap(c.spare)
		if !w.Empty() {
			_ = c.sec.Merge(w)
			w.Reset()
		}
		c.spare = w
		c.rare.merge(r.takeRare())
	}
}

// merge adds what one recorder noted.
func (r *rare) merge(from rare) {
	for k, v := range from.samples {
		if r.samples == nil {
			r.samples = map[string]string{}
		}
		if _, ok := r.samples[k]; !ok {
			r.samples[k] = v
		}
	}
	for k, v := range from.sqlstates {
		if r.sqlstates == nil {
			r.sqlstates = map[string]int64{}
		}
		r.sqlstates[k] += v
	}
	r.leakCount += from.leakCount
	for _, l := range from.leaks {
		if len(r.leaks) < maxLeakDetails {
			r.leaks = append(r.leaks, l)
		}
	}
}

// step closes one series step at offset at with users active users and
// returns its point. A warm-up step is marked so and left out of the
// scenario's totals.
func (c *collector) step(at time.Duration, users int, warmup bool) results.Point {
	c.collect()
	p := results.Point{
		T:        at,
		Users:    users,
		InUse:    c.inUseMax,
		Idle:     c.pools.last.Idle,
		Total:    c.pools.last.Total,
		Waiting:  c.waitMax,
		InFlight: c.stepInFlight,
		Warmup:   warmup,
	}
	c.sec.Point(&p)
	c.lastDropped = c.sec.Dropped()
	c.series.add(p)
	if !p.Warmup {
		_ = c.total.Merge(c.sec) // cannot fail: see collect
	}
	c.sec.Reset()
	c.inUseMax, c.waitMax, c.stepInFlight = 0, 0, 0
	return p
}

// endWarmup notes the pools' state at the warm-up's end; their own
// exhaustion figures restart there (see scenarioRun.drive).
func (c *collector) endWarmup(sts []pool.Stats) {
	c.pools.endWarmup(sumStats(sts))
	for i := range sts {
		c.replicas[i].endWarmup(sts[i])
	}
}

// exhaustion is the scenario's exhaustion after the warm-up over every
// replica (sts are the pools' final states), and each replica's. The
// totals sum the replicas' events, time and timeouts; the longest is the
// longest of any.
func (c *collector) exhaustion(sts []pool.Stats) (total results.Exhaustion, each []results.Exhaustion) {
	for i, st := range sts {
		e := c.replicas[i].exhaustion(st)
		each = append(each, e)
		total.Events += e.Events
		total.Total += e.Total
		total.Longest = max(total.Longest, e.Longest)
		total.Timeouts += e.Timeouts
	}
	return total, each
}

// recoverySettle is how long the pool must stay healthy after its last
// stressed interval to count as recovered (docs/metrics.md).
const recoverySettle = 500 * time.Millisecond

// recoveryTracker measures the time from the end of a stage (or a fault)
// until the pool is healthy again, at sample resolution (SampleInterval). A
// sample interval is stressed when the pool was exhausted for at least half
// of it, more than 5% of the acquires completed in it waited longer than
// threshold (the interval's acquire p95 is above it), or more than 5% of the
// operations that ended in it failed. Measured from the stage's start on:
//
//   - never stressed: nothing to recover from (RecoveryNotStressed);
//   - otherwise recovery is the end of the last stressed interval before
//     the pool first stayed healthy for recoverySettle after the stage's end,
//     minus the stage's end (0 when the pool was healthy from the end on);
//     a stress after that is a new incident, not a failed recovery. If the
//     pool never settled before the scenario ended, it did not recover
//     (RecoveryNotRecovered);
//   - a scenario that stopped before the stage's end did not reach it
//     (RecoveryNotReached).
//
// So a sustained overload can never read as recovered: it stays stressed.
type recoveryTracker struct {
	start, end time.Duration // offsets of the stage's start and end
	threshold  time.Duration
	settle     time.Duration
	stressed   bool
	lastStress time.Duration // end of the last stressed interval
	lastAt     time.Duration // end of the last interval seen
	settled    bool          // the pool stayed healthy for settle after the stage's end
	healthyAt  time.Duration // when it became healthy for good, once settled
}

// add takes one sample interval ending at offset at.
func (r *recoveryTracker) add(at time.Duration, exhausted bool, t tick) {
	r.lastAt = at
	if at <= r.start {
		return
	}
	if r.settled {
		return // recovered; later stress is a new incident
	}
	if exhausted || float64(t.slow) > 0.05*float64(t.acquires) || float64(t.failed) > 0.05*float64(t.ops) {
		r.stressed = true
		r.lastStress = at
	}
	if since := max(r.lastStress, r.end); r.stressed && at-since >= r.settle {
		r.settled, r.healthyAt = true, since
	}
}

// finish returns the measurement once the scenario's sampling has ended.
func (r *recoveryTracker) finish() *results.Recovery {
	out := &results.Recovery{Settle: r.settle}
	switch {
	case r.lastAt < r.end:
		out.Status = results.RecoveryNotReached
	case !r.stressed:
		out.Status = results.RecoveryNotStressed
	case r.settled:
		out.Status = results.RecoveryRecovered
		out.Duration = r.healthyAt - r.end
	default:
		out.Status = results.RecoveryNotRecovered
		out.Duration = r.lastAt - r.end
	}
	return out
}

// seriesBuilder keeps the time series bounded: past results.MaxSeriesPoints
// it merges neighbouring points and doubles the step.
type seriesBuilder struct {
	points  []results.Point
	step    time.Duration
	pending results.Point
	npend   int
}

func (s *seriesBuilder) add(p results.Point) {
	per := int(s.step / seriesInterval)
	if s.npend == 0 {
		s.pending = p
	} else {
		s.pending = results.CombinePoints(s.pending, p, results.Consecutive)
	}
	s.npend++
	if s.npend < per {
		return
	}
	s.points = append(s.points, s.pending)
	s.npend = 0
	if len(s.points) > results.MaxSeriesPoints {
		merged := s.points[:0]
		for i := 0; i < len(s.points); i += 2 {
			if i+1 < len(s.points) {
				merged = append(merged, results.CombinePoints(s.points[i], s.points[i+1], results.Consecutive))
			} else {
				merged = append(merged, s.points[i])
			}
		}
		s.points = merged
		s.step *= 2
	}
}

// flush appends a partial last step.
func (s *seriesBuilder) flush() []results.Point {
	if s.npend > 0 {
		s.points = append(s.points, s.pending)
		s.npend = 0
	}
	return s.points
}
