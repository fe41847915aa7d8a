package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// watchRun is a planrun watch record: one watch scenario of 48 hours,
// sampled every second, with one leak and a gap of 3 missed samples.
func watchRun() *results.Run {
	const step = 5 * time.Minute
	var pts []results.Point
	for i := range 48 * 12 {
		p := results.Point{T: time.Duration(i+1) * step, InUse: 2 + i%4, Idle: 3, Total: 5 + i%4}
		if i == 100 {
			p = results.Point{T: time.Duration(i+1) * step, Missed: 3}
		}
		pts = append(pts, p)
	}
	return &results.Run{
		SchemaVersion: results.SchemaVersion, PlanrunVersion: "test",
		Plan:      results.PlanInfo{Name: "production", File: "plans/production.yaml"},
		Target:    results.Target{URL: "postgres://app@db/finance", ServerVersion: "16.4", ApplicationName: "planrun-watch", Replicas: 1, MaxConnections: 100},
		Pool:      results.Pool{Size: 4, MaxOverflow: 2, Timeout: 5 * time.Second},
		StartedAt: started, FinishedAt: started.Add(48 * time.Hour), Status: results.StatusCompleted, TimeScale: 1,
		Scenarios: []results.Scenario{{
			Name: "watch", Status: results.StatusCompleted, StartedAt: started, Planned: 48 * time.Hour, Elapsed: 48 * time.Hour,
			Watch: true, SuccessRate: 1, ErrorsBy: map[string]int64{},
			Service: &results.Service{
				ApplicationName: "mita-api", Capacity: 6, Interval: time.Second, Samples: 172797, Missed: 3,
				MissedReason: "FATAL: terminating connection due to administrator command (SQLSTATE 57P01)",
				Backends:     results.ServiceLevel{Max: 8, Mean: 6.5, P95: 8}, InUse: results.ServiceLevel{Max: 5, Mean: 3.5, P95: 5},
				Utilization:       results.Utilization{Mean: 3.5 / 6, P95: 5.0 / 6, Max: 5.0 / 6},
				IdleInTransaction: results.IdleInTransaction{Max: 42 * time.Second},
				Headroom:          results.Headroom{Min: 80}, Leaks: 1,
				LeakDetails: []results.ServiceLeak{{PID: 4242, Age: 42 * time.Second, State: "idle in transaction", Query: "UPDATE accounts SET balance = balance - $1", Kind: "held"}},
			},
			Series: pts, SeriesStep: step,
		}},
	}
}

// TestWatchRenders: every format renders a watch without the load's
// tables, with the service's figures, its leak and the gap, and the JSON
// reads back.
func TestWatchRenders(t *testing.T) {
	run := watchRun()
	render := func(format string) string {
		t.Helper()
		var b bytes.Buffer
		if err := report.Render(&b, format, run, report.Options{}); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return b.String()
	}
	for _, tc := range []struct {
		format      string
		want, avoid []string
	}{
		{"table", []string{"Service · watch", "mita-api", "a watch runs no load", "idle in transaction past the leak threshold", "3 missed", "UPDATE accounts"},
			[]string{"Latency (p50", "acquire", "not counted (planrun did not start"}},
		{"markdown", []string{"mita-api", "UPDATE accounts", "3 missed"}, []string{"Latency percentiles", "xychart"}},
		{"html", []string{"mita-api", "a watch runs no load", "UPDATE accounts"}, []string{"<h3>Latencies</h3>", "Throughput"}},
		{"junit", []string{`name="watch" value="true"`}, []string{"acquire.p95", "throughput"}},
	} {
		out := render(tc.format)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: lacks %q", tc.format, w)
			}
		}
		for _, a := range tc.avoid {
			if strings.Contains(out, a) {
				t.Errorf("%s: shows %q, which a watch does not measure", tc.format, a)
			}
		}
	}
	back, err := results.Decode(strings.NewReader(render("json")))
	if err != nil {
		t.Fatalf("the JSON of a watch does not read back: %v", err)
	}
	if sc := back.Scenarios[0]; !sc.Watch || sc.Series[100].Missed != 3 {
		t.Errorf("read back: watch %v, the gap %+v", sc.Watch, sc.Series[100])
	}
}
