package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

func init() {
	cases = append(cases, struct {
		name string
		run  func() *results.Run
	}{"watch", judgedWatchRun})
}

// watchPlan is the plan the watch golden is judged with: a latency
// assertion a watch cannot judge, and two it can.
const watchPlan = `version: 1
name: production
target:
  url: postgres://app@db/finance
  service: {url: "http://api:8080", application_name: mita-api}
pool: {size: 4, max_overflow: 2, timeout: 5s}
mixes:
  api:
    - {name: balance, http: GET /balance}
scenarios:
  - {name: peak, mix: api, users: 50, duration: 10m}
assertions:
  - name: request p95 under 300ms
    check: op.p95 < 300ms
  - name: the service's pool below 85% (p95)
    check: service.utilization.p95 < 0.85
  - name: no transaction idle for 30s
    check: service.idle_in_transaction.max < 30s
`

// judgedWatchRun is watchRun with its last hour, judged by watchPlan's
// assertions and the built-ins, as planrun watch judges it: the whole
// 48 hours had one leak; the last hour, a pool at capacity.
func judgedWatchRun() *results.Run {
	run := watchRun()
	run.Scenarios = append(run.Scenarios, results.Scenario{
		Name: "last 1h", Status: results.StatusCompleted, StartedAt: started.Add(47 * time.Hour), Planned: time.Hour, Elapsed: time.Hour,
		Watch: true, SuccessRate: 1, ErrorsBy: map[string]int64{},
		Service: &results.Service{
			ApplicationName: "mita-api", Capacity: 6, Interval: time.Second, Samples: 3600,
			Backends: results.ServiceLevel{Max: 6, Mean: 5.6, P95: 6}, InUse: results.ServiceLevel{Max: 6, Mean: 5.2, P95: 6},
			Utilization:       results.Utilization{Mean: 5.2 / 6, P95: 1, Max: 1},
			IdleInTransaction: results.IdleInTransaction{Max: 3 * time.Second},
			Saturation:        results.ServiceSaturation{Episodes: 4, Longest: 95 * time.Second},
			Headroom:          results.Headroom{Min: 84},
		},
	})
	p, err := schema.Parse("plans/production.yaml", []byte(watchPlan), nil)
	if err != nil {
		panic(err)
	}
	set, err := assertions.Compile(p)
	if err != nil {
		panic(err)
	}
	run.Assertions, run.Verdict = set.Evaluate(run, nil)
	return run
}

// watchRun is a planrun watch record: one watch scenario of 48 hours,
// sampled every second, with one leak and a gap of 3 missed samples.
func watchRun() *results.Run {
	const step = 5 * time.Minute
	var pts []results.Point
	for i := range 48 * 12 {
		p := results.Point{T: time.Duration(i+1) * step, InUse: 2 + i%5, Idle: 0, Total: 2 + i%5}
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
				Backends:     results.ServiceLevel{Max: 6, Mean: 4.5, P95: 6}, InUse: results.ServiceLevel{Max: 6, Mean: 3.5, P95: 5},
				Utilization:       results.Utilization{Mean: 3.5 / 6, P95: 5.0 / 6, Max: 1},
				IdleInTransaction: results.IdleInTransaction{Max: 42 * time.Second},
				Saturation:        results.ServiceSaturation{Episodes: 4, Longest: 95 * time.Second},
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
