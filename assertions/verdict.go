package assertions

import (
	"fmt"
	"slices"
	"strings"

	"github.com/planrun/planrun/results"
)

// Criteria of the production certificate, in report order. CriterionRun
// says whether the run itself completed; the others group the assertions by
// the names they read (an assertion reading several groups counts in each).
const (
	CriterionRun           = "run"
	CriterionConfiguration = "configuration" // pool.*, driver
	CriterionPreflight     = "preflight"     // the run's preflight checks; preflight.*, server.*, server_version
	CriterionPerformance   = "performance"   // acquire, query, op, hold, connect, throughput, rtt
	CriterionLoadCapacity  = "load capacity" // success_rate, errors, errors_by, utilization, exhaustion, ops, users; service.utilization, in_use, backends, capacity, headroom, lock_waits
	CriterionLeaks         = "leaks"         // leaks, connections; service.leaks, idle_in_transaction, connections
	CriterionRecovery      = "recovery"      // recovery, recovered
	// CriterionMeasurement (measurement.go) follows CriterionRun: whether
	// the load generator kept to its schedule; generator.*, generator_lag, lag.
	// CriterionOther holds assertions that read none of the above (only
	// `scenario` or `elapsed`); it appears only when there are such assertions.
	CriterionOther = "other"
)

// groupOfRoot maps the first part of a name (baseline.* counts as the name
// it compares) to its criterion.
var groupOfRoot = map[string]string{
	"pool":           CriterionConfiguration,
	"driver":         CriterionConfiguration,
	"preflight":      CriterionPreflight,
	"server":         CriterionPreflight,
	"server_version": CriterionPreflight,
	"acquire":        CriterionPerformance,
	"query":          CriterionPerformance,
	"op":             CriterionPerformance,
	"hold":           CriterionPerformance,
	"connect":        CriterionPerformance,
	"throughput":     CriterionPerformance,
	"rtt":            CriterionPerformance,
	"generator":      CriterionMeasurement,
	"generator_lag":  CriterionMeasurement,
	"lag":            CriterionMeasurement,
	"success_rate":   CriterionLoadCapacity,
	"errors":         CriterionLoadCapacity,
	"errors_by":      CriterionLoadCapacity,
	"utilization":    CriterionLoadCapacity,
	"exhaustion":     CriterionLoadCapacity,
	"ops":            CriterionLoadCapacity,
	"users":          CriterionLoadCapacity,
	"leaks":          CriterionLeaks,
	"connections":    CriterionLeaks,
	"recovery":       CriterionRecovery,
	"recovered":      CriterionRecovery,
}

// groupOfService maps the member of a service.* name (the service under
// test's figures) to its criterion.
var groupOfService = map[string]string{
	"backends":            CriterionLoadCapacity,
	"in_use":              CriterionLoadCapacity,
	"utilization":         CriterionLoadCapacity,
	"capacity":            CriterionLoadCapacity,
	"headroom":            CriterionLoadCapacity,
	"lock_waits":          CriterionLoadCapacity,
	"leaks":               CriterionLeaks,
	"idle_in_transaction": CriterionLeaks,
	"connections":         CriterionLeaks,
}

// assertionCriteria are the assertion-based criteria in report order, with
// an example that covers each when no assertion does.
var assertionCriteria = []struct{ name, example string }{
	{CriterionConfiguration, "pool.size == 20 && driver == \"pgx\""},
	{CriterionPreflight, ""},
	{CriterionPerformance, "acquire.p95 < 200ms"},
	{CriterionLoadCapacity, "success_rate > 0.95"},
	{CriterionLeaks, "leaks == 0"},
	{CriterionRecovery, "recovery < 1s"},
}

// groupsOf returns the criteria a check's names count in, in report order.
func groupsOf(refs []string) []string {
	in := map[string]bool{}
	for _, r := range refs {
		if _, _, member, ok := opRef(r); ok {
			r = member // operations.<name>.op.p95 counts as op.p95
		}
		root, rest, _ := strings.Cut(strings.TrimPrefix(r, "baseline."), ".")
		if root == serviceRoot { // service.leaks counts as leaks, service.utilization.max as load capacity
			root, _, _ = strings.Cut(rest, ".")
			if g, ok := groupOfService[root]; ok {
				in[g] = true
			}
			continue
		}
		if g, ok := groupOfRoot[root]; ok {
			in[g] = true
		}
	}
	var out []string
	if in[CriterionMeasurement] {
		out = append(out, CriterionMeasurement)
	}
	for _, c := range assertionCriteria {
		if in[c.name] {
			out = append(out, c.name)
		}
	}
	if len(out) == 0 {
		out = []string{CriterionOther}
	}
	return out
}

