package assertions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

const ms = time.Millisecond

// scenario returns a completed scenario with plausible figures: acquire p95
// 312ms, max 1.2s; op max 1.3s; query p95 40ms; success 99.2%; no leaks.
func scenario(name string) results.Scenario {
	return results.Scenario{
		Name:        name,
		Status:      "completed",
		Elapsed:     5 * time.Minute,
		MaxUsers:    50,
		Ops:         10000,
		Errors:      80,
		SuccessRate: 0.992,
		Throughput:  812.4,
		Acquire:     results.Latency{Count: 10000, Min: 10 * time.Microsecond, P50: 2 * ms, P95: 312 * ms, P99: 900 * ms, Max: 1200 * ms},
		Query:       results.Latency{Count: 12000, P95: 40 * ms, Max: 300 * ms},
		Op:          results.Latency{Count: 10000, P95: 400 * ms, Max: 1300 * ms},
		ErrorsBy:    map[string]int64{results.ErrAcquireTimeout: 80},
		Utilization: results.Utilization{Mean: 0.6, P95: 0.9, Max: 1},
		Connections: results.Connections{Opened: 50, Closed: 30, MaxOpen: 50, Reuse: 0.995},
	}
}

func run(scenarios ...results.Scenario) *results.Run {
	return &results.Run{
		Status:    results.StatusCompleted,
		Target:    results.Target{Driver: "pgx", ServerVersion: "16.4", MaxConnections: 100, RTT: 300 * time.Microsecond},
		Pool:      results.Pool{Size: 20, MaxOverflow: 30, Timeout: 30 * time.Second},
		Preflight: []results.Check{{Name: "reachability", Status: "pass", Critical: true}, {Name: "capacity", Status: "pass", Critical: true}},
		Scenarios: scenarios,
	}
}

// assertion is a named check applying to every scenario.
func assertion(name, check string) schema.Assertion {
	return schema.Assertion{Name: name, Check: schema.Expr{Src: check, Pos: schema.Pos{File: "plan.yaml", Line: 1, Col: 1}}}
}

// mustCompile compiles as with the built-in checks off: these tests judge the
// plan's checks one at a time (builtin_test.go tests the built-ins).
func mustCompile(t *testing.T, as ...schema.Assertion) *assertions.Set {
	t.Helper()
	set, err := assertions.CompileWith(&schema.Plan{File: "plan.yaml", Assertions: as}, assertions.Options{NoBuiltins: true})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return set
}

// evaluate runs one check on one scenario and returns its outcome.
func evaluate(t *testing.T, check string, sc results.Scenario, baseline *results.Run) results.Outcome {
	t.Helper()
	r := run(sc)
	r.Assertions, r.Verdict = mustCompile(t, assertion("x", check)).Evaluate(r, baseline)
	if len(r.Assertions) != 1 {
		t.Fatalf("got %d outcomes, want 1: %+v", len(r.Assertions), r.Assertions)
	}
	return r.Assertions[0]
}

func TestEvaluateOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		check  string
		status results.OutcomeStatus
		actual string
	}{
		{"acquire fails", "acquire.p95 < 200ms", "fail", "acquire.p95 = 312ms"},
		{"acquire passes", "acquire.p95 < 500ms", "pass", "acquire.p95 = 312ms"},
		{"two values", "acquire.max < 8s && op.max < 8s", "pass", "acquire.max = 1.2s, op.max = 1.3s"},
		{"same name twice", "acquire.max > 1s && acquire.max < 2s", "pass", "acquire.max = 1.2s"},
		{"rate", "success_rate > 0.995", "fail", "success_rate = 99.2%"},
		{"count", "errors == 0", "fail", "errors = 80"},
		{"errors_by", "errors_by.acquire_timeout > 0 && errors_by.query == 0", "pass", "errors_by.acquire_timeout = 80, errors_by.query = 0"},
		{"throughput", "throughput > 800", "pass", "throughput = 812 ops/s"},
		{"utilization", "utilization.p95 < 0.85", "fail", "utilization.p95 = 90%"},
		{"configuration", `pool.size == 20 && pool.max_overflow == 30 && pool.timeout == 30s && driver == "pgx"`, "pass",
			`pool.size = 20, pool.max_overflow = 30, pool.timeout = 30s, driver = "pgx"`},
		{"capacity", "pool.capacity == 50", "pass", "pool.capacity = 50"},
		{"context", `scenario == "peak" && users == 50 && elapsed == 5m && server.max_connections == 100`, "pass",
			`scenario = "peak", users = 50, elapsed = 5m00s, server.max_connections = 100`},
		{"preflight", `preflight.capacity == "pass" && preflight.reachability != "fail"`, "pass",
			`preflight.capacity = "pass", preflight.reachability = "pass"`},
		{"rtt", "rtt < 1ms", "pass", "rtt = 300µs"},
		{"literal ms equals", "acquire.p95 == 312ms", "pass", ""},
		{"literal fractional seconds", "acquire.max == 1.2s", "pass", ""},
		{"literal compound", "acquire.max == 1s200ms", "pass", ""},
		{"literal us", "acquire.min == 10us", "pass", ""},
		{"literal micro sign", "acquire.min == 10µs", "pass", ""},
		{"literal ns", "acquire.min == 10000ns", "pass", ""},
		{"literal m", "elapsed == 5m && elapsed == 300s && elapsed == 4m60s", "pass", ""},
		{"literal and call agree", `acquire.p95 == duration("312ms") && 312ms == duration("312ms")`, "pass", ""},
		{"duration times float", "acquire.p95 * 1.5 == 468ms", "pass", ""},
		{"duration divided by int", "acquire.max / 4 == 300ms", "pass", ""},
		{"method", "acquire.p95.Seconds() > 0.3", "pass", "acquire.p95 = 312ms"},
		{"let", "let p = acquire.p95; p < 200ms", "fail", "acquire.p95 = 312ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := evaluate(t, tc.check, scenario("peak"), nil)
			if o.Status != tc.status {
				t.Errorf("status = %s (%s), want %s", o.Status, o.Reason, tc.status)
			}
			if tc.actual != "" && o.Actual != tc.actual {
				t.Errorf("actual = %q, want %q", o.Actual, tc.actual)
			}
			// A check that reads only the run's context is judged once for
			// the run, with no scenario.
			scenario := "peak"
			if tc.name == "configuration" || tc.name == "capacity" || tc.name == "preflight" || tc.name == "rtt" {
				scenario = ""
			}
			if o.Check != tc.check || o.Scenario != scenario || o.Severity != "critical" || o.Name != "x" {
				t.Errorf("outcome = %+v, want check, scenario, severity and name filled", o)
			}
		})
	}
}

