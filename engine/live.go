package engine

import (
	"maps"
	"slices"
	"time"

	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// secondDone hands the second that just ended (its series point p, at el
// into the scenario) to the run's live sinks; true stops the scenario (an
// abort_on_fail assertion failed). Without sinks it does nothing.
func (r *scenarioRun) secondDone(p results.Point, el time.Duration) bool {
	if !r.env.hasLive() {
		return false
	}
	partial := &results.Scenario{
		Name: r.sc.Name, Mix: r.sc.Mix.Name, HTTPOnly: r.sc.Mix.httpOnly(), Planned: r.sc.Shape.Duration(),
		MaxUsers: r.peak, Warmup: min(r.sc.Warmup, el),
		ErrorsBy: map[string]int64{},
	}
	if r.env.liveReadsGenerator() {
		partial.Generator = r.generator(false)
	}
	r.fill(partial, el)
	s := r.snapshot(partial, p, el, false)
	s.Histograms.Lateness = r.self.Lateness() // a copy, the snapshot's own
	if o := r.publish(s); o != nil {
		r.abort = o
		r.env.logf("scenario %s: aborted by assertion %q (%s)", r.sc.Name, o.Name, o.Actual)
		return true
	}
	return false
}

// publishFinal hands the scenario's final snapshot to the run's live sinks:
// out holds its results as the load ended, p the last series step.
func (r *scenarioRun) publishFinal(out *results.Scenario, p results.Point, el time.Duration) {
	if !r.env.hasLive() {
		return
	}
	// The sinks may keep it; out is still being completed.
	sc := *out
	sc.ErrorsBy = maps.Clone(out.ErrorsBy)
	sc.Operations = slices.Clone(out.Operations)
	s := r.snapshot(&sc, p, el, true)
	s.Histograms.Lateness = r.self.Lateness()
	r.publish(s)
}

// snapshot is the live stream's value for the scenario's results sc so far.
func (r *scenarioRun) snapshot(sc *results.Scenario, p results.Point, el time.Duration, final bool) *live.Snapshot {
	c := r.col
	s := &live.Snapshot{
		Run: r.env.run, Scenario: sc, Point: p,
		Index: r.index, Count: len(r.env.prog.scenarios),
		Final: final, Warmup: el < r.sc.Warmup,
		Users: len(r.users), MaxUsers: r.sc.concurrency(),
	}
	for i := range r.sc.Mix.Ops {
		acq, qry, op := c.total.Histograms(i)
		s.Histograms.Operations = append(s.Histograms.Operations, live.Operation{Acquire: acq, Query: qry, Op: op})
	}
	capacity := r.env.capacity()
	for i := range c.replicas {
		st := c.replicas[i].last
		s.Pools = append(s.Pools, live.Pool{Replica: r.replicas.numbers[i],
			Open: st.Total, InUse: st.InUse, Idle: st.Idle, Waiting: st.Waiting, Capacity: capacity})
	}
	if o := r.open; o != nil {
		s.Users = int(o.inFlight.Load())
		s.MaxUsers = o.model.MaxInFlight
		s.Dropped = c.lastDropped
		if !final {
			s.TargetRate = o.model.rateAt(el)
		}
	}
	if final {
		s.Users = 0
	}
	for _, w := range c.faults {
		started, ended := w.state.started.Load(), w.state.ended.Load()
		s.Faults = append(s.Faults, live.Fault{Index: w.f.Index + 1, Kind: w.f.Kind, What: w.f.What,
			Active: started >= 0 && ended < 0})
	}
	return s
}

// publish hands s to every live sink of the run, in order, and returns the
// first outcome one of them stops the scenario with (nil: go on).
func (r *scenarioRun) publish(s *live.Snapshot) (stop *results.Outcome) {
	for _, sink := range r.env.opts.Live {
		if sink == nil {
			continue
		}
		if o := sink.Live(s); o != nil && stop == nil && !s.Final {
			stop = o
		}
	}
	return stop
}

// liveReadsGenerator reports whether a live sink of the run reads the
// partial scenario's Generator figures: one that does not say it does not
// ([live.GeneratorReader]).
func (e *runEnv) liveReadsGenerator() bool {
	for _, s := range e.opts.Live {
		if s == nil {
			continue
		}
		if g, ok := s.(live.GeneratorReader); !ok || g.ReadsGenerator() {
			return true
		}
	}
	return false
}

// hasLive reports whether the run has a live sink.
func (e *runEnv) hasLive() bool {
	for _, s := range e.opts.Live {
		if s != nil {
			return true
		}
	}
	return false
}
