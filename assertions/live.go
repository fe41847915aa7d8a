package assertions

import (
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// liveAbort records the abort_on_fail evaluation that stopped the run, so
// that [Set.Evaluate] marks that assertion's outcome Aborted.
type liveAbort struct {
	c        *compiled
	scenario string
	elapsed  time.Duration
	actual   string
}

// Live returns nil when no assertion has abort_on_fail; otherwise a sink of
// the run's live stream that judges each second's snapshot: the scenario's
// figures so far (s.Scenario, a partial results.Scenario) at s.Scenario.Elapsed
// into the scenario, with the run's target and pool (s.Run).
//
// It stops the scenario with the failing outcome (Aborted=true) when an
// abort_on_fail assertion that applies to this scenario evaluates false after
// its `after` (default 0) has passed. Checks that cannot be decided live
// (they reference baseline, or recovery before it is measured) and checks
// that error do not abort; the final snapshot is left to [Set.Evaluate].
// The sink keeps its own expr VM: the engine calls it from one goroutine.
// One call costs a few microseconds (BenchmarkLive).
func (s *Set) Live() live.Sink {
	var abortOnFail []*compiled
	for _, c := range s.items {
		if c.a.AbortOnFail {
			abortOnFail = append(abortOnFail, c)
		}
	}
	if len(abortOnFail) == 0 {
		return nil
	}
	machine := s.evaluator()
	return live.SinkFunc(func(snap *live.Snapshot) *results.Outcome {
		if snap.Final {
			return nil
		}
		sc, elapsed := snap.Scenario, snap.Scenario.Elapsed
		var env Env
		built := false
		for _, c := range abortOnFail {
			if !c.appliesTo(sc.Name) || elapsed < c.a.After.D() {
				continue
			}
			if !built {
				env = newEnv(snap.Run, sc, nil)
				env.Elapsed = elapsed
				built = true
			}
			o := evaluate(machine, c, &env, sc, nil, reasonNoBaseline)
			if o.Status != results.OutcomeFail {
				continue
			}
			o.Aborted = true
			o.Reason = "stopped the run " + humanize.Duration(elapsed) + " into the scenario"
			s.mu.Lock()
			if s.abort == nil {
				s.abort = &liveAbort{c: c, scenario: sc.Name, elapsed: elapsed, actual: o.Actual}
			}
			s.mu.Unlock()
			return &o
		}
		return nil
	})
}

// markAborted marks the outcome of the assertion that stopped the run. It
// failed live, so it fails here whatever the scenario's final figures say;
// Reason keeps the values it saw then.
func (s *Set) markAborted(c *compiled, o *results.Outcome) {
	s.mu.Lock()
	a := s.abort
	s.mu.Unlock()
	if a == nil || a.c != c || (a.scenario != o.Scenario && !c.runLevel) {
		return
	}
	o.Aborted = true
	o.Status = results.OutcomeFail
	o.Reason = "stopped the run " + humanize.Duration(a.elapsed) + " into the scenario, when " + a.actual
}
