package assertions

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/planrun/planrun/internal/exprbudget"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// Skip reasons.
const (
	reasonNoBaseline         = "no baseline given (--baseline)"
	reasonNoRecovery         = "scenario measures no recovery: set recovery_after or add faults"
	reasonNoBaselineRecovery = "the baseline's scenario measures no recovery"
)

// Evaluate judges run and returns the outcomes and the verdict; it changes
// neither run nor baseline (nil: no --baseline). The caller stores them:
//
//	run.Assertions, run.Verdict = set.Evaluate(run, baseline)
//
// A run-level assertion (one that reads only preflight.*, server.*,
// server_version, rtt, pool.* or driver) is evaluated once, with an empty
// Scenario; every other assertion once per scenario it applies to, in
// scenario order then assertion order, followed by the built-in checks that
// no plan assertion replaces for that scenario. An assertion that applies to
// no scenario of the run gets one skipped outcome with an empty Scenario.
//
// Each evaluation has a time budget (see [evaluator]): a check past it is
// an error outcome, and is not evaluated again.
func (s *Set) Evaluate(run *results.Run, baseline *results.Run) ([]results.Outcome, results.Verdict) {
	machine := s.evaluator()
	var judged []judgement
	ran := map[*compiled]bool{}
	runEnv := newEnv(run, nil, nil)
	for _, c := range s.items {
		if c.runLevel {
			ran[c] = true
			o := evaluate(machine, c, &runEnv, nil, nil, "")
			s.markAborted(c, &o)
			judged = append(judged, judgement{c, o})
		}
	}
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		base, missing := baselineScenario(baseline, sc.Name)
		env := newEnv(run, sc, base)
		u := s.limits.uncertaintyOf(sc)
		var less, more, calm *Env
		if u.band > 0 {
			lessSc, moreSc := u.ends(sc, leakThresholdOf(run, sc))
			lessEnv, moreEnv := newEnv(run, &lessSc, base), newEnv(run, &moreSc, base)
			less, more = &lessEnv, &moreEnv
		}
		if u.starved != "" {
			calmSc := unhurried(sc, leakThresholdOf(run, sc))
			calmEnv := newEnv(run, &calmSc, base)
			calm = &calmEnv
		}
		for _, c := range s.items {
			if c.runLevel || !c.appliesOn(sc) {
				continue
			}
			ran[c] = true
			o := evaluate(machine, c, &env, sc, base, missing)
			s.decide(machine, c, &o, u, less, more, calm)
			s.markAborted(c, &o)
			judged = append(judged, judgement{c, o})
		}
		for _, b := range s.builtins {
			if b.serviceOnly && sc.Service == nil || b.watchOnly && !sc.Watch {
				continue
			}
			if (sc.HTTPOnly || sc.Watch) && b.onHTTPOnly != nil {
				b = b.onHTTPOnly
			} else if sc.HTTPOnly && b.ownPoolRead(false) != "" {
				continue // planrun's own pool took no load there
			}
			if sc.Watch && b.watchRead() != "" { // a figure of the load: a watch runs none
				continue
			}
			if s.replaced(b, sc) {
				continue
			}
			o := evaluate(machine, b, &env, sc, base, missing)
			s.decide(machine, b, &o, u, less, more, calm)
			judged = append(judged, judgement{b, o})
		}
	}
	for _, c := range s.items {
		if ran[c] {
			continue
		}
		reason := "no scenario ran"
		if len(run.Scenarios) > 0 {
			reason = "applies to no scenario that ran (scenarios: " + strings.Join(c.a.Scenarios, ", ") + ")"
		}
		o := c.outcome("")
		o.Status, o.Reason = results.OutcomeSkipped, reason
		judged = append(judged, judgement{c, o})
	}
	outcomes := make([]results.Outcome, len(judged))
	for i, j := range judged {
		outcomes[i] = j.o
	}
	return outcomes, s.verdict(run, judged)
}

// replaced reports whether a plan assertion that applies to scenario sc
// reads the name the built-in check b covers. On a watch, one that also
// reads the load is not judged there, so it replaces nothing.
func (s *Set) replaced(b *compiled, sc *results.Scenario) bool {
	for _, c := range s.items {
		if !c.runLevel && c.appliesOn(sc) && c.references(b.covers) && (!sc.Watch || c.watchRead() == "") {
			return true
		}
	}
	return false
}

// judgement is one outcome and the assertion it came from.
type judgement struct {
	c *compiled
	o results.Outcome
}

// baselineScenario finds the baseline's scenario called name; missing says
// why there is none.
func baselineScenario(baseline *results.Run, name string) (sc *results.Scenario, missing string) {
	if baseline == nil {
		return nil, reasonNoBaseline
	}
	for i := range baseline.Scenarios {
		if baseline.Scenarios[i].Name == name {
			return &baseline.Scenarios[i], ""
		}
	}
	return nil, fmt.Sprintf("the baseline run has no scenario %q", name)
}

