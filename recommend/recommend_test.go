package recommend

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/poolmodel"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

const ms = time.Millisecond

// holdOf is a measured hold histogram: n checkouts spread evenly over
// [lo, hi].
func holdOf(n int, lo, hi time.Duration) results.Latency {
	h := hdrhistogram.New(results.HistogramLowest, results.HistogramHighest, results.HistogramSigFigs)
	for i := range n {
		v := lo
		if n > 1 {
			v = lo + time.Duration(int64(hi-lo)*int64(i)/int64(n-1))
		}
		if err := h.RecordValue(int64(v)); err != nil {
			panic(err)
		}
	}
	return hdr.Summarize(h)
}

// openScenario measured rate acquires/s for 10 s with holds over [lo, hi].
func openScenario(name string, rate float64, lo, hi time.Duration) results.Scenario {
	n := int(rate * 10)
	return results.Scenario{Name: name, Mix: "m", Model: results.ModelOpen, Rate: rate, Arrivals: int64(n),
		Planned: 10 * time.Second, Elapsed: 10 * time.Second, Ops: int64(n),
		Acquire: results.Latency{Count: int64(n), P95: 2 * ms, P99: 5 * ms}, Hold: holdOf(n, lo, hi),
		Utilization: results.Utilization{Mean: 0.5}}
}

func closedScenario(name string, users int, lo, hi time.Duration) results.Scenario {
	return results.Scenario{Name: name, Mix: "m", Model: results.ModelClosed, MaxUsers: users, Think: 50 * ms,
		Planned: 10 * time.Second, Elapsed: 10 * time.Second, Ops: 2000,
		Acquire: results.Latency{Count: 2000, P95: 2 * ms, P99: 5 * ms}, Hold: holdOf(2000, lo, hi),
		Utilization: results.Utilization{Mean: 0.5}}
}

func testRun(scs ...results.Scenario) *results.Run {
	return &results.Run{
		Target:    results.Target{Replicas: 1, MaxConnections: 100},
		Pool:      results.Pool{Size: 4, MaxOverflow: 2, Timeout: 5 * time.Second},
		Scenarios: scs,
		Preflight: []results.Check{{Name: "capacity", Status: results.CheckPass,
			Reason: "needs 1 × (4 + 2) = 6 connections, server allows 100 − 3 reserved − 7 in use = 90 (84 spare)"}},
	}
}

// outcome is a critical plan assertion's outcome on scenario.
func outcome(name, check, scenario string) results.Outcome {
	return results.Outcome{Name: name, Check: check, Scenario: scenario, Severity: results.SeverityCritical, Status: results.OutcomePass}
}

func TestBoundsOf(t *testing.T) {
	for _, tc := range []struct {
		check string
		want  string
	}{
		{"acquire.p95 < 200ms", "p95<200ms"},
		{"acquire.p99 <= 1.5s && query.p95 < 500ms", "p99<=1.5s"},
		{"acquire.max < 8s && op.max < 8s", "max<8s"},
		{"acquire.p95 < 200ms || errors == 0", ""},
		{"!(acquire.p95 < 200ms)", ""},
		{"baseline.acquire.p95 < 200ms", ""},
		{"operations.balance.acquire.p95 < 200ms", ""},
		{"acquire.p95 > 1ms", ""},
		{"acquire.p95 < 250us && acquire.p99 < 1ms", "p95<250µs p99<1ms"},
	} {
		var got []string
		for _, b := range boundsOf("a", tc.check) {
			op := "<="
			if b.strict {
				op = "<"
			}
			got = append(got, b.figure+op+b.limit.String())
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("boundsOf(%q) = %q, want %q", tc.check, g, tc.want)
		}
	}
}

