package report

import (
	"testing"
	"time"

	"github.com/planrun/planrun/results"
)

func TestRecoveryText(t *testing.T) {
	tests := []struct {
		name string
		r    *results.Recovery
		want string
	}{
		{"none", nil, "–"},
		{"recovered", &results.Recovery{AfterStage: 2, Status: results.RecoveryRecovered, Duration: 123 * time.Millisecond, Settle: 500 * time.Millisecond},
			"123ms after stage 2 (settled 500ms)"},
		{"recovered, no settle recorded", &results.Recovery{AfterStage: 2, Status: results.RecoveryRecovered, Duration: 123 * time.Millisecond},
			"123ms after stage 2"},
		{"not recovered", &results.Recovery{AfterStage: 2, Status: results.RecoveryNotRecovered, Duration: 1900 * time.Millisecond, Settle: 500 * time.Millisecond},
			"not recovered by the end (1.9s after stage 2)"},
		{"not stressed", &results.Recovery{AfterStage: 2, Status: results.RecoveryNotStressed, Settle: 500 * time.Millisecond},
			"not measured: the pool was never exhausted nor slow in stage 2"},
		{"not reached", &results.Recovery{AfterStage: 3, Status: results.RecoveryNotReached},
			"not measured: the scenario stopped before stage 3 ended"},
		{"no status (older report)", &results.Recovery{AfterStage: 2, Duration: time.Second},
			"1s after stage 2 (no status recorded)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recoveryText(tt.r); got != tt.want {
				t.Errorf("recoveryText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPluralWording(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"one", plural(1, "event", "events"), "1 event"},
		{"zero", plural(0, "event", "events"), "0 events"},
		{"many, separated", plural(1240, "timeout", "timeouts"), "1,240 timeouts"},
		{"one exhaustion event and timeout", exhaustionText(results.Exhaustion{Events: 1, Total: time.Second, Longest: time.Second, Timeouts: 1}),
			"1 event, total 1s, longest 1s, 1 timeout"},
		{"exhaustion events", exhaustionText(results.Exhaustion{Events: 3, Total: 2 * time.Second, Longest: time.Second}),
			"3 events, total 2s, longest 1s, 0 timeouts"},
		{"warm-up", warmupText(results.Scenario{Warmup: 10 * time.Second}), "warm-up 10s excluded"},
		{"no warm-up", warmupText(results.Scenario{}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestCriticalSummaryWording(t *testing.T) {
	pass := results.Outcome{Name: "a", Severity: "critical", Status: results.OutcomePass}
	fail := results.Outcome{Name: "a", Severity: "critical", Status: results.OutcomeFail}
	other := results.Outcome{Name: "b", Severity: "critical", Status: results.OutcomePass}
	warn := results.Outcome{Name: "w", Severity: "warning", Status: results.OutcomeFail}
	tests := []struct {
		name     string
		outcomes []results.Outcome
		want     string
	}{
		{"one passed", []results.Outcome{pass}, "The one critical check passed."},
		{"all passed", []results.Outcome{pass, other}, "All 2 critical checks passed."},
		{"one of one failed", []results.Outcome{fail}, "1 of 1 critical check failed: a."},
		{"one of two failed", []results.Outcome{fail, other}, "1 of 2 critical checks failed: a."},
		{"one warning", []results.Outcome{pass, other, warn}, "All 2 critical checks passed. 1 warning: w."},
		{"two warnings", []results.Outcome{pass, warn, warn}, "The one critical check passed. 2 warnings: w, w."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := &results.Run{Status: results.StatusCompleted, Assertions: tt.outcomes}
			if got := criticalSummary(run); got != tt.want {
				t.Errorf("criticalSummary = %q, want %q", got, tt.want)
			}
		})
	}
}