func TestEvaluateBaselineRegressions(t *testing.T) {
	withBaseline := func(p95 time.Duration, throughput float64) *results.Run {
		b := scenario("peak")
		b.Acquire.P95 = p95
		b.Throughput = throughput
		return run(b)
	}
	for _, tc := range []struct {
		name     string
		check    string
		baseline *results.Run
		status   results.OutcomeStatus
		actual   string
	}{
		// 312ms against 250ms * 1.2 = 300ms: a regression.
		{"latency regressed", "acquire.p95 < baseline.acquire.p95 * 1.2", withBaseline(250*ms, 800), "fail",
			"acquire.p95 = 312ms, baseline.acquire.p95 = 250ms"},
		// 312ms against 270ms * 1.2 = 324ms: within bounds.
		{"latency within bound", "acquire.p95 < baseline.acquire.p95 * 1.2", withBaseline(270*ms, 800), "pass", ""},
		{"latency ratio regressed", "acquire.p95 / baseline.acquire.p95 < 1.2", withBaseline(250*ms, 800), "fail", ""},
		{"latency ratio within bound", "acquire.p95 / baseline.acquire.p95 < 1.2", withBaseline(270*ms, 800), "pass", ""},
		// 812.4 against 1000 * 0.9 = 900: a regression; against 850 * 0.9 = 765: fine.
		{"throughput regressed", "throughput > baseline.throughput * 0.9", withBaseline(300*ms, 1000), "fail",
			"throughput = 812 ops/s, baseline.throughput = 1000 ops/s"},
		{"throughput within bound", "throughput > baseline.throughput * 0.9", withBaseline(300*ms, 850), "pass", ""},
		{"no baseline", "throughput > baseline.throughput * 0.9", nil, "skipped", ""},
		{"baseline without the scenario", "throughput > baseline.throughput * 0.9", run(scenario("normal")), "skipped", ""},
		{"zero baseline ratio", "acquire.p95 / baseline.acquire.p95 < 1.2", withBaseline(0, 800), "error", ""},
		{"baseline not referenced", "throughput > 0", nil, "pass", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := evaluate(t, tc.check, scenario("peak"), tc.baseline)
			if o.Status != tc.status {
				t.Errorf("status = %s (%s, %s), want %s", o.Status, o.Actual, o.Reason, tc.status)
			}
			if tc.actual != "" && o.Actual != tc.actual {
				t.Errorf("actual = %q, want %q", o.Actual, tc.actual)
			}
		})
	}
	t.Run("skip reasons", func(t *testing.T) {
		if o := evaluate(t, "throughput > baseline.throughput", scenario("peak"), nil); o.Reason != "no baseline given (--baseline)" {
			t.Errorf("reason = %q", o.Reason)
		}
		if o := evaluate(t, "throughput > baseline.throughput", scenario("peak"), run(scenario("normal"))); o.Reason != `the baseline run has no scenario "peak"` {
			t.Errorf("reason = %q", o.Reason)
		}
	})
	t.Run("division by zero names the cause", func(t *testing.T) {
		o := evaluate(t, "acquire.p95 / baseline.acquire.p95 < 1.2", scenario("peak"), withBaseline(0, 1))
		if !strings.Contains(o.Reason, "zero duration") {
			t.Errorf("reason = %q", o.Reason)
		}
	})
}

func TestEvaluateRecovery(t *testing.T) {
	recovered := scenario("exhaustion_recovery")
	recovered.Recovery = &results.Recovery{AfterStage: 2, Duration: 640 * ms, Status: results.RecoveryRecovered}
	stuck := scenario("exhaustion_recovery")
	stuck.Recovery = &results.Recovery{AfterStage: 2, Duration: 30 * time.Second, Status: results.RecoveryNotRecovered}
	for _, tc := range []struct {
		name   string
		sc     results.Scenario
		status results.OutcomeStatus
		actual string
		reason string
	}{
		{"recovered in time", recovered, "pass", "recovery = 640ms", ""},
		{"never recovered fails honestly", stuck, "fail", "recovery = 30s (not recovered by the scenario's end)", ""},
		{"not measured", scenario("peak"), "skipped", "", "scenario measures no recovery: set recovery_after or add faults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := evaluate(t, "recovery < 1s", tc.sc, nil)
			if o.Status != tc.status || o.Actual != tc.actual || o.Reason != tc.reason {
				t.Errorf("got %s %q %q, want %s %q %q", o.Status, o.Actual, o.Reason, tc.status, tc.actual, tc.reason)
			}
		})
	}
	t.Run("recovered flag", func(t *testing.T) {
		if o := evaluate(t, "recovered", stuck, nil); o.Status != "fail" {
			t.Errorf("status = %s, want fail", o.Status)
		}
		if o := evaluate(t, "recovered", scenario("peak"), nil); o.Status != "skipped" {
			t.Errorf("status = %s, want skipped", o.Status)
		}
	})
}

func TestEvaluateScopingAndOrder(t *testing.T) {
	scoped := assertion("recovery", "recovery < 1s")
	scoped.Scenarios = []string{"exhaustion_recovery"}
	everywhere := assertion("leaks", "leaks == 0")
	nowhere := assertion("stress only", "leaks == 0")
	nowhere.Scenarios = []string{"stress"}
	rec := scenario("exhaustion_recovery")
	rec.Recovery = &results.Recovery{Duration: 200 * ms, Status: results.RecoveryRecovered}
	r := run(scenario("normal"), rec)
	r.Assertions, r.Verdict = mustCompile(t, scoped, everywhere, nowhere).Evaluate(r, nil)

	var got []string
	for _, o := range r.Assertions {
		got = append(got, o.Name+"@"+o.Scenario+"="+string(o.Status))
	}
	want := []string{
		"leaks@normal=pass",
		"recovery@exhaustion_recovery=pass",
		"leaks@exhaustion_recovery=pass",
		"stress only@=skipped",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("outcomes\n got %v\nwant %v", got, want)
	}
	if last := r.Assertions[len(r.Assertions)-1]; last.Reason != "applies to no scenario that ran (scenarios: stress)" {
		t.Errorf("reason = %q", last.Reason)
	}
}

