package assertions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// criterion finds a criterion of the certificate by name.
func criterion(t *testing.T, v results.Verdict, name string) results.Criterion {
	t.Helper()
	for _, c := range v.Criteria {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no criterion %q in %+v", name, v.Criteria)
	return results.Criterion{}
}

// productionAssertions are the contract's example plan's assertions.
func productionAssertions() []schema.Assertion {
	rec := assertion("exhaustion recovers within 1s", "recovery < 1s")
	rec.Scenarios = []string{"exhaustion_recovery"}
	util := assertion("pool utilization below 85% sustained", "utilization.p95 < 0.85")
	util.Severity = schema.Warning
	util.Scenarios = []string{"normal", "peak"}
	return []schema.Assertion{
		assertion("acquire p95 under 200ms", "acquire.p95 < 200ms"),
		assertion("query p95 under 500ms", "query.p95 < 500ms"),
		assertion("success rate above 95%", "success_rate > 0.95"),
		assertion("zero connection leaks", "leaks == 0"),
		assertion("no 8-15 s timeout regressions", "acquire.max < 8s && op.max < 8s"),
		rec,
		assertion("pool configuration", `pool.size == 20 && pool.max_overflow == 30 && pool.timeout == 30s && driver == "pgx"`),
		util,
	}
}

// healthy returns a scenario that passes every production assertion.
func healthy(name string) results.Scenario {
	sc := scenario(name)
	sc.Acquire.P95 = 50 * ms
	sc.Utilization.P95 = 0.6
	if name == "exhaustion_recovery" {
		sc.Recovery = &results.Recovery{AfterStage: 2, Duration: 400 * ms, Status: results.RecoveryRecovered}
	}
	return sc
}

func healthyRun() *results.Run {
	return run(healthy("normal"), healthy("peak"), healthy("stress"), healthy("exhaustion_recovery"))
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *results.Run)
		labels schema.Verdict
		pass   bool
		label  string
		// criterion → wanted status, and a substring of its reasons
		criteria map[string][2]string
	}{
		{
			name: "all pass", change: func(*results.Run) {}, pass: true, label: schema.DefaultVerdictPass,
			criteria: map[string][2]string{
				"run":           {"pass", "all 4 scenarios ran to their end"},
				"configuration": {"pass", "pool configuration: passed once for the run"},
				"preflight":     {"pass", "passed: reachability, capacity"},
				"performance":   {"pass", "acquire p95 under 200ms: passed on"},
				"load capacity": {"pass", "success rate above 95%: passed on"},
				"leaks":         {"pass", "zero connection leaks: passed on"},
				"recovery":      {"pass", "exhaustion recovers within 1s: passed on exhaustion_recovery"},
			},
		},
		{
			name: "custom labels", change: func(*results.Run) {}, pass: true, label: "SHIP IT",
			labels: schema.Verdict{Pass: "SHIP IT", Fail: "HOLD"},
		},
		{
			name:   "critical failure",
			change: func(r *results.Run) { r.Scenarios[1].Acquire.P95 = 312 * ms },
			labels: schema.Verdict{Pass: "SHIP IT", Fail: "HOLD"}, pass: false, label: "HOLD",
			criteria: map[string][2]string{
				"performance":   {"fail", "acquire p95 under 200ms on peak: acquire.p95 = 312ms"},
				"load capacity": {"pass", ""},
			},
		},
		{
			name:   "warning only",
			change: func(r *results.Run) { r.Scenarios[1].Utilization.P95 = 0.97 },
			pass:   true, label: schema.DefaultVerdictPass,
			criteria: map[string][2]string{
				"load capacity": {"warn", "pool utilization below 85% sustained on peak: utilization.p95 = 97% (warning)"},
			},
		},
		{
			name:   "leak",
			change: func(r *results.Run) { r.Scenarios[2].Leaks = 3 },
			pass:   false, label: schema.DefaultVerdictFail,
			criteria: map[string][2]string{"leaks": {"fail", "zero connection leaks on stress: leaks = 3"}},
		},
		{
			name:   "no recovery",
			change: func(r *results.Run) { r.Scenarios[3].Recovery = &results.Recovery{Duration: 90 * time.Second} },
			pass:   false, label: schema.DefaultVerdictFail,
			criteria: map[string][2]string{"recovery": {"fail", "recovery = 1m30s (not recovered by the scenario's end)"}},
		},
		{
			name: "aborted run never passes",
			change: func(r *results.Run) {
				r.Status, r.StatusReason = results.StatusAborted, `assertion "acquire p95" failed on peak`
			},
			pass: false, label: schema.DefaultVerdictFail,
			criteria: map[string][2]string{"run": {"fail", `the run was aborted: assertion "acquire p95" failed on peak (only a completed run can pass)`}},
		},
		{
			name:   "interrupted run never passes",
			change: func(r *results.Run) { r.Status = results.StatusInterrupted },
			pass:   false, label: schema.DefaultVerdictFail,
			criteria: map[string][2]string{"run": {"fail", "the run was interrupted"}},
		},
		{
			name: "critical preflight failure",
			change: func(r *results.Run) {
				r.Preflight[1] = results.Check{Name: "capacity", Status: "fail", Reason: "50 connections > 40 available", Critical: true}
			},
			pass: false, label: schema.DefaultVerdictFail,
			criteria: map[string][2]string{"preflight": {"fail", "capacity: 50 connections > 40 available"}},
		},
		{
			name: "preflight warning",
			change: func(r *results.Run) {
				r.Preflight = append(r.Preflight, results.Check{Name: "rtt", Status: "warn", Reason: "12ms round trip"})
			},
			pass: true, label: schema.DefaultVerdictPass,
			criteria: map[string][2]string{"preflight": {"warn", "rtt: 12ms round trip"}},
		},
		{
			name:   "scoped assertion without its scenario",
			change: func(r *results.Run) { r.Scenarios = r.Scenarios[:1] },
			pass:   true, label: schema.DefaultVerdictPass,
			criteria: map[string][2]string{"recovery": {"skipped", "exhaustion recovers within 1s: skipped: applies to no scenario that ran (scenarios: exhaustion_recovery)"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := healthyRun()
			tc.change(r)
			plan := &schema.Plan{File: "plan.yaml", Assertions: productionAssertions(), Verdict: tc.labels}
			set, err := compilePlan(plan)
			if err != nil {
				t.Fatal(err)
			}
			r.Assertions, r.Verdict = set.Evaluate(r, nil)
			if r.Verdict.Pass != tc.pass || r.Verdict.Label != tc.label {
				t.Errorf("verdict = %v %q, want %v %q; criteria %+v", r.Verdict.Pass, r.Verdict.Label, tc.pass, tc.label, r.Verdict.Criteria)
			}
			for name, want := range tc.criteria {
				c := criterion(t, r.Verdict, name)
				if string(c.Status) != want[0] {
					t.Errorf("%s = %s, want %s: %q", name, c.Status, want[0], c.Reasons)
				}
				if !strings.Contains(strings.Join(c.Reasons, "\n"), want[1]) {
					t.Errorf("%s reasons %q do not contain %q", name, c.Reasons, want[1])
				}
			}
		})
	}
}

