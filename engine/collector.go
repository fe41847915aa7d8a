package engine

import (
	"time"

	"github.com/planrun/planrun/engine/measure"
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

	series *measure.Series

	// pools samples every replica's pool together; replicas each one.
	pools    poolSamples
	replicas []poolSamples
	// levels accounts the pools' busy levels exactly, for utilization.
	levels   *measure.Levels
	rec      *measure.Recovery
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
		series: measure.NewSeries(seriesInterval),
		levels: measure.NewLevels(capacity, replicas, sc.Warmup),
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
		c.rec = &measure.Recovery{Start: start, End: sc.Shape.StageEnd(sc.RecoveryAfter), Settle: measure.RecoverySettle}
	}
	for _, f := range sc.Faults {
		c.faults = append(c.faults, &faultWatch{f: f, state: newFaultState(),
			rec: &measure.Recovery{Settle: measure.RecoverySettle}})
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
	var t measure.Tick
	for _, r := range c.recs {
		t.Add(r.takeTick())
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
		c.rec.Add(at, exhausted, t)
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
		c.levels.Created(i, p.Created().Sub(start))
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
	c.series.Add(p)
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