func TestEvaluateSeverity(t *testing.T) {
	warn := assertion("utilization below 85%", "utilization.p95 < 0.85")
	warn.Severity = schema.Warning
	crit := assertion("leaks", "leaks == 0")
	r := run(scenario("peak"))
	r.Assertions, r.Verdict = mustCompile(t, warn, crit).Evaluate(r, nil)
	if r.Assertions[0].Severity != "warning" || r.Assertions[0].Status != "fail" {
		t.Fatalf("warning outcome = %+v", r.Assertions[0])
	}
	if !r.Verdict.Pass {
		t.Errorf("a failing warning failed the verdict: %+v", r.Verdict)
	}
	if c := criterion(t, r.Verdict, "load capacity"); c.Status != "warn" {
		t.Errorf("load capacity = %+v, want warn", c)
	}
}

// TestEvaluateTimeBudget: a check that passes the static budget (its list's
// length is not written) but runs past the time budget is an error naming
// the budget, the verdict is not approved, and the check is not evaluated
// again.
func TestEvaluateTimeBudget(t *testing.T) {
	// About 10^7 steps: a second or more under -race, far past 20ms; the
	// abandoned goroutine ends on its own soon after.
	slow := assertion("slow check", "let xs = 1..(3000 * 1); all(xs, all(xs, ops >= 0))")
	set := mustCompile(t, slow, assertion("fast check", "ops > 0"))
	assertions.SetTimeout(set, 20*ms)
	r := run(scenario("s"))
	outcomes, verdict := set.Evaluate(r, nil)
	if len(outcomes) != 2 {
		t.Fatalf("outcomes %+v", outcomes)
	}
	o := outcomes[0]
	if o.Name != "slow check" || o.Status != results.OutcomeError {
		t.Fatalf("outcome %+v, want an error for the slow check", o)
	}
	if want := "the check ran past its time budget of 20ms and was abandoned"; !strings.HasPrefix(o.Reason, want) {
		t.Errorf("reason %q, want %q...", o.Reason, want)
	}
	if outcomes[1].Status != results.OutcomePass {
		t.Errorf("fast check %+v", outcomes[1])
	}
	if verdict.Pass {
		t.Errorf("verdict %+v: a critical check that could not be evaluated must not approve", verdict)
	}
	again, _ := set.Evaluate(r, nil)
	if want := "earlier in the run and is not evaluated again"; again[0].Status != results.OutcomeError || !strings.Contains(again[0].Reason, want) {
		t.Errorf("second evaluation %+v, want an error saying %q", again[0], want)
	}
}

