package assertions

import (
	"time"

	"github.com/planrun/planrun/internal/humanize"
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

// Live returns nil when no assertion has abort_on_fail; otherwise a function
// the engine calls once a second with the scenario's figures so far (sc is a
// partial results.Scenario; elapsed = time since the scenario started).
//
// It returns abort=true and the failing outcome (Aborted=true) when an
// abort_on_fail assertion that applies to this scenario evaluates false after
// its `after` (default 0) has passed. Checks that cannot be decided live
// (they reference baseline, or recovery before it is measured) and checks
// that error do not abort. The function keeps its own expr VM: call it from
// one goroutine. One call costs a few microseconds (BenchmarkLive).
func (s *Set) Live(run *results.Run) func(sc *results.Scenario, elapsed time.Duration) (abort bool, o results.Outcome) {
	var live []*compiled
	for _, c := range s.items {
		if c.a.AbortOnFail {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil
	}
	machine := s.evaluator()
	return func(sc *results.Scenario, elapsed time.Duration) (bool, results.Outcome) {
		var env Env
		built := false
		for _, c := range live {
			if !c.appliesTo(sc.Name) || elapsed < c.a.After.D() {
				continue
			}
			if !built {
				env = newEnv(run, sc, nil)
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
			return true, o
		}
		return false, results.Outcome{}
	}
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
