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
		CPU:           0.85, ServerCPU: 0.9, MachineCPU: 1.96, Cores: 2,
	}
	if lag > 0 {
		sc.Lag = results.Latency{Count: 12000, P99: lag, Max: 2 * lag}
	}
	return sc
}

func TestMeasurementCriterion(t *testing.T) {
	const tail = ": these figures describe this machine, not the pool; rerun on an idle machine or lower the load"
	for _, tc := range []struct {
		name      string
		scenarios []results.Scenario
		limits    schema.GeneratorLimits
		// status of the measurement criterion; reason the verdict's ("" when conclusive)
		status results.CriterionStatus
		reason string
		// a substring of the criterion's reasons
		says string
	}{
		{
			name:      "on schedule",
			scenarios: []results.Scenario{watched("normal", 2*ms, 0), watched("surge", 3*ms, 5*ms)},
			status:    results.CriterionPass,
			says:      "the load generator kept to its schedule: timer lateness p99 at most 3ms (limit 20ms), lag p99 at most 5ms (limit 20ms); CPU at most 1.96 of 2 cores busy",
		},
		{
			name:      "at the default limit is still on schedule",
			scenarios: []results.Scenario{watched("normal", schema.DefaultMaxTimerLateness, schema.DefaultMaxLag)},
			status:    results.CriterionPass,
		},
		{
			name:      "timer lateness over the default",
			scenarios: []results.Scenario{watched("normal", 180*ms, 0)},
			status:    results.CriterionFail,
			reason:    "the load generator fell behind (timer lateness p99 180ms, CPU 1.96 of 2 cores)" + tail,
			says:      "(limits: timer lateness p99 ≤ 20ms, lag p99 ≤ 20ms)",
		},
		{
			name:      "open model's lag over the default, scenarios named",
			scenarios: []results.Scenario{watched("normal", 2*ms, 0), watched("surge", 2*ms, 45*ms)},
			status:    results.CriterionFail,
			reason:    "the load generator fell behind in surge (lag p99 45ms, CPU 1.96 of 2 cores)" + tail,
		},
		{
			name:      "several scenarios behind",
			scenarios: []results.Scenario{watched("peak", 30*ms, 0), watched("surge", 25*ms, 45*ms)},
			status:    results.CriterionFail,
			reason:    "the load generator fell behind in peak (timer lateness p99 30ms, CPU 1.96 of 2 cores) and surge (timer lateness p99 25ms, lag p99 45ms, CPU 1.96 of 2 cores)" + tail,
		},
		{
			name:      "the plan's limits replace the defaults",
			scenarios: []results.Scenario{watched("normal", 180*ms, 0), watched("surge", 2*ms, 45*ms)},
			limits:    schema.GeneratorLimits{MaxTimerLateness: schema.Duration(200 * ms), MaxLag: schema.Duration(50 * ms)},
			status:    results.CriterionPass,
			says:      "timer lateness p99 at most 180ms (limit 200ms), lag p99 at most 45ms (limit 50ms)",
		},
		{
			name:      "a stricter plan limit",
			scenarios: []results.Scenario{watched("normal", 8*ms, 0)},
			limits:    schema.GeneratorLimits{MaxTimerLateness: schema.Duration(5 * ms)},
			status:    results.CriterionFail,
			reason:    "the load generator fell behind (timer lateness p99 8ms, CPU 1.96 of 2 cores)" + tail,
			says:      "(limits: timer lateness p99 ≤ 5ms, lag p99 ≤ 20ms)",
		},
		{
			name: "machine CPU unknown: planrun's own",
			scenarios: func() []results.Scenario {
				sc := watched("normal", 90*ms, 0)
				sc.Generator.MachineCPU = -1
				return []results.Scenario{sc}
			}(),
			status: results.CriterionFail,
			reason: "the load generator fell behind (timer lateness p99 90ms, planrun CPU 0.85 of 2 cores)" + tail,
		},
		{
			name:      "not measured (a report from before)",
			scenarios: []results.Scenario{healthy("normal")},
			status:    results.CriterionSkipped,
			says:      "the load generator did not measure itself",
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
			if tc.reason == "" {
				if v.Inconclusive || v.Reason != "" || v.Label != "SHIP IT" || !v.Pass {
					t.Errorf("verdict %+v, want a conclusive SHIP IT", v)
				}
				return
			}
			if !v.Inconclusive || v.Pass || v.Label != assertions.LabelInconclusive {
				t.Errorf("verdict pass=%v inconclusive=%v label %q, want an inconclusive %s", v.Pass, v.Inconclusive, v.Label, assertions.LabelInconclusive)
			}
			if v.Reason != tc.reason {
				t.Errorf("reason\n got %q\nwant %q", v.Reason, tc.reason)
			}
		})
	}
}

// An inconclusive run is neither approved nor not approved, even when the
// plan's checks fail too; and an assertion reading generator.* counts in
// the measurement criterion.
func TestInconclusiveOverridesTheLabels(t *testing.T) {
	sc := watched("normal", 180*ms, 0)
	sc.Acquire.P95 = 900 * ms // fails "acquire p95 under 200ms"
	r := run(sc)
	as := append(productionAssertions(), assertion("generator CPU", "generator.cpu < 0.5"))
	r.Assertions, r.Verdict = mustCompile(t, as...).Evaluate(r, nil)
	if r.Verdict.Label != assertions.LabelInconclusive || r.Verdict.Pass || !r.Verdict.Inconclusive {
		t.Errorf("verdict %+v, want INCONCLUSIVE", r.Verdict)
	}
	if c := criterion(t, r.Verdict, "performance"); c.Status != results.CriterionFail {
		t.Errorf("performance = %+v, still judged and shown", c)
	}
	c := criterion(t, r.Verdict, assertions.CriterionMeasurement)
	if got := strings.Join(c.Reasons, "\n"); !strings.Contains(got, "generator CPU on normal: generator.cpu = 0.85") {
		t.Errorf("measurement reasons %q, want the generator.* assertion's outcome", got)
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
