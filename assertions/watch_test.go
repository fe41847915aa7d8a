package assertions_test

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// watchScenario is a planrun watch's one scenario: only its service
// figures measured, no load.
func watchScenario(leaks int, utilP95 float64) results.Scenario {
	sc := serviceScenario("watch")
	sc.Watch = true
	sc.Ops, sc.Errors, sc.SuccessRate, sc.Throughput = 0, 0, 1, 0
	sc.Acquire, sc.Op, sc.Query = results.Latency{}, results.Latency{}, results.Latency{}
	sc.Service.Leaks = leaks
	sc.Service.Utilization.P95 = utilP95
	sc.Service.DrainChecked = false
	return sc
}

// TestWatchJudgesTheServerSideOnly: on a watch, the plan's assertions on
// service.* are judged whatever scenarios they list; those that read the
// load are not applicable (skipped, with the reason, never passed); the
// built-ins are the service's leaks and pool, and the guide's utilization
// warning, which a plan assertion on service.utilization replaces.
func TestWatchJudgesTheServerSideOnly(t *testing.T) {
	scoped := assertion("peak ceiling", "service.utilization.max < 0.9")
	scoped.Scenarios = []string{"peak"}
	as := []schema.Assertion{
		assertion("latency", "acquire.p95 < 200ms"),
		assertion("no leaks", "service.leaks == 0 && success_rate > 0.99"),
		assertion("idle", "service.idle_in_transaction.max < 30s"),
	}
	judgeWatch := func(sc results.Scenario, as ...schema.Assertion) ([]results.Outcome, results.Verdict) {
		t.Helper()
		plan := withService(&schema.Plan{File: "plan.yaml", Assertions: as, Mixes: map[string]schema.Mix{"app": {{Name: "balance"}}},
			Scenarios: []schema.Scenario{{Name: "peak", Mix: "app"}}})
		set, err := assertions.Compile(plan)
		if err != nil {
			t.Fatal(err)
		}
		return set.Evaluate(run(sc), nil)
	}

	outcomes, v := judgeWatch(watchScenario(0, 0.5), as...)
	want := "latency@watch=skipped no leaks@watch=skipped idle@watch=pass" +
		" *built-in: no connection leaks@watch=pass *" + assertions.BuiltinServicePool + "@watch=pass *" + assertions.BuiltinWatchUtilization + "@watch=pass"
	if got := summary(outcomes); got != want {
		t.Errorf("outcomes\n got %s\nwant %s", got, want)
	}
	for _, o := range outcomes[:2] {
		if !strings.HasPrefix(o.Reason, "not applicable: the watch measures the server side only") || o.Unmeasured {
			t.Errorf("%s: reason %q (unmeasured %v), want not applicable, which does not fail the verdict", o.Name, o.Reason, o.Unmeasured)
		}
	}
	if !v.Pass {
		t.Errorf("a watch without leaks is not approved: %+v", v)
	}
	if c := criterion(t, v, assertions.CriterionMeasurement); !strings.Contains(strings.Join(c.Reasons, " "), "a watch runs no load") {
		t.Errorf("measurement criterion %+v, want it not applicable to a watch", c)
	}

	// A leak fails it; a utilization past 85 % is a warning only.
	_, v = judgeWatch(watchScenario(1, 0.5), as...)
	if v.Pass {
		t.Errorf("a watch that saw a leak is approved: %+v", v)
	}
	outcomes, v = judgeWatch(watchScenario(0, 0.9), as...)
	if o := outcome(t, outcomes, assertions.BuiltinWatchUtilization, "watch"); o.Status != results.OutcomeFail || o.Severity != results.SeverityWarning {
		t.Errorf("utilization p95 0.9: %+v, want a failed warning", o)
	}
	if !v.Pass {
		t.Errorf("a warning failed the watch's verdict: %+v", v)
	}

	// An assertion scoped to a scenario of the plan is judged on the watch,
	// and replaces the utilization warning.
	outcomes, _ = judgeWatch(watchScenario(0, 0.9), scoped)
	if got, want := summary(outcomes), "peak ceiling@watch=pass *built-in: no connection leaks@watch=pass *"+assertions.BuiltinServicePool+"@watch=pass"; got != want {
		t.Errorf("with a plan ceiling\n got %s\nwant %s", got, want)
	}
}