// verdict gives the run's final word. It fails (the plan's fail label)
// when the run did not complete or was not checked, a critical preflight
// check failed, or a decided critical outcome failed, could not be
// evaluated, or was skipped because a figure it reads was not measured
// (Outcome.Unmeasured). Otherwise, when a critical outcome is undecided
// (Outcome.Undecided: the run's own measurement error could have turned
// it), the verdict is inconclusive: not passed, labelled
// LabelInconclusive, with a reason naming those outcomes and who used the
// CPU. Otherwise it passes. Warnings never change it. A partial run
// (--scenario) that passes is labelled LabelPartialPass, never the plan's
// pass label.
func (s *Set) verdict(run *results.Run, judged []judgement) results.Verdict {
	decidedFail := false
	runC := results.Criterion{Name: CriterionRun, Status: results.CriterionPass}
	if run.Status != results.StatusCompleted {
		decidedFail = true
		runC.Status = results.CriterionFail
		r := "the run " + orUnknown(run.Status)
		if run.StatusReason != "" {
			r += ": " + run.StatusReason
		}
		runC.Reasons = []string{r + " (only a completed run can pass)"}
	} else {
		runC.Reasons = []string{fmt.Sprintf("all %d scenarios ran to their end", len(run.Scenarios))}
		if len(run.Scenarios) == 1 {
			runC.Reasons = []string{"the scenario ran to its end"}
		}
	}
	if p := run.Partial; p != nil {
		runC.Reasons = append(runC.Reasons, partialText(p))
	}
	if why := s.unchecked(run, judged); why != "" {
		decidedFail = true
		runC.Status = results.CriterionFail
		runC.Reasons = append(runC.Reasons, why+" (only a run that was checked can pass)")
	}
	v := results.Verdict{Criteria: []results.Criterion{runC}}

	var onGenerator []judgement
	for _, j := range judged {
		if contains(j.c.groups, CriterionMeasurement) {
			onGenerator = append(onGenerator, j)
		}
	}
	v.Criteria = append(v.Criteria, mergeMeasurement(s.limits.measurement(run), criterionOf(CriterionMeasurement, onGenerator), len(onGenerator) > 0))

	for _, ac := range assertionCriteria {
		var in []judgement
		for _, j := range judged {
			if contains(j.c.groups, ac.name) {
				in = append(in, j)
			}
		}
		c := criterionOf(ac.name, in)
		if ac.name == CriterionPreflight {
			c = mergePreflight(c, run.Preflight, len(in) > 0)
		} else if len(in) == 0 {
			c.Reasons = []string{"no assertion checks this, e.g. `" + ac.example + "`"}
		}
		v.Criteria = append(v.Criteria, c)
	}
	var other []judgement
	for _, j := range judged {
		if contains(j.c.groups, CriterionOther) {
			other = append(other, j)
		}
	}
	if len(other) > 0 {
		v.Criteria = append(v.Criteria, criterionOf(CriterionOther, other))
	}

	for _, ch := range run.Preflight {
		if ch.Critical && ch.Status == results.CheckFail {
			decidedFail = true
		}
	}
	var undecided []judgement
	for _, j := range judged {
		switch {
		case j.c.severity == results.SeverityWarning:
		case j.o.Undecided:
			undecided = append(undecided, j)
		case failsVerdict(j.o):
			decidedFail = true
		}
	}
	switch {
	case decidedFail:
		v.Label = s.fail
	case len(undecided) > 0:
		v.Inconclusive, v.Label, v.Reason = true, LabelInconclusive, undecidedReason(run, undecided)
	case run.Partial != nil:
		v.Pass, v.Label, v.Reason = true, LabelPartialPass, partialText(run.Partial)
	default:
		v.Pass, v.Label = true, s.pass
	}
	return v
}

// LabelPartialPass is the verdict's label when a partial run (--scenario)
// passed: only the whole plan can approve a pool for production.
const LabelPartialPass = "PASSED ON A PARTIAL RUN"

// partialText says which scenarios a partial run ran.
func partialText(p *results.Partial) string {
	return fmt.Sprintf("partial run: %d of the plan's %d scenarios (%s), so not an approval for production",
		len(p.Ran), p.Of, strings.Join(p.Ran, ", "))
}

// failsVerdict reports whether o, when critical, fails the verdict: it
// failed, could not be evaluated, or was skipped because a figure it reads
// was not measured.
func failsVerdict(o results.Outcome) bool {
	return o.Status == results.OutcomeFail || o.Status == results.OutcomeError ||
		(o.Status == results.OutcomeSkipped && o.Unmeasured)
}

// unchecked says why no critical check was evaluated on a scenario (none
// passed, failed or errored there), or "" when one was. Run-level checks
// (the configuration, preflight) do not count: they do not judge the load.
func (s *Set) unchecked(run *results.Run, judged []judgement) string {
	critical := 0
	for _, j := range judged {
		if j.c.severity == results.SeverityWarning || j.c.runLevel {
			continue
		}
		critical++
		if j.o.Status != results.OutcomeSkipped {
			return ""
		}
	}
	const none = "no critical check was evaluated on a scenario: "
	switch {
	case len(run.Scenarios) == 0:
		return none + "no scenario ran"
	case critical > 0:
		return none + "every one was skipped"
	case s.noBuiltins:
		return none + "the plan has no critical assertion on the scenarios' figures and turns the built-in checks off"
	}
	return none + "the plan has no critical assertion on the scenarios' figures"
}

