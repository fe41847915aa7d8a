package assertions

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/planrun/planrun/results"
)

// Skip reasons.
const (
	reasonNoBaseline         = "no baseline given (--baseline)"
	reasonNoRecovery         = "scenario measures no recovery: set recovery_after"
	reasonNoBaselineRecovery = "the baseline's scenario measures no recovery"
	reasonScenarioSkipped    = "the scenario was skipped"
)

// Evaluate evaluates each assertion once per scenario it applies to (in
// scenario order, then assertion order), appends the outcomes to
// run.Assertions and sets run.Verdict. baseline may be nil.
//
// An assertion that applies to no scenario of the run gets one skipped
// outcome with an empty Scenario. Call Evaluate once per run: it appends.
func (s *Set) Evaluate(run *results.Run, baseline *results.Run) {
	machine := &vm.VM{}
	var judged []judgement
	ran := map[*compiled]bool{}
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		base, missing := baselineScenario(baseline, sc.Name)
		env := newEnv(run, sc, base)
		for _, c := range s.items {
			if !c.appliesTo(sc.Name) {
				continue
			}
			ran[c] = true
			o := evaluate(machine, c, &env, sc, base, missing)
			s.markAborted(c, &o)
			judged = append(judged, judgement{c, o})
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
	for _, j := range judged {
		run.Assertions = append(run.Assertions, j.o)
	}
	run.Verdict = s.verdict(run, judged)
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
	}
}

// evaluate runs one assertion on one scenario's environment. base is the
// baseline's scenario (nil: skipped when the check needs it, for the reason
// noBase).
func evaluate(machine *vm.VM, c *compiled, env *Env, sc *results.Scenario, base *results.Scenario, noBase string) results.Outcome {
	o := c.outcome(sc.Name)
	skip := func(reason string) results.Outcome {
		o.Status, o.Reason = results.OutcomeSkipped, reason
		return o
	}
	switch {
	case sc.Status == results.StatusSkipped:
		return skip(reasonScenarioSkipped)
	case c.references("baseline") && base == nil:
		return skip(noBase)
	case (c.references("recovery") || c.references("recovered")) && sc.Recovery == nil:
		return skip(reasonNoRecovery)
	case (c.references("baseline.recovery") || c.references("baseline.recovered")) && base.Recovery == nil:
		return skip(reasonNoBaselineRecovery)
	}
	o.Actual = formatActual(c.refs, env)
	out, err := machine.Run(c.program, *env)
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

// runtimeMessage drops expr's source snippet (it shows the rewritten source).
func runtimeMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}
