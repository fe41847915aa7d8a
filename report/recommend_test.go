package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// RecommendRun is FailingRun with the advice package recommend gives
// (plain data here: the report only prints it): the stress scenario needs
// more connections than the server has for three replicas.
func RecommendRun() *results.Run {
	run := FailingRun()
	run.Target.Replicas = 3
	pred := func(c int, p95, p99 time.Duration, timeouts, util float64) results.PoolPrediction {
		return results.PoolPrediction{Connections: c, AcquireP95: p95, AcquireP99: p99, TimeoutRate: timeouts, Utilization: util}
	}
	run.Recommendations = &results.Recommendations{
		Target: results.WaitTarget{Figure: "acquire.p95", Limit: 200 * ms, From: `assertion "acquire p95 under 200ms": acquire.p95 < 200ms`},
		Scenarios: []results.ScenarioAdvice{
			{Scenario: "normal", Rate: 410.5, HoldMean: 12 * ms, HoldP95: 31 * ms, Trusted: true,
				Measured: pred(50, 3*us, 1200*us, 0, 0.11), Current: pred(50, 0, 800*us, 0, 0.1), Recommended: pred(24, 2*ms, 9*ms, 0, 0.2)},
			{Scenario: "stress", Rate: 2180, HoldMean: 44 * ms, HoldP95: 120 * ms, Trusted: false,
				Why:      "the model predicts acquire p95 240ms for the pool that ran, measured 312ms (beyond the 15% or 1ms margin): the measured waits are longer than the queue explains; lean on `planrun tune`",
				Measured: pred(50, 312*ms, 890*ms, 0, 0.97), Current: pred(50, 240*ms, 700*ms, 0, 0.99), Recommended: pred(110, 150*ms, 190*ms, 0, 0.87)},
		},
		Pool: results.PoolAdvice{Size: 24, MaxOverflow: 86, Timeout: 30 * time.Second, Reasons: []string{
			"size 3: the smallest pool that meets acquire.p95 < 200ms, no timeouts at peak (not the deciding scenario)",
			"size 24: the smallest pool that meets acquire.p95 < 200ms, no timeouts at normal (25 users, hold mean 12ms; predicted p95 2ms, p99 9ms)",
			"max_overflow 86: stress needs 110 connections for acquire.max < 8s, no timeouts (100 users, hold mean 44ms; predicted p95 150ms, max 1.2s)",
			"timeout 30s: kept; the longest predicted wait with the recommended pool is 1.2s (stress)",
		}},
		Budget: results.ServerBudget{Available: 97, Current: 150, Recommended: 330, Fits: false, Headroom: -2.402},
		Settings: []results.SettingAdvice{
			{Name: "statement_timeout", Current: "0 (off)", Recommended: "1s", Why: "above the longest query p99 measured (147ms), below pool.timeout (30s)"},
			{Name: "pre_ping", Current: "false", Recommended: "true", Why: "a dropped connection is otherwise handed out broken"},
		},
		Notes: []string{
			"The recommendation does not fit the server: 3 pool(s) × 110 connections = 330, but only 97 are available (233 short).",
			"stress: the model predicts acquire p95 240ms for the pool that ran, measured 312ms | a pipe stays in its cell",
		},
	}
	return run
}

func init() {
	cases = append(cases, struct {
		name string
		run  func() *results.Run
	}{"recommend", RecommendRun})
}

// TestRecommendationSection: every format shows the section with the
// values a reviewer pastes, and says when the advice exceeds the server.
func TestRecommendationSection(t *testing.T) {
	for _, format := range []string{"table", "markdown", "html"} {
		out := string(render(t, format, RecommendRun(), report.Options{}))
		for _, want := range []string{"Recommendations", "pool.max_overflow", "86", "does NOT fit, 233 short", "statement_timeout", "does not fit the server"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in the recommendations", format, want)
			}
		}
	}
	if out := string(render(t, "markdown", RecommendRun(), report.Options{})); strings.Contains(out, "not the deciding scenario") {
		t.Error("the size row explains the size with a scenario that did not set it")
	}
	if out := string(render(t, "table", FailingRun(), report.Options{})); strings.Contains(out, "Recommendations") {
		t.Error("a run without advice shows a Recommendations section")
	}
}

func TestRecommendHTMLGolden(t *testing.T) {
	golden(t, "recommend.html.golden", render(t, "html", RecommendRun(), report.Options{}))
}
