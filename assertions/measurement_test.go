package assertions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// watched returns a healthy scenario whose load generator measured itself
// with the given timer lateness p99 and lag p99 (0: closed model, no lag).
func watched(name string, lateness, lag time.Duration) results.Scenario {
	sc := healthy(name)
	sc.Generator = results.Generator{
		TimerLateness: results.Latency{Count: 30000, P50: 50 * time.Microsecond, P99: lateness, Max: 2 * lateness},
		CPU:           0.85, ServerCPU: 0.9, ServiceCPU: -1, MachineCPU: 1.96, Cores: 2,
	}
	if lag > 0 {
		sc.Lag = results.Latency{Count: 12000, P99: lag, Max: 2 * lag}
	}
	return sc
}

// withThink is sc as a closed model whose users think think on average,
// and whose generator's timers were late by lateMean on average.
func withThink(sc results.Scenario, think, lateMean time.Duration) results.Scenario {
	sc.Model, sc.Think = results.ModelClosed, think
	sc.Generator.TimerLateness.Mean = lateMean
	return sc
}

func TestMeasurementCriterion(t *testing.T) {
	const server = "; the embedded server used 0.90 of 2 cores (planrun 0.85): point DATABASE_URL at a server on another machine, or lower the load"
	for _, tc := range []struct {
		name      string
		scenarios []results.Scenario
		limits    schema.GeneratorLimits
		// status of the measurement criterion; the verdict's label and reason
		status results.CriterionStatus
		label  string
		reason string
		// a substring of the criterion's reasons
		says string
	}{
		{
			name:      "a narrow band, the load delivered",
			scenarios: []results.Scenario{watched("normal", 2*ms, 0), watched("surge", 3*ms, 5*ms)},
			status:    results.CriterionPass, label: "SHIP IT",
			says: "surge: error band ±3ms (timer lateness p99 3ms); CPU 1.96 of 2 cores; the planned load was delivered",
		},
		{
			name:      "a wide band far from every threshold decides",
			scenarios: []results.Scenario{watched("normal", 100*ms, 0)},
			status:    results.CriterionPass, label: "SHIP IT",
			says: "error band ±100ms (timer lateness p99 100ms)",
		},
		{
			name:      "a figure within the band is undecided",
			scenarios: []results.Scenario{watched("normal", 180*ms, 0)},
			status:    results.CriterionPass, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal" + server,
		},
		{
			name: "a decided failure stands whatever the band",
			scenarios: func() []results.Scenario {
				sc := watched("normal", 180*ms, 0)
				sc.Acquire.P95 = 900 * ms
				return []results.Scenario{sc}
			}(),
			status: results.CriterionPass, label: "HOLD",
		},
		{
			name:      "late arrivals leave the passes undecided, scenario named",
			scenarios: []results.Scenario{watched("normal", 2*ms, 0), watched("surge", 2*ms, 45*ms)},
			status:    results.CriterionWarn, label: assertions.LabelInconclusive,
			says: "surge: error band ±2ms (timer lateness p99 2ms); CPU 1.96 of 2 cores; the arrivals started late (lag p99 45ms, limit 20ms): its passes are undecided",
		},
		{
			name:      "the plan's max_lag replaces the default",
			scenarios: []results.Scenario{watched("surge", 2*ms, 45*ms)},
			limits:    schema.GeneratorLimits{MaxLag: schema.Duration(50 * ms)},
			status:    results.CriterionPass, label: "SHIP IT",
		},
		{
			name:      "users late for a short think time leave the passes undecided",
			scenarios: []results.Scenario{withThink(watched("stress", 25*ms, 0), 40*ms, 8*ms)},
			status:    results.CriterionWarn, label: assertions.LabelInconclusive,
			says: "the users could not keep their think times: waking 8ms late on average (p99 25ms) cost them 17% of the planned load, more than 10%",
		},
		{
			name:      "late at p99 but not on average: the load was delivered",
			scenarios: []results.Scenario{withThink(watched("stress", 25*ms, 0), 40*ms, 2*ms)},
			status:    results.CriterionPass, label: "SHIP IT",
		},
		{
			name:      "the same lateness keeps a long think time's schedule",
			scenarios: []results.Scenario{withThink(watched("users", 25*ms, 0), 2500*ms, 8*ms)},
			status:    results.CriterionPass, label: "SHIP IT",
		},
		{
			name:      "within max_timer_lateness the schedule is kept",
			scenarios: []results.Scenario{withThink(watched("normal", 8*ms, 0), 10*ms, 6*ms)},
			status:    results.CriterionPass, label: "SHIP IT",
		},
		{
			name:      "a stricter plan limit on think lateness",
			scenarios: []results.Scenario{withThink(watched("normal", 8*ms, 0), 10*ms, 6*ms)},
			limits:    schema.GeneratorLimits{MaxTimerLateness: schema.Duration(5 * ms)},
			status:    results.CriterionWarn, label: assertions.LabelInconclusive,
			says: "waking 6ms late on average (p99 8ms) cost them 38% of the planned load",
		},
		{
			name: "no think time: no schedule to keep",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := withThink(watched("saturate", 60*ms, 0), 0, 20*ms)
				sc.Acquire.P95, sc.Acquire.P99, sc.Acquire.Max, sc.Op.P95, sc.Op.Max = 4*ms, 9*ms, 30*ms, 5*ms, 40*ms
				sc.Hold = results.Latency{Count: 10000, Mean: 200 * time.Microsecond, Max: 3 * ms}
				sc.Errors, sc.SuccessRate, sc.ErrorsBy = 0, 1, nil
				return sc
			}()},
			status: results.CriterionPass, label: "SHIP IT",
		},
		{
			name: "operations that fail on the server stand on a busy machine",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := withThink(watched("saturate", 60*ms, 0), 0, 20*ms)
				sc.Errors, sc.SuccessRate, sc.ErrorsBy = sc.Ops, 0, map[string]int64{results.ErrQuery: sc.Ops}
				return sc
			}()},
			status: results.CriterionPass, label: "HOLD",
		},
		{
			name: "acquire timeouts a late release could have caused",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 10*ms, 0)
				sc.Hold = results.Latency{Count: 10000, Mean: 5 * ms, Max: 40 * ms}
				sc.Errors, sc.ErrorsBy = 800, map[string]int64{results.ErrAcquireTimeout: 800}
				sc.SuccessRate = results.SuccessRate(sc.Ops, sc.Errors)
				return sc
			}()},
			status: results.CriterionPass, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: success rate above 95% on normal" + server,
		},
		{
			name: "planrun itself used the CPU",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 180*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.MachineCPU = 1.5, -1, 1.9
				return sc
			}()},
			status: results.CriterionPass, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal; planrun itself used 1.50 of 2 cores: lower the load, or split it over machines with --segment",
		},
		{
			name: "other processes used the CPU",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 180*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.MachineCPU = 0.2, 0.1, 2
				return sc
			}()},
			status: results.CriterionWarn, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal; other processes used 1.70 of 2 cores (planrun 0.20, embedded server 0.10): rerun on an idle machine or lower the load",
		},
		{
			name: "the service planrun started used the CPU",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 180*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.ServiceCPU, sc.Generator.MachineCPU = 0.4, 0.3, 1.1, 1.95
				return sc
			}()},
			status: results.CriterionPass, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal; the service under test used 1.10 of 2 cores (planrun 0.40, embedded server 0.30): run it on another machine and give its target.service.url, or lower the load",
		},
		{
			name: "the embedded server used more than the service",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 180*ms, 0)
				sc.Generator.ServiceCPU = 0.2
				return sc
			}()},
			status: results.CriterionPass, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal; the embedded server used 0.90 of 2 cores (planrun 0.85, service 0.20): point DATABASE_URL at a server on another machine, or lower the load",
		},
		{
			// The service's CPU is not the other processes': 2 − 0.2 − 0.1 − 0.6.
			name: "other processes used the CPU beside the service",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 180*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.ServiceCPU, sc.Generator.MachineCPU = 0.2, 0.1, 0.6, 2
				return sc
			}()},
			status: results.CriterionWarn, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal; other processes used 1.10 of 2 cores (planrun 0.20, embedded server 0.10, service 0.60): rerun on an idle machine or lower the load",
			says:   "the embedded server shared a saturated machine with other processes (CPU 2.00 of 2 cores busy, 1.10 of it other processes'): its failures of timings are undecided",
		},
		{
			// Other processes took 1.3 of 2 saturated cores from the niced
			// embedded server: a latency far past its threshold may be theirs.
			name: "a starved embedded server leaves its failures of timings undecided",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 2*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.MachineCPU = 0.3, 0.4, 2
				sc.Acquire.P95 = 900 * ms
				return sc
			}()},
			status: results.CriterionWarn, label: assertions.LabelInconclusive,
			reason: "1 critical check could have gone either way within the run's own measurement error: acquire p95 under 200ms on normal; other processes used 1.30 of 2 cores (planrun 0.30, embedded server 0.40): rerun on an idle machine or lower the load",
		},
		{
			name: "a starved embedded server's errors stand",
			scenarios: func() []results.Scenario {
				sc := watched("normal", 2*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.MachineCPU = 0.3, 0.4, 2
				sc.Errors, sc.ErrorsBy, sc.SuccessRate = 500, map[string]int64{results.ErrQuery: 500}, 0.5
				return []results.Scenario{sc}
			}(),
			status: results.CriterionWarn, label: "HOLD",
		},
		{
			// Idle CPU left: the server could have had it.
			name: "other processes on a machine with CPU to spare decide nothing",
			scenarios: []results.Scenario{func() results.Scenario {
				sc := watched("normal", 2*ms, 0)
				sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.MachineCPU = 0.1, 0.1, 1.6
				sc.Acquire.P95 = 900 * ms
				return sc
			}()},
			status: results.CriterionPass, label: "HOLD",
		},
		{
			name:      "not measured (a report from before)",
			scenarios: []results.Scenario{healthy("normal")},
			status:    results.CriterionSkipped, label: "SHIP IT",
			says: "the load generator did not measure itself",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(tc.scenarios...)
			plan := &schema.Plan{File: "plan.yaml", Assertions: productionAssertions(), Verdict: schema.Verdict{Pass: "SHIP IT", Fail: "HOLD", Generator: tc.limits}}
			set, err := compilePlan(plan)
			if err != nil {
				t.Fatal(err)
			}
			r.Assertions, r.Verdict = set.Evaluate(r, nil)
			v := r.Verdict
			c := criterion(t, v, assertions.CriterionMeasurement)
			if c.Status != tc.status {
				t.Errorf("measurement = %s, want %s: %q", c.Status, tc.status, c.Reasons)
			}
			if !strings.Contains(strings.Join(c.Reasons, "\n"), tc.says) {
				t.Errorf("measurement reasons %q do not contain %q", c.Reasons, tc.says)
			}
			if v.Label != tc.label {
				t.Errorf("verdict %q (%s), want %q", v.Label, v.Reason, tc.label)
			}
			inconclusive := tc.label == assertions.LabelInconclusive
			if v.Inconclusive != inconclusive || v.Pass != (tc.label == "SHIP IT") {
				t.Errorf("verdict pass=%v inconclusive=%v, want pass=%v inconclusive=%v", v.Pass, v.Inconclusive, tc.label == "SHIP IT", inconclusive)
			}
			if tc.reason != "" && v.Reason != tc.reason {
				t.Errorf("reason\n got %q\nwant %q", v.Reason, tc.reason)
			}
		})
	}
}