func (c *compiled) outcome(scenario string) results.Outcome {
	return results.Outcome{
		Name:     c.a.Name,
		Check:    c.a.Check.Src,
		Scenario: scenario,
		Severity: c.severity,
		Builtin:  c.builtin,
	}
}

// evaluator runs checks, each within a time budget. The expr VM cannot be
// interrupted, so every evaluation runs in a goroutine of its own and the
// caller waits at most the budget: past it the evaluation is abandoned
// (its goroutine left to finish on its own, with the VM it uses), the
// check marked overrun, and never evaluated again. A goroutine per check
// is cheap at the pace checks run (once at the end, once a second live).
type evaluator struct {
	machine *vm.VM
	budget  time.Duration
}

// evaluator returns an evaluator with the set's time budget.
func (s *Set) evaluator() *evaluator {
	b := s.timeout
	if b <= 0 {
		b = exprbudget.DefaultTimeout
	}
	return &evaluator{machine: &vm.VM{}, budget: b}
}

// errOverBudget is the error of a check past its time budget.
type errOverBudget struct {
	budget time.Duration
	now    bool // this evaluation went over, rather than an earlier one
}

func (e errOverBudget) Error() string {
	if e.now {
		return fmt.Sprintf("the check ran past its time budget of %s and was abandoned: expressions cannot be interrupted; make it cheaper", humanize.Duration(e.budget))
	}
	return fmt.Sprintf("the check ran past its time budget of %s earlier in the run and is not evaluated again: expressions cannot be interrupted; make it cheaper", humanize.Duration(e.budget))
}

// run evaluates c's program on env within the budget.
func (e *evaluator) run(c *compiled, env Env) (any, error) {
	if c.overrun.Load() {
		return nil, errOverBudget{budget: e.budget}
	}
	type result struct {
		out any
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned evaluation never blocks
	machine := e.machine
	c.meter.Reset() // the memory budget of this evaluation (exprbudget.MaxBytes)
	go func() {
		out, err := machine.Run(c.program, env)
		done <- result{out, err}
	}()
	timer := time.NewTimer(e.budget)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.out, r.err
	case <-timer.C:
		c.overrun.Store(true)
		e.machine = &vm.VM{} // the abandoned goroutine keeps the old one
		return nil, errOverBudget{budget: e.budget, now: true}
	}
}

// evaluate runs one assertion on one scenario's environment (sc nil: a
// run-level assertion on the run's context). base is the baseline's scenario
// (nil: skipped when the check needs it, for the reason noBase).
func evaluate(machine *evaluator, c *compiled, env *Env, sc *results.Scenario, base *results.Scenario, noBase string) results.Outcome {
	name := ""
	if sc != nil {
		name = sc.Name
	}
	o := c.outcome(name)
	if sc != nil {
		if status, reason := cannotJudge(c, env, sc, base, noBase); status != "" {
			o.Status, o.Reason = status, reason
			return o
		}
	}
	if reason := notMeasured(c, env, sc != nil); reason != "" {
		o.Status, o.Reason, o.Unmeasured = results.OutcomeSkipped, reason, true
		return o
	}
	o.Actual = formatActual(c.refs, env)
	if fa := formatFaultActual(c.faultRefs, env); fa != "" {
		o.Actual = strings.TrimPrefix(o.Actual+", "+fa, ", ")
	}
	out, err := machine.run(c, *env)
	if err != nil {
		o.Status, o.Reason = results.OutcomeError, runtimeMessage(err)
		return o
	}
	ok, isBool := out.(bool)
	switch {
	case !isBool:
		o.Status, o.Reason = results.OutcomeError, fmt.Sprintf("the check gave %v (%T), not true or false", out, out)
	case ok:
		o.Status = results.OutcomePass
	default:
		o.Status = results.OutcomeFail
	}
	return o
}

