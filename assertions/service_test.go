package assertions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// TestServiceNeedsTargetService: a check that reads service.* in a plan
// without target.service is a plan error at the name's position, with the
// hint, reported with the plan's other errors; with target.service it
// compiles.
func TestServiceNeedsTargetService(t *testing.T) {
	p := planWith("service.utilization.max < 0.9", "leeks == 0", "acquire.p95 < baseline.service.idle_in_transaction.max")
	es := compileErrors(t, p)
	if len(es) != 3 {
		t.Fatalf("got %d errors, want 3 (the two service names and the typo): %v", len(es), es)
	}
	for i, want := range []struct{ pos, msg string }{
		{"plan.yaml:10:12", "`service.utilization.max` is a figure of the service under test, but the plan has no target.service"},
		{"plan.yaml:11:12", "unknown name `leeks`"},
		{"plan.yaml:12:26", "`baseline.service.idle_in_transaction.max` is a figure of the service under test"},
	} {
		e := es[i]
		if e.Pos.String() != want.pos || !strings.Contains(e.Msg, want.msg) {
			t.Errorf("error %d = %s %q, want %s %q", i, e.Pos, e.Msg, want.pos, want.msg)
		}
		if i != 1 && e.Hint != "add target.service, or drop this assertion" {
			t.Errorf("error %d hint = %q", i, e.Hint)
		}
	}
	if es := compileErrors(t, withService(planWith("service.utilization.max < 0.9 && service.leaks == 0"))); es != nil {
		t.Errorf("with target.service: %v", es)
	}
}

// serviceScenario is a scenario whose service was watched: 12 backends at
// most, utilization 0.6 at most, one leak.
func serviceScenario(name string) results.Scenario {
	sc := scenario(name)
	sc.Service = &results.Service{
		ApplicationName: "svc", Capacity: 20, Interval: 100 * time.Millisecond, Samples: 3000,
		Backends:          results.ServiceLevel{Max: 12, Mean: 9.5, P95: 11},
		InUse:             results.ServiceLevel{Max: 12, Mean: 6.25, P95: 10},
		Utilization:       results.Utilization{Mean: 0.3125, P95: 0.5, Max: 0.6},
		IdleInTransaction: results.IdleInTransaction{Max: 1500 * time.Millisecond},
		Leaks:             1,
		DrainChecked:      true,
	}
	return sc
}

// TestServiceNotMeasured: a service figure is judged on a scenario whose
// service was watched; skipped as unmeasured, with the reason, where the
// scenario has no service record, where the service's backends were not
// found, and (service.leaks only) where the check after the drain was not
// made. A critical one then fails the verdict.
func TestServiceNotMeasured(t *testing.T) {
	const notFound = `no backend with application_name "svc": set target.service.application_name`
	notFoundSc := serviceScenario("peak")
	notFoundSc.Service.NotFound = notFound
	noDrain := serviceScenario("peak")
	noDrain.Service.DrainChecked, noDrain.Service.DrainNotChecked = false, "the monitor connection was lost: conn closed"
	for _, tc := range []struct {
		name   string
		sc     results.Scenario
		check  string
		status results.OutcomeStatus
		reason string
	}{
		{"watched, passes", serviceScenario("peak"), "service.utilization.max < 0.9", results.OutcomePass, ""},
		{"watched, fails", serviceScenario("peak"), "service.leaks == 0", results.OutcomeFail, ""},
		{"watched, duration", serviceScenario("peak"), "service.idle_in_transaction.max < 1s", results.OutcomeFail, ""},
		{"no service record", scenario("peak"), "service.utilization.max < 0.9", results.OutcomeSkipped,
			"scenario has no service figures (target.service): service.* was not measured"},
		{"not found", notFoundSc, "service.utilization.max < 0.9", results.OutcomeSkipped,
			"service.* was not measured: " + notFound},
		{"not found, leaks", notFoundSc, "service.leaks == 0", results.OutcomeSkipped,
			"service.* was not measured: " + notFound},
		{"drain not checked, leaks", noDrain, "service.leaks <= 1", results.OutcomeSkipped,
			"service.leaks was not fully measured: the check after the drain was not made: the monitor connection was lost: conn closed"},
		{"drain not checked, levels judged", noDrain, "service.in_use.max <= 12", results.OutcomePass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := assertions.CompileWith(withService(&schema.Plan{File: "plan.yaml", Assertions: []schema.Assertion{assertion("svc", tc.check)}}),
				assertions.Options{NoBuiltins: true})
			if err != nil {
				t.Fatal(err)
			}
			outcomes, v := set.Evaluate(run(tc.sc), nil)
			if len(outcomes) != 1 {
				t.Fatalf("outcomes %+v", outcomes)
			}
			o := outcomes[0]
			if o.Status != tc.status || o.Reason != tc.reason || o.Unmeasured != (tc.reason != "") {
				t.Errorf("outcome %s %q unmeasured=%v, want %s %q", o.Status, o.Reason, o.Unmeasured, tc.status, tc.reason)
			}
			if want := tc.status == results.OutcomePass; v.Pass != want {
				t.Errorf("verdict pass = %v (%s), want %v", v.Pass, v.Label, want)
			}
		})
	}
}

// TestServiceCriteria: a check on the service's leaks counts in the
// certificate's leaks criterion, one on its utilization in load capacity.
func TestServiceCriteria(t *testing.T) {
	set, err := assertions.CompileWith(withService(&schema.Plan{File: "plan.yaml", Assertions: []schema.Assertion{
		assertion("service leaks", "service.leaks == 0"), assertion("service pool", "service.utilization.max < 0.9"),
	}}), assertions.Options{NoBuiltins: true})
	if err != nil {
		t.Fatal(err)
	}
	_, v := set.Evaluate(run(serviceScenario("peak")), nil)
	if c := criterion(t, v, assertions.CriterionLeaks); c.Status != results.CriterionFail || !strings.Contains(strings.Join(c.Reasons, "\n"), "service leaks") {
		t.Errorf("leaks criterion %+v, want the failed service leaks check", c)
	}
	if c := criterion(t, v, assertions.CriterionLoadCapacity); c.Status != results.CriterionPass {
		t.Errorf("load capacity criterion %+v, want the passed service pool check", c)
	}
}