// An undecided outcome says how wide the band was and what the check gave
// at both of its ends; its criterion is undecided; a decided failure of
// another check still fails the verdict, and an assertion reading
// generator.* counts in the measurement criterion and is never undecided.
func TestUndecidedOutcomes(t *testing.T) {
	sc := watched("normal", 180*ms, 0)
	r := run(sc)
	as := append(productionAssertions(), assertion("generator CPU", "generator.cpu < 0.9"))
	r.Assertions, r.Verdict = mustCompile(t, as...).Evaluate(r, nil)
	o := outcome(t, r.Assertions, "acquire p95 under 200ms", "normal")
	if o.Status != results.OutcomePass || !o.Undecided {
		t.Fatalf("outcome %+v, want an undecided pass", o)
	}
	const band = "within the measurement error ±180ms (timer lateness p99 180ms): band less late acquire.p95 = 0s passes, band more late acquire.p95 = 230ms fails"
	if o.Band != band {
		t.Errorf("band\n got %q\nwant %q", o.Band, band)
	}
	if q := outcome(t, r.Assertions, "query p95 under 500ms", "normal"); q.Undecided {
		t.Errorf("query p95 (40ms ± 180ms against 500ms) undecided: %+v", q)
	}
	if c := criterion(t, r.Verdict, "performance"); c.Status != results.CriterionUndecided {
		t.Errorf("performance = %+v, want undecided", c)
	}
	c := criterion(t, r.Verdict, assertions.CriterionMeasurement)
	if got := strings.Join(c.Reasons, "\n"); !strings.Contains(got, "generator CPU: passed on normal") {
		t.Errorf("measurement reasons %q, want the generator.* assertion's outcome", got)
	}

	r.Scenarios[0].ErrorsBy = map[string]int64{results.ErrQuery: 9000}
	r.Scenarios[0].Errors, r.Scenarios[0].SuccessRate = 9000, 0.1
	r.Assertions, r.Verdict = mustCompile(t, as...).Evaluate(r, nil)
	if r.Verdict.Inconclusive || r.Verdict.Pass {
		t.Errorf("verdict %+v, want a decided fail: the server's errors do not depend on the CPU", r.Verdict)
	}
}

