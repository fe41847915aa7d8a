package assertions_test

import (
	"strings"
	"testing"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// judge compiles as (with the built-in checks unless noBuiltins) and
// evaluates them on r.
func judge(t *testing.T, r *results.Run, noBuiltins bool, as ...schema.Assertion) ([]results.Outcome, results.Verdict) {
	t.Helper()
	plan := &schema.Plan{File: "plan.yaml", Assertions: as, Mixes: map[string]schema.Mix{
		"app": {{Name: "balance"}, {Name: "transfer"}},
	}}
	set, err := assertions.CompileWith(plan, assertions.Options{NoBuiltins: noBuiltins})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return set.Evaluate(r, nil)
}

// summary renders outcomes as name@scenario=status, built-ins marked with *.
func summary(os []results.Outcome) string {
	var parts []string
	for _, o := range os {
		mark := ""
		if o.Builtin {
			mark = "*"
		}
		parts = append(parts, mark+o.Name+"@"+o.Scenario+"="+string(o.Status))
	}
	return strings.Join(parts, " ")
}

func TestBuiltins(t *testing.T) {
	allFailed := scenario("peak")
	allFailed.Errors, allFailed.SuccessRate = allFailed.Ops, 0
	nothingRan := scenario("peak")
	nothingRan.Ops, nothingRan.Errors, nothingRan.SuccessRate = 0, 0, 1
	leaky := scenario("peak")
	leaky.Leaks = 2
	for _, tc := range []struct {
		name       string
		sc         results.Scenario
		noBuiltins bool
		as         []schema.Assertion
		pass       bool
		outcomes   string
		// runReason, when set, is wanted among the run criterion's reasons.
		runReason string
	}{
		{
			name: "healthy scenario passes the built-ins", sc: scenario("peak"), pass: true,
			outcomes: "*built-in: operations succeeded@peak=pass *built-in: success rate at least 95%@peak=pass *built-in: no connection leaks@peak=pass *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			name: "every operation failed: not approved whatever the plan checks", sc: allFailed,
			as:       []schema.Assertion{assertion("fast", "acquire.p95 < 1s")},
			outcomes: "fast@peak=pass *built-in: operations succeeded@peak=fail *built-in: success rate at least 95%@peak=fail *built-in: no connection leaks@peak=pass *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			// success_rate is 1 when nothing ran: the ops built-in catches it.
			name: "no operation ran", sc: nothingRan,
			outcomes: "*built-in: operations succeeded@peak=fail *built-in: success rate at least 95%@peak=pass *built-in: no connection leaks@peak=pass *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			name: "leaks fail the verdict", sc: leaky,
			outcomes: "*built-in: operations succeeded@peak=pass *built-in: success rate at least 95%@peak=pass *built-in: no connection leaks@peak=fail *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			name: "a plan assertion on the same name replaces the built-in", sc: allFailed, pass: false,
			as:       []schema.Assertion{assertion("degrades gracefully", "success_rate >= 0")},
			outcomes: "degrades gracefully@peak=pass *built-in: operations succeeded@peak=fail *built-in: no connection leaks@peak=pass *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			name: "a warning on leaks replaces the critical built-in", sc: leaky, pass: true,
			as:       []schema.Assertion{{Name: "leaks", Check: schema.Expr{Src: "leaks == 0"}, Severity: schema.Warning}},
			outcomes: "leaks@peak=fail *built-in: operations succeeded@peak=pass *built-in: success rate at least 95%@peak=pass *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			name: "a baseline comparison does not replace the built-in", sc: scenario("peak"), pass: true,
			as:       []schema.Assertion{assertion("baseline was clean", "baseline.success_rate >= 0.95")},
			outcomes: "baseline was clean@peak=skipped *built-in: operations succeeded@peak=pass *built-in: success rate at least 95%@peak=pass *built-in: no connection leaks@peak=pass *built-in: pool utilization below 85% sustained@peak=fail",
		},
		{
			name: "built-ins off and no assertion: nothing was checked", sc: scenario("peak"), noBuiltins: true,
			runReason: "no critical check was evaluated on a scenario: the plan has no critical assertion on the scenarios' figures and turns the built-in checks off",
		},
		{
			name: "built-ins off and only skipped checks", sc: scenario("peak"), noBuiltins: true,
			as:        []schema.Assertion{assertion("no worse", "throughput > baseline.throughput")},
			outcomes:  "no worse@peak=skipped",
			runReason: "no critical check was evaluated on a scenario: every one was skipped",
		},
		{
			name: "built-ins off and only warnings", sc: scenario("peak"), noBuiltins: true,
			as:        []schema.Assertion{{Name: "w", Check: schema.Expr{Src: "leaks == 0"}, Severity: schema.Warning}},
			outcomes:  "w@peak=pass",
			runReason: "no critical check was evaluated on a scenario: the plan has no critical assertion",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcomes, v := judge(t, run(tc.sc), tc.noBuiltins, tc.as...)
			if got := summary(outcomes); got != tc.outcomes {
				t.Errorf("outcomes\n got %s\nwant %s", got, tc.outcomes)
			}
			if v.Pass != tc.pass {
				t.Errorf("pass = %v, want %v; criteria %+v", v.Pass, tc.pass, v.Criteria)
			}
			if tc.runReason != "" {
				c := criterion(t, v, "run")
				if c.Status != results.CriterionFail || !strings.Contains(strings.Join(c.Reasons, "\n"), tc.runReason) {
					t.Errorf("run criterion = %+v, want fail with %q", c, tc.runReason)
				}
			}
		})
	}
}