func TestVerdictCriteriaOrderAndCoverage(t *testing.T) {
	r := healthyRun()
	r.Assertions, r.Verdict = mustCompile(t, assertion("leaks", "leaks == 0")).Evaluate(r, nil)
	var names []string
	for _, c := range r.Verdict.Criteria {
		names = append(names, c.Name)
	}
	want := "run,measurement,configuration,preflight,performance,load capacity,leaks,recovery"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("criteria = %s, want %s", got, want)
	}
	c := criterion(t, r.Verdict, "performance")
	if c.Status != "skipped" || !strings.Contains(c.Reasons[0], "no assertion checks this, e.g. `acquire.p95 < 200ms`") {
		t.Errorf("uncovered criterion = %+v", c)
	}
}

func TestVerdictAssertionCountsInEveryGroupItReads(t *testing.T) {
	r := healthyRun()
	r.Scenarios[0].Leaks = 1
	r.Assertions, r.Verdict = mustCompile(t, assertion("mixed", "leaks == 0 && acquire.p95 < 1s && pool.size == 20")).Evaluate(r, nil)
	for _, name := range []string{"leaks", "performance", "configuration"} {
		if c := criterion(t, r.Verdict, name); c.Status != "fail" || !strings.Contains(c.Reasons[0], "mixed on normal: leaks = 1, acquire.p95 = 50ms, pool.size = 20") {
			t.Errorf("%s = %+v", name, c)
		}
	}
	if c := criterion(t, r.Verdict, "recovery"); c.Status != "skipped" {
		t.Errorf("recovery = %+v, want skipped", c)
	}
}

func TestVerdictErrorFailsLikeAFailure(t *testing.T) {
	r := healthyRun()
	base := healthyRun()
	base.Scenarios[0].Acquire.P95 = 0
	r.Assertions, r.Verdict = mustCompile(t, assertion("ratio", "acquire.p95 / baseline.acquire.p95 < 1.5")).Evaluate(r, base)
	if r.Verdict.Pass {
		t.Errorf("an evaluation error passed: %+v", r.Verdict)
	}
	if c := criterion(t, r.Verdict, "performance"); c.Status != "fail" || !strings.Contains(c.Reasons[0], "ratio on normal: could not evaluate: division by a zero duration") {
		t.Errorf("performance = %+v", c)
	}
}

// A plan that turns the built-ins off and has no assertion checked nothing:
// it is not approved, and the run criterion says why.
func TestVerdictNoAssertions(t *testing.T) {
	r := healthyRun()
	r.Assertions, r.Verdict = mustCompile(t).Evaluate(r, nil)
	if r.Verdict.Pass || len(r.Assertions) != 0 {
		t.Errorf("verdict = %+v, outcomes %d", r.Verdict, len(r.Assertions))
	}
	c := criterion(t, r.Verdict, "run")
	if c.Status != results.CriterionFail || !strings.Contains(strings.Join(c.Reasons, "\n"),
		"no critical check was evaluated on a scenario: the plan has no critical assertion on the scenarios' figures and turns the built-in checks off") {
		t.Errorf("run criterion = %+v", c)
	}
}