// A partial run (--scenario) that passes is never approved for production.
func TestPartialRun(t *testing.T) {
	r := run(healthy("normal"))
	r.Partial = &results.Partial{Ran: []string{"normal"}, Of: 4}
	r.Assertions, r.Verdict = mustCompile(t, productionAssertions()...).Evaluate(r, nil)
	v := r.Verdict
	if !v.Pass || v.Label != assertions.LabelPartialPass {
		t.Errorf("verdict %+v, want a pass labelled %q", v, assertions.LabelPartialPass)
	}
	const want = "partial run: 1 of the plan's 4 scenarios (normal), so not an approval for production"
	if v.Reason != want {
		t.Errorf("reason %q, want %q", v.Reason, want)
	}
	r.Scenarios[0].Acquire.P95 = 900 * ms
	r.Assertions, r.Verdict = mustCompile(t, productionAssertions()...).Evaluate(r, nil)
	if r.Verdict.Pass || r.Verdict.Label != schema.DefaultVerdictFail {
		t.Errorf("failing partial run: %+v", r.Verdict)
	}
}

// The old run-criterion warning about the 100 ms sampler's lag is folded
// into the measurement criterion: generator_lag alone no longer judges.
func TestGeneratorLagAloneDoesNotJudge(t *testing.T) {
	sc := watched("stress", 2*ms, 0)
	sc.GeneratorLag.P99 = 120 * ms
	r := run(sc)
	r.Assertions, r.Verdict = mustCompile(t, productionAssertions()...).Evaluate(r, nil)
	if c := criterion(t, r.Verdict, "run"); c.Status != results.CriterionPass || len(c.Reasons) != 1 {
		t.Errorf("run criterion %+v, want a plain pass", c)
	}
	if r.Verdict.Inconclusive {
		t.Errorf("verdict %+v: judged on generator_lag", r.Verdict)
	}
}