// criterionOf summarises the outcomes of the assertions counting in one
// criterion: fail when a decided critical one failed, errored or was not
// measured, undecided when a critical one was undecided, warn when only
// warnings failed (or were undecided), pass when some passed, skipped
// otherwise.
func criterionOf(name string, in []judgement) results.Criterion {
	c := results.Criterion{Name: name, Status: results.CriterionSkipped}
	var fails, undecided, warns, passes, skips []string
	passedOn := map[*compiled][]string{}
	skippedOn := map[string][]string{} // "name: reason" → scenarios
	var passOrder []*compiled
	var skipOrder []string
	undecidedOn := map[string][]string{} // band → "name on scenario"s
	var bandOrder []string
	critical := false // a critical outcome is undecided
	for _, j := range in {
		o := j.o
		where := o.Name
		if o.Scenario != "" {
			where += " on " + o.Scenario
		}
		switch {
		case o.Undecided:
			if j.c.severity == results.SeverityWarning {
				where += " (warning)"
			}
			if _, ok := undecidedOn[o.Band]; !ok {
				bandOrder = append(bandOrder, o.Band)
			}
			undecidedOn[o.Band] = append(undecidedOn[o.Band], where)
			critical = critical || j.c.severity != results.SeverityWarning
		case failsVerdict(o):
			line := where + ": " + o.Actual
			switch {
			case o.Status == results.OutcomeError:
				line = where + ": could not evaluate: " + o.Reason
			case o.Status == results.OutcomeSkipped:
				line = where + ": skipped, not measured: " + o.Reason
			case o.Aborted:
				line += " (" + o.Reason + ")"
			}
			if j.c.severity == results.SeverityWarning {
				warns = append(warns, line+" (warning)")
			} else {
				fails = append(fails, line)
			}
		case o.Status == results.OutcomePass:
			if _, ok := passedOn[j.c]; !ok {
				passOrder = append(passOrder, j.c)
			}
			passedOn[j.c] = append(passedOn[j.c], o.Scenario)
		case o.Status == results.OutcomeSkipped:
			key := o.Name + ": skipped: " + o.Reason
			if _, ok := skippedOn[key]; !ok {
				skipOrder = append(skipOrder, key)
			}
			if o.Scenario != "" {
				skippedOn[key] = append(skippedOn[key], o.Scenario)
			}
		}
	}
	for _, pc := range passOrder {
		if pc.runLevel {
			passes = append(passes, pc.a.Name+": passed once for the run")
			continue
		}
		passes = append(passes, pc.a.Name+": passed on "+strings.Join(passedOn[pc], ", "))
	}
	for _, b := range bandOrder {
		undecided = append(undecided, "undecided: "+strings.Join(undecidedOn[b], ", ")+": "+b)
	}
	for _, k := range skipOrder {
		line := k
		if on := skippedOn[k]; len(on) > 0 {
			name, reason, _ := strings.Cut(k, ": skipped: ")
			line = name + ": skipped on " + strings.Join(on, ", ") + ": " + reason
		}
		skips = append(skips, line)
	}
	switch {
	case len(fails) > 0:
		c.Status = results.CriterionFail
	case critical:
		c.Status = results.CriterionUndecided
	case len(warns) > 0:
		c.Status = results.CriterionWarn
	case len(passes) > 0:
		c.Status = results.CriterionPass
	}
	c.Reasons = slices.Concat(c.Reasons, fails, undecided, warns, passes, skips)
	return c
}

// mergePreflight folds the run's preflight checks into the preflight
// criterion: a failed critical check fails it, a warning (or a failed
// non-critical check) makes it warn.
func mergePreflight(c results.Criterion, checks []results.Check, hasAssertions bool) results.Criterion {
	if len(checks) == 0 {
		if !hasAssertions {
			c.Reasons = []string{"no preflight checks ran"}
		}
		return c
	}
	var fails, warns, passed []string
	for _, ch := range checks {
		line := ch.Name
		if ch.Reason != "" {
			line += ": " + ch.Reason
		}
		switch {
		case ch.Status == results.CheckFail && ch.Critical:
			fails = append(fails, line)
		case ch.Status == results.CheckFail:
			warns = append(warns, line+" (non-critical check failed)")
		case ch.Status == results.CheckWarn:
			warns = append(warns, line)
		default:
			passed = append(passed, ch.Name)
		}
	}
	status := results.CriterionPass
	switch {
	case len(fails) > 0:
		status = results.CriterionFail
	case len(warns) > 0:
		status = results.CriterionWarn
	}
	reasons := append(fails, warns...)
	if len(passed) > 0 {
		reasons = append(reasons, "passed: "+strings.Join(passed, ", "))
	}
	c.Reasons = append(reasons, c.Reasons...)
	if status.Severity() > c.Status.Severity() {
		c.Status = status
	}
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orUnknown(status results.Status) string {
	if status == "" {
		return "did not report a status"
	}
	return "was " + string(status)
}