// TestSizeIsTheSmallestThatMeetsTheTarget: the recommended size meets the
// plan's p95 bound at the normal scenario and one connection fewer does
// not, both predicted as the advice says; the overflow covers the stress
// scenario without timeouts.
func TestSizeIsTheSmallestThatMeetsTheTarget(t *testing.T) {
	normal := openScenario("normal", 150, 10*ms, 30*ms)
	stress := openScenario("stress", 400, 10*ms, 30*ms)
	run := testRun(normal, stress)
	run.Assertions = []results.Outcome{outcome("fast", "acquire.p95 < 5ms", "normal")}
	rec := For(run, nil)
	if rec == nil {
		t.Fatal("no advice")
	}
	if rec.Target.Figure != "acquire.p95" || rec.Target.Limit != 5*ms || !strings.Contains(rec.Target.From, `"fast"`) {
		t.Errorf("target %+v, want the plan's acquire.p95 < 5ms", rec.Target)
	}
	predict := func(sc results.Scenario, c int) poolmodel.Prediction {
		h, err := hdr.Decode(sc.Hold)
		if err != nil {
			t.Fatal(err)
		}
		p, err := poolmodel.Simulate(poolmodel.Workload{Rate: acquireRate(&sc), Hold: h},
			poolmodel.Config{Connections: c, Timeout: run.Pool.Timeout}, poolmodel.Options{Acquires: Acquires, Seed: Seed})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	size := rec.Pool.Size
	if p := predict(normal, size); p.Wait.P95 >= 5*ms || p.TimeoutRate > 0 {
		t.Errorf("size %d: predicted p95 %v timeouts %v, want under 5ms and none", size, p.Wait.P95, p.TimeoutRate)
	}
	if size > 1 {
		if p := predict(normal, size-1); p.Wait.P95 < 5*ms && p.TimeoutRate == 0 {
			t.Errorf("size %d meets the target (p95 %v): %d is not the smallest", size-1, p.Wait.P95, size)
		}
	}
	total := size + rec.Pool.MaxOverflow
	if p := predict(stress, total); p.TimeoutRate > 0 {
		t.Errorf("size + max_overflow = %d: stress times out %v", total, p.TimeoutRate)
	}
	if rec.Pool.MaxOverflow > 0 {
		if p := predict(stress, total-1); p.TimeoutRate == 0 && p.Stable {
			t.Errorf("%d connections already cover stress: max_overflow %d is not the smallest", total-1, rec.Pool.MaxOverflow)
		}
	}
	cur := predict(normal, run.Pool.Capacity())
	if a := rec.Scenarios[0]; a.Current.AcquireP95 != cur.Wait.P95 || a.Current.Connections != 6 || a.Measured.AcquireP95 != 2*ms {
		t.Errorf("normal: %+v, want current p95 %v at 6 connections, measured 2ms", a, cur.Wait.P95)
	}
	if rec.Pool.Timeout != run.Pool.Timeout {
		t.Errorf("timeout %v, want the plan's %v kept", rec.Pool.Timeout, run.Pool.Timeout)
	}
	if rec.Budget.Available != 90 || rec.Budget.Current != 6 || rec.Budget.Recommended != total || !rec.Budget.Fits {
		t.Errorf("budget %+v, want 90 available, 6 now, %d recommended, fits", rec.Budget, total)
	}
	if again := For(run, nil); !reflect.DeepEqual(rec, again) {
		t.Errorf("not deterministic:\n%+v\n%+v", rec, again)
	}
}

// TestTrust: a prediction within 15 % (or 1 ms) of what was measured is
// trusted; one that misses says by how much and leans on tune.
func TestTrust(t *testing.T) {
	sc := openScenario("normal", 150, 20*ms, 20*ms)
	run := testRun(sc)
	rec := For(run, nil)
	p := rec.Scenarios[0].Current.AcquireP95
	for _, tc := range []struct {
		measured time.Duration
		trusted  bool
	}{
		{p, true},
		{p + max(time.Duration(0.14*float64(p)), 900*time.Microsecond), true},
		{p + max(time.Duration(0.2*float64(p)), 2*ms), false},
		{3 * (p + ms), false},
	} {
		run.Scenarios[0].Acquire.P95 = tc.measured
		a := For(run, nil).Scenarios[0]
		if a.Trusted != tc.trusted {
			t.Errorf("predicted %v, measured %v: trusted %v (%s), want %v", p, tc.measured, a.Trusted, a.Why, tc.trusted)
		}
		if !a.Trusted && !strings.Contains(a.Why, "planrun tune") {
			t.Errorf("why %q does not lean on tune", a.Why)
		}
	}
}

// TestBeyondTheServer: a recommendation the server cannot hold says so,
// with the numbers, and is not cut down to fit.
func TestBeyondTheServer(t *testing.T) {
	run := testRun(openScenario("normal", 2000, 20*ms, 40*ms))
	run.Target.Replicas = 3
	run.Preflight[0].Reason = "needs 3 × (4 + 2) = 18 connections, server allows 100 − 3 reserved − 67 in use = 30 (12 spare)"
	rec := For(run, nil)
	b := rec.Budget
	conns := rec.Pool.Size + rec.Pool.MaxOverflow
	if b.Available != 30 || b.Current != 18 || b.Recommended != 3*conns || b.Fits {
		t.Fatalf("budget %+v, want 30 available, 18 now, %d recommended, not fitting", b, 3*conns)
	}
	if conns*3 <= 30 {
		t.Fatalf("the fixture's load needs only %d connections", conns)
	}
	var said bool
	for _, n := range rec.Notes {
		said = said || strings.Contains(n, "does not fit the server") && strings.Contains(n, "only 30 are available")
	}
	if !said {
		t.Errorf("notes %q do not say the recommendation exceeds the server", rec.Notes)
	}
}

// TestGuideTargetAndScenariosLeftOut: without an acquire bound the target
// is the guide's 200 ms p95; an HTTP-only scenario and one without a hold
// histogram are left out with the reason; nothing to model gives nil.
func TestGuideTargetAndScenariosLeftOut(t *testing.T) {
	httpOnly := results.Scenario{Name: "api", HTTPOnly: true, Ops: 100}
	noHist := openScenario("old", 100, 20*ms, 20*ms)
	noHist.Hold.Histogram = ""
	run := testRun(closedScenario("normal", 10, 5*ms, 15*ms), httpOnly, noHist)
	run.Assertions = []results.Outcome{outcome("no errors", "errors == 0", "normal")}
	rec := For(run, nil)
	if rec.Target.Figure != DefaultFigure || rec.Target.Limit != DefaultLimit || !strings.Contains(rec.Target.From, "guide") {
		t.Errorf("target %+v, want the guide's", rec.Target)
	}
	if len(rec.Scenarios) != 1 || rec.Scenarios[0].Scenario != "normal" {
		t.Errorf("scenarios %+v, want only normal", rec.Scenarios)
	}
	notes := strings.Join(rec.Notes, "\n")
	for _, want := range []string{"api is left out: it sends only HTTP requests", "old is left out: its hold times cannot be read"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if got := For(testRun(httpOnly), nil); got != nil {
		t.Errorf("only HTTP: %+v, want nil", got)
	}
}

// TestPlanGivesStagesAndThink: with the plan, an open scenario's heaviest
// stage is modelled alone and not compared with the whole scenario's
// figures; a closed one takes the plan's think range; a warning assertion
// is no target.
func TestPlanGivesStagesAndThink(t *testing.T) {
	surge := openScenario("surge", 300, 20*ms, 20*ms)
	surge.Recovery = &results.Recovery{AfterStage: 2}
	normal := closedScenario("normal", 10, 5*ms, 15*ms)
	run := testRun(normal, surge)
	plan := &schema.Plan{
		Scenarios: []schema.Scenario{
			{Name: "normal", Users: 10, Think: schema.DurationRange{Min: 20 * ms, Max: 80 * ms}},
			{Name: "surge", Stages: []schema.Stage{{Rate: 100, Duration: schema.Duration(4 * time.Second)},
				{Rate: 1000, Duration: schema.Duration(2 * time.Second)}, {Rate: 100, Duration: schema.Duration(4 * time.Second)}}},
		},
		Assertions: []schema.Assertion{
			{Name: "fast", Check: schema.Expr{Src: "acquire.p99 < 50ms"}, Scenarios: []string{"normal"}},
			{Name: "w", Check: schema.Expr{Src: "acquire.p95 < 1ms"}, Severity: schema.Warning},
			{Name: "no stall", Check: schema.Expr{Src: "acquire.max < 8s"}},
		},
	}
	rec := For(run, plan)
	if rec.Target.Figure != "acquire.p99" || rec.Target.Limit != 50*ms {
		t.Errorf("target %+v, want acquire.p99 < 50ms", rec.Target)
	}
	s := rec.Scenarios[1]
	if s.Trusted || !strings.Contains(s.Why, "heaviest stage alone, 1,000/s for 2s (2,000 acquires)") {
		t.Errorf("surge: trusted %v, why %q", s.Trusted, s.Why)
	}
	run.TimeScale = 0.1
	if n := strings.Join(For(run, plan).Notes, "\n"); !strings.Contains(n, "surge: its heaviest stage is modelled as long as this run ran it (--time-scale 0.1)") {
		t.Errorf("a time-scaled surge: notes %q do not say so", n)
	}
	reasons := strings.Join(rec.Pool.Reasons, "\n")
	for _, want := range []string{"at normal (10 users, think 20ms..80ms", "surge needs", "acquire.max < 8s, no timeouts"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
}

// TestBottleneckNote: hold times that grew with concurrency (same mix)
// give the note that a larger pool moves the queue into the database.
func TestBottleneckNote(t *testing.T) {
	low := closedScenario("normal", 5, 5*ms, 15*ms)
	low.Utilization.Mean = 0.2
	high := closedScenario("stress", 30, 20*ms, 40*ms)
	high.Utilization.Mean = 0.9
	run := testRun(low, high)
	has := func(rec *results.Recommendations) bool {
		return strings.Contains(strings.Join(rec.Notes, "\n"), "moves the queue into the database")
	}
	if !has(For(run, nil)) {
		t.Errorf("hold mean 10ms → 30ms with 4.5× the concurrency: no bottleneck note")
	}
	run.Scenarios[1].Hold = holdOf(2000, 5*ms, 15*ms)
	if has(For(run, nil)) {
		t.Errorf("the same hold times at every concurrency: a bottleneck note")
	}
}

// TestSettingsFromPreflight: preflight's warnings become values.
func TestSettingsFromPreflight(t *testing.T) {
	sc := closedScenario("normal", 10, 5*ms, 15*ms)
	sc.Query.P99 = 1700 * ms
	run := testRun(sc)
	run.Pool.Timeout = 30 * time.Second
	run.Preflight = append(run.Preflight,
		results.Check{Name: "timeouts", Status: results.CheckWarn, Reason: "statement_timeout 0 (off), idle_in_transaction_session_timeout 0 (off); with no statement_timeout a stuck statement holds its connection past pool.timeout (30s) and waiters time out instead"},
		results.Check{Name: "consistency", Status: results.CheckWarn, Reason: "pre_ping off and recycle 0: a connection dropped by the server, a proxy or a firewall is handed out broken"})
	got := map[string]string{}
	for _, s := range For(run, nil).Settings {
		got[s.Name] = s.Current + " → " + s.Recommended
	}
	want := map[string]string{
		"statement_timeout":                   "0 (off) → 3s",
		"idle_in_transaction_session_timeout": "0 (off) → 10s",
		"pre_ping":                            "false → true",
		"recycle":                             "0s → 30m",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings %v, want %v", got, want)
	}
}

// TestTooShortToTell: near saturation a short run's p95 can be almost
// anything in the model; the scenario is then not trusted, because the run
// could not check the model, whatever it measured.
func TestTooShortToTell(t *testing.T) {
	sc := openScenario("busy", 290, 20*ms, 20*ms) // 6 connections, ρ ≈ 0.97, 2,900 acquires
	run := testRun(sc)
	p := For(run, nil).Scenarios[0].Current.AcquireP95
	run.Scenarios[0].Acquire.P95 = p / 2
	a := For(run, nil).Scenarios[0]
	if a.Trusted || !strings.Contains(a.Why, "too short to check the model") {
		t.Errorf("predicted %v, measured %v: trusted %v, why %q; want not trusted, too short", p, p/2, a.Trusted, a.Why)
	}
}

// TestNeverASingleConnection: a load one connection carries (5 acquires a
// second of 1 ms) is recommended two, with the reason.
func TestNeverASingleConnection(t *testing.T) {
	run := testRun(openScenario("light", 5, ms, ms))
	rec := For(run, nil)
	if rec == nil {
		t.Fatal("no advice")
	}
	h, err := hdr.Decode(run.Scenarios[0].Hold)
	if err != nil {
		t.Fatal(err)
	}
	one, err := poolmodel.Simulate(poolmodel.Workload{Rate: 5, Hold: h}, poolmodel.Config{Connections: 1, Timeout: run.Pool.Timeout},
		poolmodel.Options{Acquires: Acquires, Seed: Seed})
	if err != nil {
		t.Fatal(err)
	}
	if one.Wait.P95 >= 200*ms || one.TimeoutRate > 0 {
		t.Fatalf("one connection: predicted p95 %v, timeouts %v: the case wants a load one connection carries", one.Wait.P95, one.TimeoutRate)
	}
	why := strings.Join(rec.Pool.Reasons, "; ")
	if rec.Pool.Size != MinSize || !strings.Contains(why, "does not stall every request (the load alone needs 1)") {
		t.Errorf("size %d (%s): want %d, with the reason", rec.Pool.Size, why, MinSize)
	}
}
