package assertions_test

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// withoutServerLeakCheck returns a scenario whose server-side leak check
// could not be made.
func withoutServerLeakCheck(name string) results.Scenario {
	sc := scenario(name)
	sc.NotChecked = []results.NotChecked{{
		Check: results.CheckServerLeaks, Figures: []string{"leaks"},
		Reason: "the monitor connection could not count the server's backends: conn closed",
	}}
	return sc
}

// TestNotMeasuredIsSkippedNeverPassed: an assertion reading a figure that
// was not measured is skipped with the reason, never passed, and a critical
// one makes the verdict NOT APPROVED with the reason; a warning one does not.
func TestNotMeasuredIsSkippedNeverPassed(t *testing.T) {
	const leakReason = "leaks was not fully measured: check server_leaks was not made: the monitor connection could not count the server's backends: conn closed"
	noRTT := run(scenario("peak"))
	noRTT.Target.RTT = 0
	withBaseline := func(r *results.Run) *results.Run { return run(withoutServerLeakCheck("peak")) }
	for _, tc := range []struct {
		name     string
		run      *results.Run
		baseline func(*results.Run) *results.Run
		check    string
		severity schema.Severity
		reason   string // of the skip; "" wants a pass
		pass     bool
		criteria map[string]string // criterion → status
	}{
		{name: "leaks without the server check", run: run(withoutServerLeakCheck("peak")), check: "leaks == 0",
			reason: leakReason, criteria: map[string]string{"leaks": "fail"}},
		{name: "leaks in a compound check", run: run(withoutServerLeakCheck("peak")), check: "leaks < 5 && errors < 100",
			reason: leakReason, criteria: map[string]string{"leaks": "fail"}},
		{name: "warning severity is reported only", run: run(withoutServerLeakCheck("peak")), check: "leaks == 0",
			severity: schema.Warning, reason: leakReason, pass: true, criteria: map[string]string{"leaks": "warn"}},
		{name: "other figures are judged", run: run(withoutServerLeakCheck("peak")), check: "errors < 100", pass: true},
		{name: "leaks with the server check", run: run(scenario("peak")), check: "leaks == 0", pass: true},
		{name: "baseline's leaks not measured", run: run(scenario("peak")), baseline: withBaseline, check: "leaks <= baseline.leaks",
			reason: "baseline.leaks was not fully measured: the baseline's check server_leaks was not made", criteria: map[string]string{"leaks": "fail"}},
		{name: "preflight check that did not run", run: run(scenario("peak")), check: `preflight.timeouts != "fail"`,
			reason: "the preflight check timeouts did not run", criteria: map[string]string{"preflight": "fail"}},
		{name: "preflight check that ran", run: run(scenario("peak")), check: `preflight.capacity != "fail"`, pass: true},
		{name: "rtt not measured", run: noRTT, check: "rtt < 5ms",
			reason: "rtt was not measured: the preflight pings did not run", criteria: map[string]string{"performance": "fail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := assertion("checked", tc.check)
			a.Severity = tc.severity
			// A passing critical check on the scenario, so that the verdict
			// turns on the one under test.
			set := mustCompile(t, a, assertion("judged", "errors < 100"))
			var base *results.Run
			if tc.baseline != nil {
				base = tc.baseline(tc.run)
			}
			outcomes, v := set.Evaluate(tc.run, base)
			if len(outcomes) != 2 || outcomes[1].Status != results.OutcomePass {
				t.Fatalf("outcomes %+v, want the one under test and a pass", outcomes)
			}
			o := outcomes[0]
			if tc.reason == "" {
				if o.Status != results.OutcomePass || o.Unmeasured {
					t.Errorf("outcome %+v, want a pass", o)
				}
			} else if o.Status != results.OutcomeSkipped || !o.Unmeasured || !strings.HasPrefix(o.Reason, tc.reason) {
				t.Errorf("outcome %s unmeasured=%v (%q), want skipped, unmeasured, reason starting %q", o.Status, o.Unmeasured, o.Reason, tc.reason)
			}
			if v.Pass != tc.pass {
				t.Errorf("verdict pass = %v (%s), want %v; criteria %+v", v.Pass, v.Label, tc.pass, v.Criteria)
			}
			for name, status := range tc.criteria {
				c := criterion(t, v, name)
				if string(c.Status) != status || !strings.Contains(strings.Join(c.Reasons, "\n"), tc.reason) {
					t.Errorf("criterion %s = %s %q, want %s with %q", name, c.Status, c.Reasons, status, tc.reason)
				}
			}
		})
	}
}

// TestBuiltinLeakCheckNotMeasured: the built-in leak check, on a scenario
// whose server-side leak check was not made, is skipped with the reason and
// the verdict is NOT APPROVED.
func TestBuiltinLeakCheckNotMeasured(t *testing.T) {
	outcomes, v := judge(t, run(withoutServerLeakCheck("peak")), false)
	if got, want := summary(outcomes), "*built-in: operations succeeded@peak=pass *built-in: success rate at least 95%@peak=pass *built-in: no connection leaks@peak=skipped *built-in: pool utilization below 85% sustained@peak=fail"; got != want {
		t.Fatalf("outcomes %s, want %s", got, want)
	}
	if o := outcomes[2]; !o.Unmeasured || !strings.Contains(o.Reason, "check server_leaks was not made") {
		t.Errorf("leak outcome %+v, want unmeasured with the reason", o)
	}
	if v.Pass || v.Label != schema.DefaultVerdictFail {
		t.Errorf("verdict %v %q, want NOT APPROVED", v.Pass, v.Label)
	}
	if c := criterion(t, v, assertions.CriterionLeaks); c.Status != results.CriterionFail ||
		!strings.Contains(strings.Join(c.Reasons, "\n"), "built-in: no connection leaks on peak: skipped, not measured: leaks was not fully measured") {
		t.Errorf("leaks criterion %+v, want fail with the reason", c)
	}
}