// outcome finds the outcome of the assertion called name on scenario.
func outcome(t *testing.T, os []results.Outcome, name, scenario string) results.Outcome {
	t.Helper()
	for _, o := range os {
		if o.Name == name && o.Scenario == scenario {
			return o
		}
	}
	t.Fatalf("no outcome %q on %q", name, scenario)
	return results.Outcome{}
}

// A pool that was exhausted was full at that instant: at either end of the
// band, exhaustion events that remain keep utilization.max at 1, so a
// check that the surge exhausts the pool is decided.
func TestExhaustionKeepsTheMaximum(t *testing.T) {
	sc := watched("surge", 3*ms, 0)
	sc.Hold = results.Latency{Count: 10000, Mean: 40 * ms, Max: 300 * ms}
	sc.Utilization = results.Utilization{Mean: 0.7, P95: 1, Max: 1}
	sc.Exhaustion = results.Exhaustion{Events: 6, Total: 900 * ms, Longest: 400 * ms, Share: 0.05}
	r := run(sc)
	r.Assertions, r.Verdict = mustCompile(t, assertion("the surge exhausts the pool", "exhaustion.events > 0 && utilization.max == 1")).Evaluate(r, nil)
	if o := outcome(t, r.Assertions, "the surge exhausts the pool", "surge"); o.Status != results.OutcomePass || o.Undecided {
		t.Errorf("outcome %+v, want a decided pass", o)
	}
}