// cannotJudge says why an assertion cannot be judged on a scenario: skipped
// when what it reads was not measured there, error when a measurement would
// make it pass or fail for the wrong reason. It returns "" when it can.
func cannotJudge(c *compiled, env *Env, sc *results.Scenario, base *results.Scenario, noBase string) (results.OutcomeStatus, string) {
	readsRecovery := c.references("recovery") || c.references("recovered")
	readsBaseRecovery := c.references("baseline.recovery") || c.references("baseline.recovered")
	switch {
	case c.references("baseline") && base == nil:
		return results.OutcomeSkipped, noBase
	case readsRecovery && sc.Recovery == nil:
		return results.OutcomeSkipped, reasonNoRecovery
	case readsBaseRecovery && base.Recovery == nil:
		return results.OutcomeSkipped, reasonNoBaselineRecovery
	}
	if reason := watchReason(c, sc); reason != "" {
		return results.OutcomeSkipped, reason
	}
	if reason := httpOnlyReason(c, sc, base); reason != "" {
		return results.OutcomeSkipped, reason
	}
	if status, reason := faultJudgeable(c.faultRefs, sc); status != "" {
		return status, reason
	}
	if readsRecovery {
		switch r := sc.Recovery; r.Status {
		case results.RecoveryNotStressed:
			if r.AfterFault > 0 {
				return results.OutcomeError, fmt.Sprintf("the pool was never exhausted, slow nor failing after fault %d: "+
					"the fault did not test recovery; raise the load or the fault", r.AfterFault)
			}
			return results.OutcomeError, fmt.Sprintf("the pool was never exhausted nor slow during stage %d: "+
				"the load did not test recovery; raise the load", r.AfterStage)
		case results.RecoveryNotReached:
			if r.AfterFault > 0 {
				return results.OutcomeError, fmt.Sprintf("the scenario stopped before fault %d ended: recovery was not measured", r.AfterFault)
			}
			return results.OutcomeError, fmt.Sprintf("the scenario stopped before stage %d ended: recovery was not measured", r.AfterStage)
		}
	}
	if readsBaseRecovery {
		switch base.Recovery.Status {
		case results.RecoveryNotStressed, results.RecoveryNotReached:
			return results.OutcomeSkipped, "the baseline's scenario did not test recovery (" + string(base.Recovery.Status) + ")"
		}
	}
	for _, r := range c.refs {
		isBase, op, _, ok := opRef(r)
		if !ok {
			continue
		}
		switch {
		case !isBase && !hasOp(env.ByOperation, op):
			return results.OutcomeSkipped, fmt.Sprintf("mix %q of the scenario has no operation %q", sc.Mix, op)
		case isBase && !hasOp(env.Baseline.ByOperation, op):
			return results.OutcomeSkipped, fmt.Sprintf("the baseline's scenario has no operation %q", op)
		}
	}
	return "", ""
}

// notMeasured says why a figure c reads was not measured, or "" when all
// were: a preflight check that did not run (preflight.<check>), rtt
// without the preflight pings (0), or a check the engine could not make on the scenario
// or on the baseline's (Scenario.NotChecked; onScenario: env holds one).
// Such an outcome is skipped, never passed: the value it would read is
// incomplete (leaks without the server's count) or a zero standing for
// nothing.
func notMeasured(c *compiled, env *Env, onScenario bool) string {
	for _, pc := range preflightChecks(env.Preflight) {
		if pc.status == "" && c.references("preflight."+pc.name) {
			return "the preflight check " + pc.name + " did not run"
		}
	}
	if env.RTT == 0 && c.references("rtt") {
		return "rtt was not measured: the preflight pings did not run"
	}
	if !onScenario {
		return ""
	}
	for _, side := range []struct {
		prefix string
		sc     *results.Scenario
		whose  string
	}{{"", &env.Scenario, ""}, {"baseline.", &env.Baseline.Scenario, "the baseline's "}} {
		if reason := serviceNotMeasured(c, side.prefix, side.sc.Service); reason != "" {
			return side.whose + reason
		}
		for _, nc := range side.sc.NotChecked {
			for _, f := range nc.Figures {
				if c.references(side.prefix + f) {
					return fmt.Sprintf("%s%s was not fully measured: %scheck %s was not made: %s", side.prefix, f, side.whose, nc.Check, nc.Reason)
				}
			}
		}
	}
	return ""
}

// serviceNotMeasured says why the service figures c reads under prefix
// ("" or "baseline.") were not measured, or "": the scenario has no
// service (nil: no target.service, or a report of an older planrun), its
// backends were not found (the figures are zeros standing for nothing), or,
// for service.leaks, the check after the drain was not made (only the held
// leaks are counted).
func serviceNotMeasured(c *compiled, prefix string, s *results.Service) string {
	if !c.references(prefix + serviceRoot) {
		return ""
	}
	switch {
	case s == nil:
		return "scenario has no service figures (target.service): " + prefix + serviceRoot + ".* was not measured"
	case s.NotFound != "":
		return prefix + serviceRoot + ".* was not measured: " + s.NotFound
	case s.DrainNotChecked != "" && c.references(prefix+serviceRoot+".leaks"):
		return prefix + serviceRoot + ".leaks was not fully measured: the check after the drain was not made: " + s.DrainNotChecked
	}
	return ""
}

func hasOp(ops map[string]results.Operation, name string) bool {
	_, ok := ops[name]
	return ok
}

// runtimeMessage drops expr's source snippet (it shows the rewritten source).
func runtimeMessage(err error) string {
	var ob errOverBudget
	if errors.As(err, &ob) {
		return ob.Error()
	}
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}
