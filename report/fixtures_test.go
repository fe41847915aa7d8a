package report_test

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// Fixed results for the golden files: no time.Now(), no randomness.

var (
	started = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	ms      = time.Millisecond
	us      = time.Microsecond
)

// encodedHistogram returns a V2 compressed base64 HdrHistogram (ns) holding
// values, the encoding the engine writes into Latency.Histogram.
func encodedHistogram(values ...time.Duration) string {
	h := hdrhistogram.New(1000, int64(60*time.Second), 3)
	for _, v := range values {
		if err := h.RecordValue(int64(v)); err != nil {
			panic(err)
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func latency(count int64, min, mean, p50, p90, p95, p99, max time.Duration) results.Latency {
	return results.Latency{Count: count, Min: min, Mean: mean, P50: p50, P90: p90, P95: p95, P99: p99, Max: max}
}

// series builds a deterministic time series of n steps: users follow users(i),
// acquire p95 and waiting follow pressure(i) (0..1).
func series(n int, step time.Duration, users func(i int) int, pressure func(i int) float64, opsPerUser int64) []results.Point {
	pts := make([]results.Point, n)
	for i := range pts {
		u := users(i)
		pr := pressure(i)
		inUse := min(50, int(float64(u)*0.12+pr*45))
		pts[i] = results.Point{
			T:          time.Duration(i+1) * step,
			Users:      u,
			Ops:        int64(u)*opsPerUser*int64(step/time.Second) + int64(i*37%50),
			Errors:     int64(pr * pr * 20),
			AcquireP50: 20*us + time.Duration(pr*150)*ms,
			AcquireP95: 60*us + time.Duration(i%4)*5*us + time.Duration(pr*400)*ms,
			AcquireP99: 250*us + time.Duration(pr*900)*ms,
			QueryP95:   1900*us + time.Duration(pr*3)*ms,
			OpP95:      22*ms + time.Duration(pr*420)*ms,
			InUse:      inUse,
			Idle:       max(0, min(20, u/2)-inUse/3),
			Total:      min(50, inUse+max(0, min(20, u/2)-inUse/3)),
			Waiting:    int(pr * pr * 40),
		}
	}
	return pts
}

func constant(v int) func(int) int       { return func(int) int { return v } }
func calm(float64) func(int) float64     { return func(int) float64 { return 0 } }
func flat(p float64) func(int) float64   { return func(int) float64 { return p } }
func ramp(to, steps int) func(i int) int { return func(i int) int { return min(to, to*(i+1)/steps) } }

// appOperations splits a scenario's ops and errors over the app mix; acquire
// is the scenario's acquire p95, spread a little per operation (and below
// each operation's own p95).
func appOperations(ops, errs int64, acquire time.Duration, opP95 [3]time.Duration) []results.Operation {
	n := [3]int64{ops * 7003 / 10000, ops * 1996 / 10000, ops - ops*7003/10000 - ops*1996/10000}
	e := [3]int64{errs / 2, errs - errs/2, 0}
	rate := func(i int) float64 {
		if n[i] == 0 {
			return 1
		}
		return 1 - float64(e[i])/float64(n[i])
	}
	acq := func(i int, f float64) results.Latency {
		// An operation waits for its connection within its own time.
		p95 := min(time.Duration(float64(acquire)*f), opP95[i]*4/5)
		return latency(n[i], 4*us, p95/3, p95/8, p95/2, p95, p95*3, p95*9)
	}
	return []results.Operation{
		{Name: "balance", Weight: 70, Share: 0.7003, Ops: n[0], Errors: e[0], SuccessRate: rate(0),
			Acquire: acq(0, 0.95),
			Query:   latency(n[0], 110*us, 420*us, 380*us, 900*us, 1200*us, 2900*us, 18*ms),
			Op:      latency(n[0], 180*us, 900*us, 620*us, 1400*us, opP95[0], opP95[0]*2, opP95[0]*9)},
		{Name: "transfer", Weight: 20, Share: 0.1996, Ops: n[1], Errors: e[1], SuccessRate: rate(1),
			Acquire: acq(1, 1.05),
			Query:   latency(n[1]*3, 120*us, 610*us, 540*us, 1300*us, 1700*us, 4100*us, 29*ms),
			Op:      latency(n[1], 610*us, 2100*us, 1700*us, 3100*us, opP95[1], opP95[1]*2, opP95[1]*7)},
		{Name: "monthly_report", Weight: 10, Share: 0.1001, Ops: n[2], Errors: e[2], SuccessRate: rate(2),
			Acquire: acq(2, 1.1),
			Query:   latency(n[2], 20*ms, 21*ms, 21*ms, 21900*us, 22100*us, 23*ms, 31*ms),
			Op:      latency(n[2], 21*ms, 23*ms, 22800*us, 23900*us, opP95[2], opP95[2]+3*ms, opP95[2]*2)},
	}
}

// baseRun is the skeleton both the passing and the failing run share: the
// production plan of plan-format.md against a 20 + 30 pool.
func baseRun() *results.Run {
	return &results.Run{
		SchemaVersion:  results.SchemaVersion,
		PlanrunVersion: "0.3.0",
		Plan: results.PlanInfo{
			Name:        "production",
			Description: "Validates the production pool (20 pooled + 30 overflow connections, 30 s acquire timeout) before a deploy of the finance API.",
			File:        "plans/production.yaml",
			SHA256:      "9f2c41d07be85a1c3e6f0d4b2a7c9e8f1d3b5a7c9e0f2d4b6a8c0e2f4a6b8c0d",
		},
		Target: results.Target{
			URL:             "postgres://app:xxxxx@db.internal:5432/finance?sslmode=require",
			ServerVersion:   "16.4",
			ApplicationName: "planrun",
			Replicas:        1,
			Driver:          "pgx",
			MaxConnections:  200,
			TLS:             true,
			RTT:             410 * us,
		},
		Pool: results.Pool{
			Size: 20, MaxOverflow: 30, Timeout: 30 * time.Second, Recycle: 30 * time.Minute,
			PrePing: true, ConnectTimeout: 5 * time.Second,
		},
		StartedAt:  started,
		FinishedAt: started.Add(15*time.Minute + 4*time.Second),
		Status:     results.StatusCompleted,
		Preflight: []results.Check{
			{Name: "server reachable", Status: results.CheckPass, Reason: "connected in 3.2ms, PostgreSQL 16.4", Critical: true},
			{Name: "connection capacity", Status: results.CheckPass, Reason: "pool capacity 50 × 1 replica = 50 of max_connections 200 (3 reserved)", Critical: true},
			{Name: "pg_stat_statements", Status: results.CheckWarn, Reason: "extension not installed: server-side statement statistics unavailable"},
		},
		TimeScale: 1,
	}
}

// normalScenario is the calm 25-user scenario with a 30 s warm-up (the first
// two series points); identical in both runs.
func normalScenario() results.Scenario {
	s := results.Scenario{
		Name: "normal", Mix: "app", Status: results.StatusCompleted,
		StartedAt: started.Add(2 * time.Second), Planned: 5*time.Minute + 30*time.Second, Elapsed: 5*time.Minute + 30*time.Second + 12*ms,
		MaxUsers: 25, Ops: 79214, Errors: 0, SuccessRate: 1, Throughput: 240.04,
		Acquire: results.Latency{Count: 79214, Min: 4 * us, Mean: 31 * us, P50: 18 * us, P90: 44 * us, P95: 61 * us, P99: 240 * us, Max: 3100 * us,
			Histogram: encodedHistogram(4*us, 18*us, 18*us, 20*us, 44*us, 61*us, 240*us, 3100*us)},
		Query:       latency(95046, 120*us, 690*us, 410*us, 1200*us, 1900*us, 4800*us, 31*ms),
		Op:          latency(79214, 180*us, 3400*us, 1100*us, 21900*us, 22400*us, 24100*us, 48*ms),
		Hold:        latency(79214, 150*us, 3300*us, 1000*us, 21800*us, 22300*us, 24000*us, 47*ms),
		Connect:     latency(25, 2100*us, 3200*us, 3000*us, 4100*us, 4400*us, 5200*us, 5200*us),
		Operations:  appOperations(79214, 0, 61*us, [3]time.Duration{1800 * us, 3900 * us, 23500 * us}),
		ErrorsBy:    map[string]int64{},
		Connections: results.Connections{Opened: 25, Closed: 25, ClosedBy: map[string]int64{results.CloseEnd: 25}, MaxOpen: 25, Reuse: 0.99968},
		Utilization: results.Utilization{Mean: 0.041, P95: 0.1, Max: 0.22},
		Series:      series(22, 15*time.Second, ramp(25, 2), calm(0), 10),
		SeriesStep:  15 * time.Second,
		Warmup:      30 * time.Second,
	}
	s.Series[0].Warmup, s.Series[1].Warmup = true, true
	return s
}

// PassingRun is a completed run in which every critical assertion passed.
func PassingRun() *results.Run {
	run := baseRun()
	peak := results.Scenario{
		Name: "peak", Mix: "app", Status: results.StatusCompleted,
		StartedAt: started.Add(5*time.Minute + 34*time.Second), Planned: 5*time.Minute + 30*time.Second, Elapsed: 5*time.Minute + 30*time.Second + 8*ms,
		MaxUsers: 50, Ops: 155877, Errors: 0, SuccessRate: 1, Throughput: 472.35,
		Acquire:     latency(155877, 4*us, 210*us, 22*us, 120*us, 640*us, 8200*us, 41*ms),
		Query:       latency(187020, 120*us, 820*us, 460*us, 1500*us, 2300*us, 6100*us, 44*ms),
		Op:          latency(155877, 190*us, 3900*us, 1300*us, 22200*us, 23100*us, 29800*us, 71*ms),
		Hold:        latency(155877, 160*us, 3600*us, 1100*us, 22000*us, 22700*us, 26000*us, 66*ms),
		Connect:     latency(38, 2000*us, 3400*us, 3100*us, 4600*us, 4900*us, 6000*us, 6000*us),
		Operations:  appOperations(155877, 0, 640*us, [3]time.Duration{2100 * us, 4400 * us, 24100 * us}),
		ErrorsBy:    map[string]int64{},
		Connections: results.Connections{Opened: 38, Closed: 38, ClosedBy: map[string]int64{results.CloseOverflow: 18, results.CloseEnd: 20}, MaxOpen: 38, Reuse: 0.99976},
		Utilization: results.Utilization{Mean: 0.082, P95: 0.24, Max: 0.58},
		Series:      series(22, 15*time.Second, ramp(50, 2), flat(0.05), 9),
		SeriesStep:  15 * time.Second,
	}
	stress := results.Scenario{
		Name: "stress", Mix: "app", Status: results.StatusCompleted,
		StartedAt: started.Add(11*time.Minute + 6*time.Second), Planned: 3 * time.Minute, Elapsed: 3*time.Minute + 21*ms,
		MaxUsers: 100, Ops: 391240, Errors: 0, SuccessRate: 1, Throughput: 2173.34,
		Acquire:     latency(391240, 5*us, 9100*us, 3200*us, 21*ms, 38*ms, 96*ms, 412*ms),
		Query:       latency(469488, 130*us, 1100*us, 610*us, 2100*us, 3300*us, 9900*us, 88*ms),
		Op:          latency(391240, 240*us, 14*ms, 6100*us, 33*ms, 51*ms, 118*ms, 455*ms),
		Hold:        latency(391240, 170*us, 4300*us, 1200*us, 22500*us, 23800*us, 31*ms, 97*ms),
		Connect:     latency(50, 2000*us, 3900*us, 3300*us, 5800*us, 6400*us, 9100*us, 9100*us),
		Operations:  appOperations(391240, 0, 38*ms, [3]time.Duration{31 * ms, 44 * ms, 71 * ms}),
		ErrorsBy:    map[string]int64{},
		Connections: results.Connections{Opened: 50, Closed: 50, ClosedBy: map[string]int64{results.CloseOverflow: 30, results.CloseEnd: 20}, MaxOpen: 50, Reuse: 0.99987},
		Utilization: results.Utilization{Mean: 0.71, P95: 1, Max: 1},
		Exhaustion:  results.Exhaustion{Events: 14, Total: 8100 * ms, Longest: 2310 * ms, Timeouts: 0},
		Series:      series(18, 10*time.Second, constant(100), flat(0.6), 22),
		SeriesStep:  10 * time.Second,
	}
	recovery := exhaustionScenario(true)
	run.Scenarios = []results.Scenario{normalScenario(), peak, stress, recovery}
	run.Assertions = outcomes(map[string]results.Outcome{})
	run.Verdict = results.Verdict{Pass: true, Label: "APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
		{Name: "configuration", Status: "pass"},
		{Name: "preflight", Status: "warn", Reasons: []string{"pg_stat_statements: extension not installed: server-side statement statistics unavailable"}},
		{Name: "performance", Status: "pass"},
		{Name: "load capacity", Status: "pass"},
		{Name: "leaks", Status: "pass"},
		{Name: "recovery", Status: "pass"},
	}}
	return run
}

// exhaustionScenario is the 25 → 80 → 25 stage profile; recovered decides
// whether the pool came back within a second.
func exhaustionScenario(recovered bool) results.Scenario {
	s := results.Scenario{
		Name: "exhaustion_recovery", Mix: "app", Status: results.StatusCompleted,
		StartedAt: started.Add(14*time.Minute + 8*time.Second), Planned: 2 * time.Minute, Elapsed: 2*time.Minute + 17*ms,
		MaxUsers: 80, Ops: 201344, Errors: 37, SuccessRate: 1 - 37.0/201344, Throughput: 1677.56,
		Acquire:    latency(201344, 5*us, 21*ms, 2100*us, 96*ms, 148*ms, 610*ms, 1900*ms),
		Query:      latency(241560, 130*us, 1200*us, 640*us, 2300*us, 3500*us, 11*ms, 120*ms),
		Op:         latency(201344, 250*us, 26*ms, 5900*us, 120*ms, 171*ms, 640*ms, 1950*ms),
		Hold:       latency(201344, 170*us, 4500*us, 1200*us, 22700*us, 24100*us, 33*ms, 110*ms),
		Connect:    latency(50, 2100*us, 4100*us, 3500*us, 6100*us, 7000*us, 12*ms, 12*ms),
		Operations: appOperations(201344, 37, 148*ms, [3]time.Duration{380 * ms, 420 * ms, 460 * ms}),
		ErrorsBy:   map[string]int64{results.ErrAcquireTimeout: 0, results.ErrQuery: 37},
		ErrorSamples: map[string]string{
			results.ErrQuery: "ERROR: deadlock detected (SQLSTATE 40P01) | transfer",
		},
		SQLStates:   map[string]int64{"40P01": 37},
		Connections: results.Connections{Opened: 50, Closed: 50, ClosedBy: map[string]int64{results.CloseOverflow: 30, results.CloseEnd: 20}, MaxOpen: 50, Reuse: 0.99975},
		Utilization: results.Utilization{Mean: 0.78, P95: 1, Max: 1},
		Exhaustion:  results.Exhaustion{Events: 3, Total: 58200 * ms, Longest: 55 * time.Second},
		Recovery:    &results.Recovery{AfterStage: 2, Status: results.RecoveryRecovered, Duration: 412 * ms, Settle: 500 * ms},
		Series: series(24, 5*time.Second,
			func(i int) int {
				switch {
				case i < 6:
					return 25
				case i < 18:
					return 80
				default:
					return 25
				}
			},
			func(i int) float64 {
				if i >= 6 && i < 18 {
					return 1
				}
				return 0.05
			}, 21),
		SeriesStep: 5 * time.Second,
	}
	if !recovered {
		s.Errors = 1240 + 37
		s.SuccessRate = 1 - float64(s.Errors)/float64(s.Ops)
		s.Throughput = float64(s.Ops-s.Errors) / s.Elapsed.Seconds()
		s.ErrorsBy = map[string]int64{results.ErrAcquireTimeout: 1240, results.ErrQuery: 37, results.ErrConnect: 0}
		s.ErrorSamples = map[string]string{
			results.ErrAcquireTimeout: "QueuePool limit of size 20 overflow 30 reached, connection timed out, timeout 30s",
			results.ErrQuery:          "ERROR: deadlock detected (SQLSTATE 40P01) | transfer",
		}
		s.Acquire = latency(201344, 5*us, 2100*ms, 2400*us, 7*time.Second, 12*time.Second, 30*time.Second, 30*time.Second+4*ms)
		s.Op = latency(201344, 250*us, 2200*ms, 6100*us, 7100*ms, 12100*ms, 30*time.Second+31*ms, 30*time.Second+58*ms)
		s.Exhaustion = results.Exhaustion{Events: 2, Total: 61 * time.Second, Longest: 59200 * ms, Timeouts: 1240}
		s.Recovery = &results.Recovery{AfterStage: 2, Status: results.RecoveryNotRecovered, Duration: 30 * time.Second, Settle: 500 * ms}
		s.Cancelled = 12 // cut short at the drain deadline, not errors
		s.Leaks = 2
		s.LeakDetails = []results.Leak{
			{Operation: "monthly_report", User: 61, Held: 2*time.Minute + 17*ms, Kind: "unreleased"},
			{Operation: "transfer", User: 7, Held: 2 * time.Minute, Kind: "unreleased"},
		}
	}
	return s
}

// assertion is one assertion of the production plan with, per scenario, the
// actual value a passing run shows.
type assertion struct {
	name, check, severity string
	scenarios             []string
	actual                map[string]string
	builtin               bool // added by planrun, not written in the plan
}

var productionAssertions = []assertion{
	{name: "acquire p95 under 200ms", check: "acquire.p95 < 200ms", actual: map[string]string{
		"normal": "acquire.p95 = 61µs", "peak": "acquire.p95 = 640µs", "stress": "acquire.p95 = 38ms", "exhaustion_recovery": "acquire.p95 = 148ms"}},
	{name: "query p95 under 500ms", check: "query.p95 < 500ms", actual: map[string]string{
		"normal": "query.p95 = 1.9ms", "peak": "query.p95 = 2.3ms", "stress": "query.p95 = 3.3ms", "exhaustion_recovery": "query.p95 = 3.5ms"}},
	{name: "success rate above 95%", check: "success_rate > 0.95", actual: map[string]string{
		"normal": "success_rate = 100%", "peak": "success_rate = 100%", "stress": "success_rate = 100%", "exhaustion_recovery": "success_rate = 99.98%"}},
	{name: "zero connection leaks", check: "leaks == 0", builtin: true, actual: map[string]string{
		"normal": "leaks = 0", "peak": "leaks = 0", "stress": "leaks = 0", "exhaustion_recovery": "leaks = 0"}},
	{name: "no 8-15 s timeout regressions", check: "acquire.max < 8s && op.max < 8s", actual: map[string]string{
		"normal": "acquire.max = 3.1ms, op.max = 48ms", "peak": "acquire.max = 41ms, op.max = 71ms",
		"stress": "acquire.max = 412ms, op.max = 455ms", "exhaustion_recovery": "acquire.max = 1.9s, op.max = 1.95s"}},
	{name: "exhaustion recovers within 1s", check: "recovery < 1s", scenarios: []string{"exhaustion_recovery"}, actual: map[string]string{
		"exhaustion_recovery": "recovery = 412ms"}},
	{name: "pool configuration", check: `pool.size == 20 && pool.max_overflow == 30 && pool.timeout == 30s && driver == "pgx"`, actual: map[string]string{
		"normal": "", "peak": "", "stress": "", "exhaustion_recovery": ""}},
	{name: "pool utilization below 85% sustained", check: "utilization.p95 < 0.85", severity: "warning", scenarios: []string{"normal", "peak"}, actual: map[string]string{
		"normal": "utilization.p95 = 10.0%", "peak": "utilization.p95 = 24.0%"}},
	{name: "soak holds for an hour", check: "op.p99 < 100ms", scenarios: []string{"soak"}},
}

const poolConfigActual = `pool.size = 20, pool.max_overflow = 30, pool.timeout = 30s, driver = "pgx"`

var scenarioNames = []string{"normal", "peak", "stress", "exhaustion_recovery", "soak"}

// outcomes evaluates productionAssertions as a passing run would, then
// applies overrides keyed "assertion name/scenario".
func outcomes(overrides map[string]results.Outcome) []results.Outcome {
	var out []results.Outcome
	for _, a := range productionAssertions {
		for _, sc := range scenarioNames {
			if (len(a.scenarios) == 0 && sc == "soak") || (len(a.scenarios) > 0 && !contains(a.scenarios, sc)) {
				continue
			}
			o := results.Outcome{Name: a.name, Check: a.check, Scenario: sc, Severity: "critical", Status: results.OutcomePass, Actual: a.actual[sc], Builtin: a.builtin}
			if a.severity == "warning" {
				o.Severity = "warning"
			}
			if a.name == "pool configuration" {
				o.Actual = poolConfigActual
			}
			if sc == "soak" {
				o.Status, o.Reason = results.OutcomeSkipped, "scenario soak was not selected (--scenario)"
			}
			if ov, ok := overrides[a.name+"/"+sc]; ok {
				o.Status, o.Actual, o.Reason, o.Aborted = ov.Status, ov.Actual, ov.Reason, ov.Aborted
			}
			out = append(out, o)
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// FailingRun is a completed run that is not approved: acquire waits too long
// under stress, exhaustion does not recover, connections leak, the peak
// utilization warning fires and one assertion cannot be evaluated.
func FailingRun() *results.Run {
	run := PassingRun()
	stress := &run.Scenarios[2]
	stress.Acquire = latency(391240, 5*us, 61*ms, 9*ms, 190*ms, 312*ms, 890*ms, 2100*ms)
	stress.Op = latency(391240, 240*us, 66*ms, 12*ms, 205*ms, 330*ms, 910*ms, 2130*ms)
	stress.Errors = 3
	stress.SuccessRate = 1 - 3.0/391240
	stress.Throughput = float64(391240-3) / stress.Elapsed.Seconds()
	stress.ErrorsBy = map[string]int64{results.ErrBroken: 3}
	stress.ErrorSamples = map[string]string{results.ErrBroken: "conn closed: unexpected EOF"}
	run.Scenarios[1].Utilization = results.Utilization{Mean: 0.62, P95: 0.912, Max: 1}
	run.Scenarios[3] = exhaustionScenario(false)

	run.Assertions = outcomes(map[string]results.Outcome{
		"acquire p95 under 200ms/stress":              {Status: results.OutcomeFail, Actual: "acquire.p95 = 312ms"},
		"acquire p95 under 200ms/exhaustion_recovery": {Status: results.OutcomeFail, Actual: "acquire.p95 = 12s"},
		"success rate above 95%/exhaustion_recovery":  {Status: results.OutcomePass, Actual: "success_rate = 99.4%"},
		"zero connection leaks/exhaustion_recovery":   {Status: results.OutcomeFail, Actual: "leaks = 2"},
		"no 8-15 s timeout regressions/exhaustion_recovery": {Status: results.OutcomeFail,
			Actual: "acquire.max = 30s, op.max = 30.1s"},
		"exhaustion recovers within 1s/exhaustion_recovery": {Status: results.OutcomeFail, Actual: "recovery = 30s (not recovered)"},
		"pool utilization below 85% sustained/peak":         {Status: results.OutcomeFail, Actual: "utilization.p95 = 91.2%"},
	})
	run.Assertions = append(run.Assertions, results.Outcome{
		Name: "query p99 under 1s", Check: `query.p99 < duration("1 s")`, Scenario: "normal", Severity: "critical",
		Status: results.OutcomeError, Reason: `time: unknown unit " s" in duration "1 s"`,
	})
	run.Verdict = results.Verdict{Pass: false, Label: "NOT APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
		{Name: "configuration", Status: "pass"},
		{Name: "preflight", Status: "warn", Reasons: []string{"pg_stat_statements: extension not installed: server-side statement statistics unavailable"}},
		{Name: "performance", Status: "fail", Reasons: []string{"acquire p95 under 200ms (stress): acquire.p95 = 312ms", "acquire p95 under 200ms (exhaustion_recovery): acquire.p95 = 12s", "query p99 under 1s (normal): could not evaluate"}},
		{Name: "load capacity", Status: "fail", Reasons: []string{"no 8-15 s timeout regressions (exhaustion_recovery): acquire.max = 30s, op.max = 30.1s"}},
		{Name: "leaks", Status: "fail", Reasons: []string{"zero connection leaks (exhaustion_recovery): leaks = 2"}},
		{Name: "recovery", Status: "fail", Reasons: []string{"exhaustion recovers within 1s (exhaustion_recovery): recovery = 30s (not recovered)"}},
	}}
	return run
}

// UnreachableRun is a run that failed in preflight: no load, no assertions.
func UnreachableRun() *results.Run {
	run := baseRun()
	run.FinishedAt = started.Add(5*time.Second + 20*ms)
	run.Status = results.StatusFailed
	run.StatusReason = "preflight: server reachable: dial tcp 10.20.0.5:5432: connect: connection refused"
	run.Target.ServerVersion = ""
	run.Target.MaxConnections = 0
	run.Target.RTT = 0
	run.Preflight = []results.Check{
		{Name: "server reachable", Status: results.CheckFail, Reason: "dial tcp 10.20.0.5:5432: connect: connection refused (after 5s connect_timeout)", Critical: true},
	}
	run.Verdict = results.Verdict{Pass: false, Label: "NOT APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
		{Name: "preflight", Status: "fail", Reasons: []string{"server reachable: dial tcp 10.20.0.5:5432: connect: connection refused"}},
	}}
	return run
}

// InconclusiveRun is a completed run whose load generator fell behind in
// the stress scenario: the verdict is INCONCLUSIVE, with its reason.
func InconclusiveRun() *results.Run {
	run := PassingRun()
	for i := range run.Scenarios {
		run.Scenarios[i].Generator = results.Generator{
			TimerLateness: latency(33000, 1*us, 90*us, 40*us, 300*us, 900*us, 2100*us, 14*ms),
			CPU:           0.41, ServerCPU: 0.62, ServiceCPU: -1, MachineCPU: 1.1, Cores: 2,
		}
	}
	stress := &run.Scenarios[2].Generator
	stress.TimerLateness = latency(33000, 1*us, 9*ms, 2*ms, 60*ms, 110*ms, 180*ms, 420*ms)
	stress.CPU, stress.ServerCPU, stress.MachineCPU = 0.93, 1.01, 1.96
	reason := "the load generator fell behind in stress (timer lateness p99 180ms, CPU 1.96 of 2 cores): these figures describe this machine, not the pool; rerun on an idle machine or lower the load"
	run.Verdict.Pass, run.Verdict.Inconclusive, run.Verdict.Label, run.Verdict.Reason = false, true, "INCONCLUSIVE", reason
	run.Verdict.Criteria = append([]results.Criterion{
		{Name: "measurement", Status: "fail", Reasons: []string{reason + " (limits: timer lateness p99 ≤ 20ms, lag p99 ≤ 20ms)"}},
	}, run.Verdict.Criteria...)
	return run
}

// FaultsRun is a run through a simulated network (2 ms ± 500 µs, 100 MB/s)
// whose "outage" scenario schedules four faults: a stall the pool recovers
// from, a backend kill it does not recover from before the run is
// interrupted, a lock that fails to apply (the server says why) and a
// reset the scenario never reaches. The scenario's recovery is the worst
// of the faults' (results.WorstRecovery).
func FaultsRun() *results.Run {
	run := baseRun()
	run.Target.Network = &results.Network{Latency: 2 * ms, Jitter: 500 * us, Bandwidth: 100_000_000}
	run.FinishedAt = started.Add(52 * time.Second)
	run.Status = results.StatusInterrupted
	run.StatusReason = "interrupted (SIGINT); the results hold what was measured until then"

	settle := 500 * ms
	stallRecovery := &results.Recovery{AfterFault: 1, Status: results.RecoveryRecovered, Duration: 1240 * ms, Settle: settle}
	killRecovery := &results.Recovery{AfterFault: 2, Status: results.RecoveryNotRecovered, Duration: 8100 * ms, Settle: settle}
	faults := []results.Fault{
		{Kind: "stall", What: "stall for 2s", At: 10 * time.Second, For: 2 * time.Second, Status: results.FaultApplied,
			Started: 10*time.Second + 1*ms, Ended: 12*time.Second + 3*ms, Effect: "stalled 40 connections for 2s", Recovery: stallRecovery},
		{Kind: "terminate_backends", What: "terminate 50% of the pool's backends", At: 30 * time.Second, Status: results.FaultApplied,
			Started: 30*time.Second + 2*ms, Ended: 30*time.Second + 2*ms, Effect: "terminated 12 of 24 backends", Recovery: killRecovery},
		{Kind: "lock", What: "lock planrun_accounts for 3s", At: 35 * time.Second, For: 3 * time.Second, Status: results.FaultFailed,
			Started: 35*time.Second + 1*ms, Ended: 35*time.Second + 1*ms,
			Effect: `ERROR: relation "planrun_accounts" does not exist (SQLSTATE 42P01)`},
		{Kind: "reset", What: "reset every pool connection", At: 45 * time.Second, Status: results.FaultNotReached,
			Effect: "the scenario stopped at 38.1s"},
	}
	outage := results.Scenario{
		Name: "outage", Mix: "app", Status: results.StatusInterrupted,
		StartedAt: started.Add(4 * time.Second), Planned: time.Minute, Elapsed: 38100 * ms,
		MaxUsers: 40, Ops: 21480, Errors: 312, SuccessRate: 1 - 312.0/21480, Throughput: float64(21480-312) / 38.1,
		Acquire:    latency(21480, 6*us, 96*ms, 410*us, 1200*ms, 1900*ms, 2100*ms, 5*time.Second),
		Query:      latency(25776, 2100*us, 2900*us, 2600*us, 3300*us, 3700*us, 2010*ms, 2040*ms),
		Op:         latency(21480, 4300*us, 120*ms, 24*ms, 1300*ms, 2000*ms, 2200*ms, 5*time.Second+30*ms),
		Hold:       latency(21480, 4200*us, 31*ms, 23*ms, 27*ms, 29*ms, 2020*ms, 2050*ms),
		Connect:    latency(36, 8200*us, 9100*us, 8900*us, 9800*us, 10*ms, 11*ms, 11*ms),
		Operations: appOperations(21480, 312, 1900*ms, [3]time.Duration{1900 * ms, 2000 * ms, 2100 * ms}),
		ErrorsBy:   map[string]int64{results.ErrBroken: 12, results.ErrAcquireTimeout: 300},
		ErrorSamples: map[string]string{
			results.ErrBroken:         "FATAL: terminating connection due to administrator command (SQLSTATE 57P01)",
			results.ErrAcquireTimeout: "QueuePool limit of size 20 overflow 30 reached, connection timed out, timeout 5s",
		},
		SQLStates:   map[string]int64{"57P01": 12},
		Connections: results.Connections{Opened: 36, Closed: 36, ClosedBy: map[string]int64{results.CloseBroken: 12, results.CloseEnd: 24}, MaxOpen: 24, Reuse: 0.9983},
		Utilization: results.Utilization{Mean: 0.52, P95: 1, Max: 1},
		Exhaustion:  results.Exhaustion{Events: 2, Total: 10 * time.Second, Longest: 8100 * ms, Timeouts: 300},
		Recovery:    results.WorstRecovery(stallRecovery, killRecovery),
		Faults:      faults,
		Series: series(38, time.Second, constant(40), func(i int) float64 {
			switch {
			case i >= 10 && i < 13, i >= 30:
				return 1
			}
			return 0.05
		}, 14),
		SeriesStep: time.Second,
	}
	// During the stall nothing completes, nor fails.
	for i := 10; i < 12; i++ {
		outage.Series[i].Ops, outage.Series[i].Errors = 0, 0
	}
	run.Scenarios = []results.Scenario{outage}
	run.Assertions = []results.Outcome{
		{Name: "success rate above 95%", Check: "success_rate > 0.95", Scenario: "outage", Severity: "critical",
			Status: results.OutcomePass, Actual: "success_rate = 98.5%"},
		{Name: "recovery within 2s", Check: "recovery < 2s", Scenario: "outage", Severity: "critical",
			Status: results.OutcomeFail, Actual: "recovery = 8.1s (not recovered)"},
	}
	run.Verdict = results.Verdict{Pass: false, Label: "NOT APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
		{Name: "recovery", Status: "fail", Reasons: []string{"recovery within 2s (outage): recovery = 8.1s (not recovered)"}},
	}}
	return run
}

// replica is one replica's figures in a fixture; max open is its whole
// pool (2 + 1) when its utilization reached 100 %, else 2.
func replica(index int, acquires int64, utilMean, utilMax float64, events int, total time.Duration, timeouts int64) results.Replica {
	maxOpen := 3
	if utilMax < 1 {
		maxOpen = 2
	}
	return results.Replica{
		Index: index, Acquires: acquires, MaxOpen: maxOpen,
		Utilization: results.Utilization{Mean: utilMean, P95: utilMax, Max: utilMax},
		Exhaustion:  results.Exhaustion{Events: events, Total: total, Longest: total / time.Duration(max(events, 1)) * 3, Timeouts: timeouts, Share: float64(total) / float64(time.Minute)},
	}
}

// contentionRun is the skeleton of the replica fixtures: the issue's
// contention plan, 30 users holding a connection 50 ms each against
// replicas pools of 2 + 1.
func contentionRun(replicas int) *results.Run {
	run := baseRun()
	run.Plan.Name, run.Plan.File, run.Plan.Description = "contention", "plans/contention.yaml", "Thirty users against the replicas' pools of 2 + 1."
	run.Target.Replicas = replicas
	run.Pool = results.Pool{Size: 2, MaxOverflow: 1, Timeout: 5 * time.Second, ConnectTimeout: 5 * time.Second}
	run.Preflight = []results.Check{
		{Name: "server reachable", Status: results.CheckPass, Reason: "connected in 3.2ms, PostgreSQL 16.4", Critical: true},
		{Name: "connection capacity", Status: results.CheckPass, Reason: fmt.Sprintf("pool capacity 3 × %d replicas = %d of max_connections 200 (3 reserved)", replicas, 3*replicas), Critical: true},
	}
	run.FinishedAt = started.Add(time.Minute + 4*time.Second)
	return run
}

// contentionScenario is a one-minute closed scenario of users on reps: the
// totals are the replicas' sums (utilization: their mean, max open: the
// sum), as the engine records them.
func contentionScenario(name string, start time.Time, users int, reps []results.Replica) results.Scenario {
	s := results.Scenario{
		Name: name, Mix: "app", Status: results.StatusCompleted, Model: results.ModelClosed,
		StartedAt: start, Planned: time.Minute, Elapsed: time.Minute + 9*ms, MaxUsers: users,
		ErrorsBy: map[string]int64{},
		Replicas: reps,
	}
	var acquires int64
	for _, r := range reps {
		acquires += r.Acquires
		s.Connections.MaxOpen += r.MaxOpen
		s.Utilization.Mean += r.Utilization.Mean / float64(len(reps))
		s.Utilization.Max, s.Utilization.P95 = max(s.Utilization.Max, r.Utilization.Max), max(s.Utilization.P95, r.Utilization.P95)
		s.Exhaustion.Events += r.Exhaustion.Events
		s.Exhaustion.Total += r.Exhaustion.Total
		s.Exhaustion.Longest = max(s.Exhaustion.Longest, r.Exhaustion.Longest)
		s.Exhaustion.Timeouts += r.Exhaustion.Timeouts
	}
	s.Exhaustion.Share = float64(s.Exhaustion.Total) / float64(time.Duration(len(reps))*time.Minute)
	s.Ops, s.Errors = acquires+s.Exhaustion.Timeouts, s.Exhaustion.Timeouts
	s.SuccessRate = 1 - float64(s.Errors)/float64(s.Ops)
	s.Throughput = float64(acquires) / 60
	if s.Errors > 0 {
		s.ErrorsBy[results.ErrAcquireTimeout] = s.Errors
		s.ErrorSamples = map[string]string{results.ErrAcquireTimeout: "QueuePool limit of size 2 overflow 1 reached, connection timed out, timeout 5s"}
	}
	s.Acquire = latency(s.Ops, 4*us, 117*ms, 112*ms, 190*ms, 240*ms, 420*ms, 5*time.Second)
	s.Op = latency(s.Ops, 50*ms, 168*ms, 163*ms, 241*ms, 291*ms, 471*ms, 5*time.Second)
	s.Query = latency(acquires, 50*ms, 50400*us, 50300*us, 50900*us, 51*ms, 53*ms, 58*ms)
	s.Hold = latency(acquires, 50*ms, 51*ms, 51*ms, 52*ms, 52*ms, 55*ms, 61*ms)
	s.Connect = latency(int64(s.Connections.MaxOpen), 2*ms, 3*ms, 3*ms, 4*ms, 4*ms, 5*ms, 5*ms)
	s.Connections.Opened, s.Connections.Closed = int64(s.Connections.MaxOpen), int64(s.Connections.MaxOpen)
	s.Connections.ClosedBy = map[string]int64{results.CloseEnd: int64(s.Connections.MaxOpen)}
	s.Connections.Reuse = 1 - float64(s.Connections.Opened)/float64(acquires)
	s.Operations = []results.Operation{{Name: "hold", Weight: 1, Share: 1, Ops: s.Ops, Errors: s.Errors, SuccessRate: s.SuccessRate, Acquire: s.Acquire, Query: s.Query, Op: s.Op}}
	return s
}

// contentionOutcomes are the contention plan's assertions on scenario name:
// throughput, and no replica timing out, which replica timeouts fail.
func contentionOutcomes(s results.Scenario) []results.Outcome {
	var worst int64
	for _, r := range s.Replicas {
		worst = max(worst, r.Exhaustion.Timeouts)
	}
	timeouts := results.Outcome{Name: "no replica times out", Check: "replicas.exhaustion.timeouts == 0", Scenario: s.Name, Severity: results.SeverityCritical,
		Status: results.OutcomePass, Actual: fmt.Sprintf("replicas.exhaustion.timeouts = %d", worst)}
	if worst > 0 {
		timeouts.Status = results.OutcomeFail
	}
	return []results.Outcome{
		{Name: "throughput near 9 / 50ms", Check: "throughput > 150", Scenario: s.Name, Severity: results.SeverityCritical,
			Status: results.OutcomePass, Actual: fmt.Sprintf("throughput = %.1f", s.Throughput)},
		timeouts,
	}
}

// verdictOf is the contention plan's verdict on outcomes.
func verdictOf(outcomes []results.Outcome) results.Verdict {
	for _, o := range outcomes {
		if o.Status == results.OutcomeFail {
			return results.Verdict{Pass: false, Label: "NOT APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
				{Name: "load capacity", Status: "fail", Reasons: []string{o.Name + " (" + o.Scenario + "): " + o.Actual}},
			}}
		}
	}
	return results.Verdict{Pass: true, Label: "APPROVED FOR PRODUCTION", Criteria: []results.Criterion{{Name: "load capacity", Status: "pass"}}}
}

// ReplicasRun is the contention plan with target.replicas 3: one scenario,
// whose second replica was exhausted longest and timed out three times.
func ReplicasRun() *results.Run {
	run := contentionRun(3)
	s := contentionScenario("contention", started.Add(3*time.Second), 30, []results.Replica{
		replica(1, 3601, 0.97, 1, 41, 52100*ms, 0),
		replica(2, 3589, 0.99, 1, 57, 57400*ms, 3),
		replica(3, 3598, 0.96, 1, 38, 50900*ms, 0),
	})
	run.Scenarios = []results.Scenario{s}
	run.Assertions = contentionOutcomes(s)
	run.Verdict = verdictOf(run.Assertions)
	return run
}

// SegmentRun is segment 2 of 3 of the contention plan with six replicas:
// it ran replicas 3 and 4 and ten of the thirty users, from a --start-at
// instant.
func SegmentRun() *results.Run {
	run := contentionRun(6)
	run.Segment = &results.Segment{Index: 2, Count: 3, StartAt: started.Add(5 * time.Second), Replicas: []int{3, 4}}
	s := contentionScenario("contention", started.Add(5*time.Second), 10, []results.Replica{
		replica(3, 3598, 0.81, 1, 12, 9100*ms, 0),
		replica(4, 3602, 0.83, 1, 14, 10200*ms, 0),
	})
	run.Scenarios = []results.Scenario{s}
	run.Assertions = contentionOutcomes(s)
	run.Verdict = verdictOf(run.Assertions)
	return run
}

// MergedRun is the contention plan with six replicas, run as three
// segments and merged from their reports: two scenarios of six replicas,
// twelve replica rows. In warm only replica 4 filled its pool, briefly;
// in hot every pool was exhausted and most timed out.
func MergedRun() *results.Run {
	run := contentionRun(6)
	run.Merged = &results.Merged{Files: []string{"reports/segment-1.json", "reports/segment-2.json", "/tmp/ci/segment-3.json"}, Segments: 3}
	warm := contentionScenario("warm", started.Add(5*time.Second), 12, []results.Replica{
		replica(1, 2398, 0.64, 0.67, 0, 0, 0), replica(2, 2401, 0.65, 0.67, 0, 0, 0),
		replica(3, 2399, 0.64, 0.67, 0, 0, 0), replica(4, 2371, 0.66, 1, 2, 310*ms, 0),
		replica(5, 2400, 0.65, 0.67, 0, 0, 0), replica(6, 2397, 0.64, 0.67, 0, 0, 0),
	})
	hot := contentionScenario("hot", started.Add(time.Minute+6*time.Second), 60, []results.Replica{
		replica(1, 3580, 0.99, 1, 58, 58100*ms, 2), replica(2, 3577, 0.99, 1, 57, 58900*ms, 4),
		replica(3, 3583, 0.99, 1, 59, 58300*ms, 1), replica(4, 3579, 0.99, 1, 58, 59300*ms, 4),
		replica(5, 3585, 0.98, 1, 56, 57800*ms, 0), replica(6, 3581, 0.99, 1, 58, 58000*ms, 3),
	})
	run.FinishedAt = started.Add(2*time.Minute + 10*time.Second)
	run.Scenarios = []results.Scenario{warm, hot}
	run.Assertions = append(contentionOutcomes(warm), contentionOutcomes(hot)...)
	run.Verdict = verdictOf(run.Assertions)
	return run
}

// ServiceRun puts a service with its own pool under test (target.service,
// two processes of 10 + 5): in steady its pool stayed well below capacity
// but the check after the drain could not be made and two samples were
// missed; in leaky it held two connections (one idle in transaction past
// the threshold, one never returned); in cold its backends were never
// found.
func ServiceRun() *results.Run {
	run := contentionRun(1)
	run.Plan.Name, run.Plan.File, run.Plan.Description = "service", "plans/service.yaml", "The finance API under load, watched from the server."
	svc := func(samples int, backends, inUse results.ServiceLevel, idle time.Duration, locks, headroom int, opened int64) *results.Service {
		return &results.Service{
			ApplicationName: "finance-api", Capacity: 30, Interval: 100 * ms, Samples: samples, DrainChecked: true,
			Backends: backends, InUse: inUse,
			Utilization:       results.Utilization{Mean: inUse.Mean / 30, P95: float64(inUse.P95) / 30, Max: float64(inUse.Max) / 30},
			IdleInTransaction: results.IdleInTransaction{Max: idle},
			LockWaits:         results.LockWaits{Max: locks},
			Headroom:          results.Headroom{Min: headroom},
			Connections:       results.ServiceConnections{Opened: opened, Closed: opened, MaxOpen: int(opened)},
		}
	}
	steady := contentionScenario("steady", started.Add(3*time.Second), 20, []results.Replica{replica(1, 3601, 0.41, 0.67, 0, 0, 0)})
	steady.Service = svc(598, results.ServiceLevel{Max: 14, Mean: 11.4, P95: 13}, results.ServiceLevel{Max: 9, Mean: 4.2, P95: 7}, 38*ms, 0, 171, 14)
	steady.Service.Missed, steady.Service.MissedReason = 2, "timeout: context deadline exceeded"
	steady.Service.DrainChecked, steady.Service.DrainNotChecked = false, "the monitor connection was lost: FATAL: terminating connection due to administrator command (SQLSTATE 57P01)"

	leaky := contentionScenario("leaky", started.Add(67*time.Second), 20, []results.Replica{replica(1, 3588, 0.44, 0.67, 0, 0, 0)})
	leaky.Service = svc(600, results.ServiceLevel{Max: 15, Mean: 12.1, P95: 15}, results.ServiceLevel{Max: 12, Mean: 5.9, P95: 10}, 31*time.Second, 2, 170, 15)
	leaky.Service.Leaks = 2
	leaky.Service.LeakDetails = []results.ServiceLeak{
		{PID: 48213, Age: 12400 * ms, State: "idle in transaction", Kind: "held",
			Query: "UPDATE accounts SET balance = balance - $1 WHERE id = $2"},
		{PID: 48230, Age: 31 * time.Second, State: "idle in transaction", Kind: "unreleased",
			Query: "SELECT pg_sleep(0) /* leak\\n */ FROM orders WHERE status = 'open' FOR UPDATE"},
	}

	cold := contentionScenario("cold", started.Add(131*time.Second), 5, []results.Replica{replica(1, 3590, 0.12, 0.33, 0, 0, 0)})
	cold.Service = &results.Service{ApplicationName: "finance-api", Capacity: 30, Interval: 100 * ms,
		NotFound: `no backend with application_name "finance-api": set target.service.application_name`}

	run.FinishedAt = started.Add(3*time.Minute + 14*time.Second)
	run.Scenarios = []results.Scenario{steady, leaky, cold}
	for i := range run.Scenarios { // planrun started the service: its CPU is measured beside the server's
		run.Scenarios[i].Generator = results.Generator{
			TimerLateness: latency(12000, 1*us, 120*us, 60*us, 400*us, 900*us, 1800*us, 9*ms),
			CPU:           0.31, ServerCPU: 0.44, ServiceCPU: []float64{0.58, 0.68, 0.78}[i], MachineCPU: 1.42, Cores: 2,
		}
	}
	util := func(s results.Scenario, status results.OutcomeStatus) results.Outcome {
		return results.Outcome{Name: "service pool below 80%", Check: "service.utilization.max < 0.8", Scenario: s.Name, Severity: results.SeverityCritical,
			Status: status, Actual: "service.utilization.max = " + humanize.Percent(s.Service.Utilization.Max)}
	}
	leaks := func(s results.Scenario, status results.OutcomeStatus) results.Outcome {
		return results.Outcome{Name: "no service leaks", Check: "service.leaks == 0", Scenario: s.Name, Severity: results.SeverityCritical,
			Status: status, Actual: fmt.Sprintf("service.leaks = %d", s.Service.Leaks)}
	}
	notFound := "service.* was not measured: " + cold.Service.NotFound
	run.Assertions = []results.Outcome{
		util(steady, results.OutcomePass), util(leaky, results.OutcomePass),
		{Name: "service pool below 80%", Check: "service.utilization.max < 0.8", Scenario: "cold", Severity: results.SeverityCritical,
			Status: results.OutcomeSkipped, Unmeasured: true, Reason: notFound},
		{Name: "no service leaks", Check: "service.leaks == 0", Scenario: "steady", Severity: results.SeverityCritical,
			Status: results.OutcomeSkipped, Unmeasured: true, Reason: "service.leaks was not fully measured: the check after the drain was not made: " + steady.Service.DrainNotChecked},
		leaks(leaky, results.OutcomeFail),
		{Name: "no service leaks", Check: "service.leaks == 0", Scenario: "cold", Severity: results.SeverityCritical,
			Status: results.OutcomeSkipped, Unmeasured: true, Reason: notFound},
	}
	run.Verdict = results.Verdict{Pass: false, Label: "NOT APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
		{Name: "load capacity", Status: "fail", Reasons: []string{"service pool below 80% on cold: skipped, not measured: " + notFound}},
		{Name: "leaks", Status: "fail", Reasons: []string{"no service leaks (leaky): service.leaks = 2",
			"no service leaks on steady: skipped, not measured: service.leaks was not fully measured", "no service leaks on cold: skipped, not measured: " + notFound}},
	}}
	return run
}