// A checkout held just past the leak threshold could be the generator's
// lateness; one held minutes past it is a leak whatever the machine.
func TestLeaksWithinTheBand(t *testing.T) {
	const threshold = time.Minute
	for _, tc := range []struct {
		name      string
		held      time.Duration
		undecided bool
	}{
		{"held within the band", threshold + 5*ms, true},
		{"held far beyond", threshold + 4*time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := watched("normal", 20*ms, 0)
			sc.Leaks, sc.LeakDetails = 1, []results.Leak{{Operation: "op", User: 3, Held: tc.held, Kind: "held"}}
			r := run(sc)
			r.Pool.LeakThreshold = threshold
			r.Assertions, r.Verdict = mustCompile(t, assertion("no leaks", "leaks == 0")).Evaluate(r, nil)
			o := outcome(t, r.Assertions, "no leaks", "normal")
			if o.Status != results.OutcomeFail || o.Undecided != tc.undecided {
				t.Errorf("outcome %+v, want a fail, undecided %v", o, tc.undecided)
			}
			if inconclusive := r.Verdict.Inconclusive; inconclusive != tc.undecided {
				t.Errorf("verdict %+v, want inconclusive %v", r.Verdict, tc.undecided)
			}
		})
	}
}

// TestStarvedServerRecoveryAndConnects: on a starved embedded server, a
// surge not recovered by the scenario's end and a connection the server
// answered past connect_timeout are failures of timings (undecided); the
// same figures on a server that had the machine are decided failures.
func TestStarvedServerRecoveryAndConnects(t *testing.T) {
	surge := func(machine float64) results.Scenario {
		sc := watched("surge", 2*ms, 0)
		sc.Generator.CPU, sc.Generator.ServerCPU, sc.Generator.MachineCPU = 0.2, 0.3, machine
		sc.Recovery = &results.Recovery{AfterStage: 2, Status: results.RecoveryNotRecovered, Duration: 2900 * ms}
		sc.Errors, sc.ErrorsBy = 1, map[string]int64{results.ErrConnect: 1}
		sc.SuccessRate = results.SuccessRate(sc.Ops, sc.Errors)
		return sc
	}
	set := mustCompile(t, assertion("recovers", "recovered && recovery < 15s"), assertion("no errors", "errors == 0"))
	for _, tc := range []struct {
		machine   float64
		undecided bool
	}{{2, true}, {1.2, false}} {
		outcomes, _ := set.Evaluate(run(surge(tc.machine)), nil)
		for _, o := range outcomes {
			if o.Status != results.OutcomeFail || o.Undecided != tc.undecided {
				t.Errorf("machine %.1f of 2 cores: %s %s undecided %v (%s), want failed, undecided %v", tc.machine, o.Name, o.Status, o.Undecided, o.Band, tc.undecided)
			}
		}
	}
}