func TestBuiltinCountsInItsCriterion(t *testing.T) {
	sc := scenario("peak")
	sc.Leaks = 1
	_, v := judge(t, run(sc), false)
	c := criterion(t, v, "leaks")
	if c.Status != results.CriterionFail || !strings.Contains(c.Reasons[0], "built-in: no connection leaks on peak: leaks = 1") {
		t.Errorf("leaks criterion = %+v", c)
	}
}

func TestNoScenarioRanIsNotApproved(t *testing.T) {
	r := run()
	_, v := judge(t, r, false, assertion("pool", "pool.size == 20"))
	if v.Pass {
		t.Fatal("a run with no scenario was approved")
	}
	if c := criterion(t, v, "run"); !strings.Contains(strings.Join(c.Reasons, "\n"), "no critical check was evaluated on a scenario: no scenario ran") {
		t.Errorf("run criterion = %+v", c)
	}
}

func TestRunLevelAssertionJudgedOnce(t *testing.T) {
	r := run(scenario("normal"), scenario("peak"), scenario("stress"))
	outcomes, v := judge(t, r, true,
		assertion("pool configuration", `pool.size == 20 && driver == "pgx"`),
		assertion("capacity checked", `preflight.capacity == "pass" && server.max_connections >= 100 && rtt < 1ms`),
		assertion("per scenario", "pool.size == 20 && users > 0"),
	)
	want := "pool configuration@=pass capacity checked@=pass per scenario@normal=pass per scenario@peak=pass per scenario@stress=pass"
	if got := summary(outcomes); got != want {
		t.Errorf("outcomes\n got %s\nwant %s", got, want)
	}
	if !v.Pass {
		t.Errorf("verdict = %+v", v)
	}
	if c := criterion(t, v, "configuration"); !strings.Contains(strings.Join(c.Reasons, "\n"), "pool configuration: passed once for the run") {
		t.Errorf("configuration = %+v", c)
	}
}

