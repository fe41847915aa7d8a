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
		{"recovered after a fault", &results.Recovery{AfterFault: 2, Status: results.RecoveryRecovered, Duration: 1240 * time.Millisecond, Settle: 500 * time.Millisecond},
			"1.24s after fault 2 (stall for 2s; settled 500ms)"},
		{"not recovered after a fault", &results.Recovery{AfterFault: 2, Status: results.RecoveryNotRecovered, Duration: 8100 * time.Millisecond},
			"not recovered by the end (8.1s after fault 2, stall for 2s)"},
		{"not stressed by a fault", &results.Recovery{AfterFault: 2, Status: results.RecoveryNotStressed},
			"not measured: the pool was never exhausted nor slow after fault 2 (stall for 2s)"},
		{"fault not reached", &results.Recovery{AfterFault: 2, Status: results.RecoveryNotReached},
			"not measured: the scenario stopped before fault 2 (stall for 2s) ended"},
		{"a fault the scenario does not list", &results.Recovery{AfterFault: 7, Status: results.RecoveryRecovered, Duration: time.Second},
			"1s after fault 7"},
	}
	faults := []results.Fault{{Kind: "reset", What: "reset every pool connection"}, {Kind: "stall", What: "stall for 2s"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recoveryText(tt.r, faults); got != tt.want {
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

func TestFaultTexts(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name, got, want string
	}{
		{"recovered", faultRecoveryText(&results.Recovery{AfterFault: 1, Status: results.RecoveryRecovered, Duration: 1240 * ms}), "recovered in 1.24s"},
		{"not recovered", faultRecoveryText(&results.Recovery{AfterFault: 1, Status: results.RecoveryNotRecovered, Duration: 8100 * ms}), "not recovered (8.1s to the end)"},
		{"not stressed", faultRecoveryText(&results.Recovery{AfterFault: 1, Status: results.RecoveryNotStressed}), "not stressed"},
		{"recovery not reached", faultRecoveryText(&results.Recovery{AfterFault: 1, Status: results.RecoveryNotReached}), "not reached"},
		{"no recovery", faultRecoveryText(nil), "–"},
		{"planned instant", faultPlanned(results.Fault{At: 90 * time.Second}), "1m30s"},
		{"planned span", faultPlanned(results.Fault{At: 30 * time.Second, For: 5 * time.Second}), "30s"},
		{"ran span", faultRan(results.Fault{Status: results.FaultApplied, Started: 30001 * ms, Ended: 35004 * ms}), "30s–35s"},
		{"ran instant", faultRan(results.Fault{Status: results.FaultApplied, Started: 90002 * ms, Ended: 90002 * ms}), "1m30s"},
		{"failed", faultRan(results.Fault{Status: results.FaultFailed, Started: 40 * time.Second, Ended: 40 * time.Second}), "failed at 40s"},
		{"not reached", faultRan(results.Fault{Status: results.FaultNotReached}), "not reached"},
		{"network", networkText(&results.Network{Latency: 2 * ms, Jitter: 500 * time.Microsecond, Bandwidth: 100e6}),
			"+2ms ±500µs, 100 MB/s per connection each way, pool connections only (preflight and setup direct)"},
		{"network, latency only", networkText(&results.Network{Latency: 5 * ms}), "+5ms, pool connections only (preflight and setup direct)"},
		{"network, bandwidth only", networkText(&results.Network{Bandwidth: 512 << 10}),
			"no added latency, 512 KiB/s per connection each way, pool connections only (preflight and setup direct)"},
		{"no network", networkText(nil), ""},
		{"bandwidth in bits", bandwidthText(1_250_000), "1.25 MB/s"},
		{"bandwidth, GB", bandwidthText(2e9), "2 GB/s"},
		{"bandwidth, MiB", bandwidthText(3 << 20), "3 MiB/s"},
		{"bandwidth, odd", bandwidthText(123_456_789), "123 MB/s"},
		{"bandwidth, bytes", bandwidthText(999), "999 B/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// A series point carries the faults that ran within its step (end−step,
// end]: an instant fault where it happened, a lasting one on every step it
// overlaps, a failed one marked so, one not reached nowhere.
func TestFaultMarks(t *testing.T) {
	s := time.Second
	faults := []results.Fault{
		{Kind: "stall", Status: results.FaultApplied, Started: 10*s + 1, Ended: 12 * s},
		{Kind: "reset", Status: results.FaultApplied, Started: 12 * s, Ended: 12 * s},
		{Kind: "lock", Status: results.FaultFailed, Started: 14 * s, Ended: 14 * s},
		{Kind: "restart", Status: results.FaultNotReached},
	}
	want := map[time.Duration]string{10 * s: "", 11 * s: "1 stall", 12 * s: "1 stall, 2 reset", 13 * s: "", 14 * s: "3 lock (failed)", 15 * s: ""}
	for end, w := range want {
		if got := faultMarks(results.Point{T: end}, s, faults); got != w {
			t.Errorf("point at %s: marks %q, want %q", end, got, w)
		}
	}
}