func TestEvaluateFaults(t *testing.T) {
	withFault := func(f results.Fault) results.Scenario {
		sc := scenario("outage")
		sc.Faults = []results.Fault{f}
		sc.Recovery = results.WorstRecovery(f.Recovery)
		return sc
	}
	stall := results.Fault{Kind: "stall", What: "stall for 2s", Status: results.FaultApplied}
	recovered, stuck, calm, failed := stall, stall, stall, stall
	recovered.Recovery = &results.Recovery{AfterFault: 1, Duration: 200 * ms, Status: results.RecoveryRecovered}
	stuck.Recovery = &results.Recovery{AfterFault: 1, Duration: 8 * time.Second, Status: results.RecoveryNotRecovered}
	calm.Recovery = &results.Recovery{AfterFault: 1, Status: results.RecoveryNotStressed}
	failed.Status, failed.Effect = results.FaultFailed, "restart needs the embedded server"
	for _, tc := range []struct {
		name, check string
		sc          results.Scenario
		status      results.OutcomeStatus
		actual      string
		reason      string
	}{
		{"recovered in time", "faults[0].recovery < 1s", withFault(recovered), "pass", "faults[0].recovery = 200ms", ""},
		{"not recovered fails honestly", "faults[0].recovered && faults[0].recovery < 1s", withFault(stuck), "fail",
			"faults[0].recovered = false, faults[0].recovery = 8s (not recovered by the scenario's end)", ""},
		{"worst recovery", "recovery < 1s", withFault(stuck), "fail", "recovery = 8s (not recovered by the scenario's end)", ""},
		{"the fault did not stress the pool", "faults[0].recovery < 1s", withFault(calm), "error", "",
			"the pool was never exhausted, slow nor failing after fault 1 (stall for 2s): the fault did not test recovery; raise the load or the fault"},
		{"the fault could not be applied", "faults[0].recovered", withFault(failed), "skipped", "",
			"fault 1 (stall for 2s) could not be applied: restart needs the embedded server"},
		{"no such fault", "faults[1].recovery < 1s", withFault(recovered), "error", "",
			"faults[1].recovery: scenario outage has 1 fault(s), faults[0] to faults[0]"},
		{"kind", `faults[0].kind == "stall"`, withFault(recovered), "pass", `faults[0].kind = "stall"`, ""},
		// status is a results.FaultStatus, read as a plain string.
		{"status", `faults[0].status == "applied"`, withFault(recovered), "pass", `faults[0].status = "applied"`, ""},
		{"status differs", `faults[0].status != "failed" && faults[0].status in ["applied"]`, withFault(failed), "fail", `faults[0].status = "failed"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := evaluate(t, tc.check, tc.sc, nil)
			if o.Status != tc.status || o.Actual != tc.actual || o.Reason != tc.reason {
				t.Errorf("got %s %q %q, want %s %q %q", o.Status, o.Actual, o.Reason, tc.status, tc.actual, tc.reason)
			}
		})
	}
}

// TestFaultRecoveryCountsAsRecovery: a failed check on faults[i].recovery
// fails the certificate's recovery criterion, not "other".
func TestFaultRecoveryCountsAsRecovery(t *testing.T) {
	sc := scenario("outage")
	sc.Faults = []results.Fault{{Kind: "stall", What: "stall for 2s", Status: results.FaultApplied,
		Recovery: &results.Recovery{AfterFault: 1, Duration: 3 * time.Second, Status: results.RecoveryRecovered}}}
	sc.Recovery = sc.Faults[0].Recovery
	r := run(sc)
	r.Assertions, r.Verdict = mustCompile(t, assertion("x", "faults[0].recovery < 1s")).Evaluate(r, nil)
	failed := map[string]bool{}
	for _, c := range r.Verdict.Criteria {
		if c.Status == results.CriterionFail {
			failed[c.Name] = true
		}
	}
	if !failed["recovery"] || failed["other"] {
		t.Errorf("failed criteria %v, want recovery (not other): %+v", failed, r.Verdict.Criteria)
	}
}

// TestWorstReplica: replicas.<figure> reads the worst replica; the totals
// stay the sums.
func TestWorstReplica(t *testing.T) {
	sc := scenario("peak")
	sc.Replicas = []results.Replica{
		{Index: 1, MaxOpen: 3, Utilization: results.Utilization{Max: 0.5}},
		{Index: 2, MaxOpen: 5, Utilization: results.Utilization{Max: 1}, Exhaustion: results.Exhaustion{Timeouts: 3}},
	}
	for check, actual := range map[string]string{
		"replicas.exhaustion.timeouts == 0": "replicas.exhaustion.timeouts = 3",
		"replicas.utilization.max < 0.9":    "replicas.utilization.max = 100%",
		"replicas.max_open <= 4":            "replicas.max_open = 5",
	} {
		o := evaluate(t, check, sc, nil)
		if o.Status != results.OutcomeFail || o.Actual != actual {
			t.Errorf("%s: %s %q, want fail %q", check, o.Status, o.Actual, actual)
		}
	}
}