// HTTPOnlyRun is a run of a service under test with an HTTP-only scenario
// (api: its mix sends only requests, so planrun's own pool took no load and
// its figures are zeros) and a SQL one beside it (batch). An assertion on
// planrun's utilization applies to both: judged on batch, not applicable on
// api; the built-in leak check judges the service's leaks on api.
func HTTPOnlyRun() *results.Run {
	run := contentionRun(1)
	run.Plan.Name, run.Plan.File, run.Plan.Description = "http-only", "plans/api.yaml", "Requests to the finance API beside a SQL batch."
	api := results.Scenario{
		Name: "api", Mix: "requests", HTTPOnly: true, Status: results.StatusCompleted, Model: results.ModelOpen,
		StartedAt: started.Add(3 * time.Second), Planned: time.Minute, Elapsed: time.Minute + 12*ms, MaxUsers: 14,
		Rate: 50, Arrivals: 3000, Ops: 3000, Errors: 3, SuccessRate: 0.999, Throughput: 49.95,
		ErrorsBy:     map[string]int64{results.ErrHTTP5xx: 3},
		ErrorSamples: map[string]string{results.ErrHTTP5xx: "503 Service Unavailable: QueuePool limit of size 4 overflow 2 reached"},
		Lag:          latency(3000, 20*us, 90*us, 70*us, 150*us, 210*us, 900*us, 3*ms),
		Op:           latency(3000, 3*ms, 11*ms, 8*ms, 19*ms, 27*ms, 61*ms, 2*time.Second),
		Utilization:  results.Utilization{}, Connections: results.Connections{ClosedBy: map[string]int64{}},
		Operations: []results.Operation{{Name: "balance", Weight: 1, Share: 1, Ops: 3000, Errors: 3, SuccessRate: 0.999,
			Op: latency(3000, 3*ms, 11*ms, 8*ms, 19*ms, 27*ms, 61*ms, 2*time.Second)}},
		SeriesStep: 15 * time.Second,
	}
	for i := range 4 {
		api.Series = append(api.Series, results.Point{T: time.Duration(i+1) * 15 * time.Second, Ops: 750, OpP95: time.Duration(20+i) * ms})
	}
	api.Service = &results.Service{
		ApplicationName: "finance-api", Capacity: 6, Interval: 100 * ms, Samples: 600, DrainChecked: true,
		Backends: results.ServiceLevel{Max: 6, Mean: 4.5, P95: 6}, InUse: results.ServiceLevel{Max: 6, Mean: 2.1, P95: 5},
		Utilization:       results.Utilization{Mean: 0.35, P95: 5.0 / 6, Max: 1},
		IdleInTransaction: results.IdleInTransaction{Max: 12 * ms},
		Headroom:          results.Headroom{Min: 90},
		Connections:       results.ServiceConnections{Opened: 6, Closed: 6, MaxOpen: 6},
	}
	batch := contentionScenario("batch", started.Add(67*time.Second), 20, []results.Replica{replica(1, 3601, 0.41, 0.67, 0, 0, 0)})
	run.FinishedAt = started.Add(2*time.Minute + 14*time.Second)
	run.Scenarios = []results.Scenario{api, batch}
	run.Assertions = []results.Outcome{
		{Name: "pool below 85%", Check: "utilization.p95 < 0.85", Scenario: "api", Severity: results.SeverityCritical, Status: results.OutcomeSkipped,
			Reason: "not applicable: scenario api sends only HTTP requests, so planrun's own pool took no load (`utilization.p95` reads it); the service's pool is service.*"},
		{Name: "pool below 85%", Check: "utilization.p95 < 0.85", Scenario: "batch", Severity: results.SeverityCritical, Status: results.OutcomePass,
			Actual: "utilization.p95 = " + humanize.Percent(batch.Utilization.P95)},
		{Name: "built-in: no connection leaks", Check: "service.leaks == 0", Scenario: "api", Severity: results.SeverityCritical, Status: results.OutcomePass,
			Actual: "service.leaks = 0", Builtin: true},
		{Name: "built-in: no connection leaks", Check: "leaks == 0", Scenario: "batch", Severity: results.SeverityCritical, Status: results.OutcomePass,
			Actual: "leaks = 0", Builtin: true},
	}
	run.Verdict = results.Verdict{Pass: true, Label: "APPROVED FOR PRODUCTION", Criteria: []results.Criterion{
		{Name: "load capacity", Status: "pass"}, {Name: "leaks", Status: "pass"},
	}}
	return run
}