func TestRecoveryThatWasNotTested(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rec    results.Recovery
		status results.OutcomeStatus
		reason string
	}{
		{"recovered", results.Recovery{AfterStage: 2, Status: results.RecoveryRecovered, Duration: 400 * ms}, results.OutcomePass, ""},
		{"not recovered fails", results.Recovery{AfterStage: 2, Status: results.RecoveryNotRecovered, Duration: 30 * 1000 * ms}, results.OutcomeFail, ""},
		{"not stressed is an error, never a pass", results.Recovery{AfterStage: 2, Status: results.RecoveryNotStressed},
			results.OutcomeError, "the pool was never exhausted nor slow during stage 2: the load did not test recovery; raise the load"},
		{"not reached is an error", results.Recovery{AfterStage: 3, Status: results.RecoveryNotReached},
			results.OutcomeError, "the scenario stopped before stage 3 ended"},
	} {
		for _, check := range []string{"recovery < 1s", "recovered"} {
			t.Run(tc.name+"/"+check, func(t *testing.T) {
				sc := scenario("exhaustion_recovery")
				rec := tc.rec
				sc.Recovery = &rec
				outcomes, v := judge(t, run(sc), true, assertion("rec", check))
				o := outcomes[0]
				if o.Status != tc.status || !strings.Contains(o.Reason, tc.reason) {
					t.Errorf("outcome = %s (%q), want %s (%q)", o.Status, o.Reason, tc.status, tc.reason)
				}
				if v.Pass != (tc.status == results.OutcomePass) {
					t.Errorf("pass = %v", v.Pass)
				}
			})
		}
	}
}

func TestPerOperationNames(t *testing.T) {
	sc := scenario("peak")
	sc.Mix = "app"
	sc.Operations = []results.Operation{
		{Name: "balance", Ops: 700, Errors: 0, SuccessRate: 1, Acquire: results.Latency{P95: 3 * ms}, Op: results.Latency{P95: 20 * ms, Count: 700}},
		{Name: "transfer", Ops: 300, Errors: 30, SuccessRate: 0.9, Query: results.Latency{P99: 80 * ms}, Op: results.Latency{P95: 90 * ms}},
	}
	noTransfer := sc
	noTransfer.Name = "reads"
	noTransfer.Operations = sc.Operations[:1]
	for _, tc := range []struct {
		check, want, actual string
	}{
		{"operations.balance.op.p95 < 50ms", "pass", "operations.balance.op.p95 = 20ms"},
		{"operations.transfer.success_rate >= 0.95", "fail", "operations.transfer.success_rate = 90%"},
		{`operations["transfer"].query.p99 < 100ms && operations.balance.acquire.p95 < 5ms`, "pass", ""},
		{"operations.balance.ops > operations.transfer.ops && operations.transfer.errors == 30", "pass", ""},
		{"operations.balance.op.count == 700", "pass", ""},
	} {
		t.Run(tc.check, func(t *testing.T) {
			outcomes, _ := judge(t, run(sc, noTransfer), true, assertion("x", tc.check))
			if got := string(outcomes[0].Status); got != tc.want {
				t.Errorf("status = %s (%s), want %s", got, outcomes[0].Reason, tc.want)
			}
			if tc.actual != "" && outcomes[0].Actual != tc.actual {
				t.Errorf("actual = %q, want %q", outcomes[0].Actual, tc.actual)
			}
			if strings.Contains(tc.check, "transfer") {
				o := outcomes[1]
				if o.Status != results.OutcomeSkipped || o.Reason != `mix "app" of the scenario has no operation "transfer"` {
					t.Errorf("on a scenario without the operation: %s (%q)", o.Status, o.Reason)
				}
			}
		})
	}
}

// TestPlanTurnsBuiltinsOff: `verdict.builtins` in the plan file decides
// whether Compile adds the built-ins; absent means on.
func TestPlanTurnsBuiltinsOff(t *testing.T) {
	failed := scenario("s")
	failed.Errors = failed.Ops // every operation failed
	failed.SuccessRate = 0
	for _, tc := range []struct {
		name, verdict string
		pass          bool
	}{
		{"absent: built-ins on", "", false},
		{"true: built-ins on", "verdict: {builtins: true}\n", false},
		{"false: nothing is checked, so not approved either", "verdict: {builtins: false}\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := parse(t, tc.verdict)
			set, err := assertions.Compile(p)
			if err != nil {
				t.Fatal(err)
			}
			outcomes, v := set.Evaluate(run(failed), nil)
			builtins := 0
			for _, o := range outcomes {
				if o.Builtin {
					builtins++
				}
			}
			if on := tc.verdict != "verdict: {builtins: false}\n"; (builtins > 0) != on {
				t.Errorf("%d built-in outcomes, want built-ins on = %v: %s", builtins, on, summary(outcomes))
			}
			if v.Pass != tc.pass {
				t.Errorf("verdict pass = %v, want %v", v.Pass, tc.pass)
			}
		})
	}
}

// TestBuiltinServicePool: on a scenario that watched a service, the service
// must stay within the capacity the plan describes, as the server counted
// its backends and the proxy its connections; more means pool: or
// target.service.processes describes another pool, a configuration
// failure. Scenarios without a service do not get the check.
func TestBuiltinServicePool(t *testing.T) {
	withService := func(backends, proxyMax int) results.Scenario {
		sc := scenario("peak")
		sc.Service = &results.Service{ApplicationName: "svc", Capacity: 8, Samples: 50,
			Backends:    results.ServiceLevel{Max: backends},
			Connections: results.ServiceConnections{MaxOpen: proxyMax}}
		return sc
	}
	for _, tc := range []struct {
		name string
		sc   results.Scenario
		want results.OutcomeStatus // "" = not judged
	}{
		{"within the pool", withService(8, 8), results.OutcomePass},
		{"a running service (no proxy count)", withService(6, 0), results.OutcomePass},
		{"more backends than the plan's pool", withService(12, 8), results.OutcomeFail},
		{"more connections at the proxy", withService(8, 9), results.OutcomeFail},
		{"no service", scenario("peak"), ""},
	} {
		outcomes, v := judge(t, run(tc.sc), false)
		var got results.OutcomeStatus
		for _, o := range outcomes {
			if o.Name == assertions.BuiltinServicePool {
				got = o.Status
				if !o.Builtin || o.Severity != results.SeverityCritical {
					t.Errorf("%s: outcome %+v, want a critical built-in", tc.name, o)
				}
			}
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
		if tc.want == results.OutcomeFail {
			found := false
			for _, c := range v.Criteria {
				if c.Name == assertions.CriterionConfiguration && c.Status == results.CriterionFail {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: the configuration criterion did not fail: %+v", tc.name, v.Criteria)
			}
		}
	}
}

// TestBuiltinUtilizationWarning: the guide's warning indicator is a
// built-in warning on every scenario with SQL: a busy pool warns without
// failing the verdict, a plan assertion reading utilization replaces it,
// and a scenario that sends only HTTP requests is not judged on it.
func TestBuiltinUtilizationWarning(t *testing.T) {
	const name = "built-in: pool utilization below 85% sustained"
	find := func(os []results.Outcome) *results.Outcome {
		for i := range os {
			if os[i].Builtin && os[i].Name == name {
				return &os[i]
			}
		}
		return nil
	}
	calm := scenario("peak")
	calm.Utilization.P95 = 0.5
	busy := scenario("peak")
	busy.Utilization.P95 = 0.97
	httpOnly := scenario("peak")
	httpOnly.HTTPOnly = true

	outcomes, _ := judge(t, run(calm), false)
	if o := find(outcomes); o == nil || o.Status != results.OutcomePass || o.Severity != results.SeverityWarning || o.Check != "utilization.p95 < 0.85" {
		t.Errorf("calm pool: %+v, want a passed warning on utilization.p95 < 0.85", o)
	}
	outcomes, v := judge(t, run(busy), false)
	if o := find(outcomes); o == nil || o.Status != results.OutcomeFail || o.Severity != results.SeverityWarning {
		t.Errorf("busy pool: %+v, want a failed warning", o)
	}
	if !v.Pass {
		t.Errorf("a failed utilization warning failed the verdict: %+v", v)
	}
	outcomes, _ = judge(t, run(busy), false, assertion("room to grow", "utilization.mean < 0.99"))
	if o := find(outcomes); o != nil {
		t.Errorf("a plan assertion reading utilization did not replace the built-in: %+v", o)
	}
	outcomes, _ = judge(t, run(httpOnly), false)
	if o := find(outcomes); o != nil {
		t.Errorf("judged on a scenario that sends only HTTP requests: %+v", o)
	}
}
