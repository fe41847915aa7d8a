package compare_test

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const ms = time.Millisecond

// lat builds a summary-only latency (no histogram).
func lat(p50, p95, p99, max time.Duration) results.Latency {
	return results.Latency{Count: 1000, Min: p50 / 2, Mean: p50, P50: p50, P90: p95, P95: p95, P99: p99, Max: max}
}

// scenario builds a completed scenario with sane defaults; edit adjusts it.
func scenario(name string, edit func(*results.Scenario)) results.Scenario {
	s := results.Scenario{
		Name: name, Mix: "app", Status: "completed",
		Ops: 10000, Errors: 0, SuccessRate: 1, Throughput: 480, Elapsed: 10 * time.Second, SeriesStep: time.Second,
		Acquire:     lat(40*time.Microsecond, 2*ms, 5*ms, 20*ms),
		Query:       lat(1*ms, 4*ms, 8*ms, 30*ms),
		Op:          lat(3*ms, 25*ms, 40*ms, 90*ms),
		Utilization: results.Utilization{Mean: 0.4, P95: 0.6, Max: 0.8},
	}
	if edit != nil {
		edit(&s)
	}
	if s.Series == nil {
		s.Series = steadySeries(&s, 10)
	}
	return s
}

// jitter is a fixed pattern of ±3% window-to-window variation.
var jitter = []float64{0, 0.02, -0.01, 0.03, -0.02, 0.01, -0.03, 0.02, 0, -0.02}

// steadySeries gives a scenario k one-second windows whose figures are its
// summary's with a small fixed jitter, so its noise estimate is small.
func steadySeries(s *results.Scenario, k int) []results.Point {
	pts := make([]results.Point, k)
	for i := range pts {
		f := 1 + jitter[i%len(jitter)]
		scale := func(d time.Duration) time.Duration { return time.Duration(float64(d) * f) }
		ops := s.Ops / int64(k)
		pts[i] = results.Point{
			T: time.Duration(i+1) * time.Second, Users: 8,
			Ops: int64(float64(ops) * f), Errors: s.Errors / int64(k),
			AcquireP50: scale(s.Acquire.P50), AcquireP95: scale(s.Acquire.P95), AcquireP99: scale(s.Acquire.P99),
			QueryP95: scale(s.Query.P95),
		}
	}
	return pts
}

func run(scenarios ...results.Scenario) *results.Run {
	return &results.Run{
		SchemaVersion: results.SchemaVersion,
		Plan:          results.PlanInfo{Name: "production", File: "plans/production.yaml", SHA256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		Target:        results.Target{ServerVersion: "15.18", Replicas: 1, Driver: "pgx"},
		Pool:          results.Pool{Size: 20, MaxOverflow: 30, Timeout: 30 * time.Second, Recycle: 30 * time.Minute, PrePing: true, ConnectTimeout: 5 * time.Second},
		Status:        results.StatusCompleted,
		Scenarios:     scenarios,
		TimeScale:     1,
	}
}

// prFixture is a base run and a new run in which a pull request made the
// peak scenario worse, broke recovery and improved queries.
func prFixture() (base, new *results.Run) {
	base = run(
		scenario("normal", nil),
		scenario("peak", func(s *results.Scenario) {
			s.Acquire = lat(1*ms, 120*ms, 180*ms, 400*ms)
			s.Query = lat(2*ms, 20*ms, 30*ms, 60*ms)
			s.Utilization.P95 = 0.7
		}),
		scenario("stress", nil),
		scenario("exhaustion_recovery", func(s *results.Scenario) {
			s.Recovery = &results.Recovery{AfterStage: 2, Duration: 800 * ms, Status: results.RecoveryRecovered}
		}),
	)
	new = run(
		scenario("normal", func(s *results.Scenario) {
			// +200% but only 80 µs: under the noise floor.
			s.Acquire.P50 = 120 * time.Microsecond
			// −5%: within tolerance.
			s.Throughput = 456
			// −25%: an improvement (no errors in this scenario).
			s.Query.P95 = 3 * ms
		}),
		scenario("peak", func(s *results.Scenario) {
			s.Acquire = lat(1*ms, 162*ms, 190*ms, 410*ms)
			s.Query = lat(2*ms, 15*ms, 30*ms, 60*ms)
			s.Errors, s.SuccessRate = 12, 1-12.0/10000
			s.Utilization.P95 = 0.9
		}),
		scenario("exhaustion_recovery", func(s *results.Scenario) {
			s.Recovery = &results.Recovery{AfterStage: 2, Duration: 30 * time.Second, Status: results.RecoveryNotRecovered}
		}),
		scenario("spike", nil),
	)
	return base, new
}

func findRow(t *testing.T, c *compare.Comparison, scenario, metric string) compare.Row {
	t.Helper()
	for _, r := range c.Rows {
		if r.Scenario == scenario && r.Name() == metric {
			return r
		}
	}
	t.Fatalf("no row %s %s", scenario, metric)
	return compare.Row{}
}

func TestRunsMarkers(t *testing.T) {
	base, new := prFixture()
	c := compare.Runs(base, new, compare.Options{})

	tests := []struct {
		scenario, metric        string
		regression, improvement bool
		informational           bool
	}{
		{"normal", "acquire.p50", false, false, false}, // under the noise floor
		{"normal", "throughput", false, false, false},  // −5% within 10%
		{"normal", "errors", false, false, false},
		{"peak", "acquire.p95", true, false, false}, // +35%
		{"peak", "acquire.p99", false, false, false},
		{"normal", "query.p95", false, true, false}, // −25%
		{"peak", "acquire.max", false, false, true}, // reported only
		{"peak", "query.p95", false, false, false},  // −25%, but errors rose in peak
		{"peak", "errors", true, false, false},      // 0 → 12
		{"peak", "success_rate", true, false, false},
		{"peak", "leaks", false, false, false},
		{"peak", "utilization.p95", false, false, true},
		{"exhaustion_recovery", "recovery", true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+"/"+tt.metric, func(t *testing.T) {
			r := findRow(t, c, tt.scenario, tt.metric)
			if r.Regression != tt.regression || r.Improvement != tt.improvement || r.Informational != tt.informational {
				t.Errorf("row = %+v; want regression %t, improvement %t, informational %t", r, tt.regression, tt.improvement, tt.informational)
			}
		})
	}

	if c.Regressions != 4 {
		t.Errorf("Regressions = %d, want 4", c.Regressions)
	}
	if c.Improvements != 1 {
		t.Errorf("Improvements = %d, want 1", c.Improvements)
	}
	if got := strings.Join(c.Missing, ","); got != "stress,spike" {
		t.Errorf("Missing = %q, want stress,spike", got)
	}
	if got := strings.Join(c.OnlyInBase, ","); got != "stress" {
		t.Errorf("OnlyInBase = %q", got)
	}
	if got := strings.Join(c.OnlyInNew, ","); got != "spike" {
		t.Errorf("OnlyInNew = %q", got)
	}
	for _, r := range c.Rows {
		if r.Scenario == "stress" || r.Scenario == "spike" {
			t.Errorf("row for a scenario in one run only: %+v", r)
		}
	}
	if r := findRow(t, c, "normal", "acquire.p50"); r.Note != "noise: under 100µs" {
		t.Errorf("acquire.p50 note = %q", r.Note)
	}
	if r := findRow(t, c, "exhaustion_recovery", "recovery"); r.Note != "did not recover" {
		t.Errorf("recovery note = %q", r.Note)
	}
	if r := findRow(t, c, "peak", "query.p95"); r.Note != "not counted as an improvement while errors rose (0.1% of operations failed)" {
		t.Errorf("peak query.p95 note = %q", r.Note)
	}
}

func TestRules(t *testing.T) {
	tests := []struct {
		name                    string
		opts                    compare.Options
		metric                  string
		base, new               func(*results.Scenario)
		regression, improvement bool
		change                  float64 // checked unless NaN
	}{
		{name: "latency within tolerance", metric: "op.p95",
			base: func(s *results.Scenario) { s.Op.P95 = 100 * ms }, new: func(s *results.Scenario) { s.Op.P95 = 109 * ms }, change: 0.09},
		{name: "latency beyond tolerance", metric: "op.p95", regression: true,
			base: func(s *results.Scenario) { s.Op.P95 = 100 * ms }, new: func(s *results.Scenario) { s.Op.P95 = 111 * ms }, change: 0.11},
		{name: "latency beyond a custom tolerance", metric: "op.p95", opts: compare.Options{Tolerance: 0.05}, regression: true,
			base: func(s *results.Scenario) { s.Op.P95 = 100 * ms }, new: func(s *results.Scenario) { s.Op.P95 = 106 * ms }, change: 0.06},
		{name: "latency under the noise floor", metric: "query.p95",
			base: func(s *results.Scenario) { s.Query.P95 = 300 * time.Microsecond }, new: func(s *results.Scenario) { s.Query.P95 = 390 * time.Microsecond }, change: 0.3},
		{name: "latency just over the noise floor", metric: "query.p95", regression: true,
			base: func(s *results.Scenario) { s.Query.P95 = 300 * time.Microsecond }, new: func(s *results.Scenario) { s.Query.P95 = 410 * time.Microsecond }, change: 110.0 / 300},
		{name: "noise floor disabled", metric: "query.p95", opts: compare.Options{NoiseFloor: -1}, regression: true,
			base: func(s *results.Scenario) { s.Query.P95 = 300 * time.Microsecond }, new: func(s *results.Scenario) { s.Query.P95 = 390 * time.Microsecond }, change: 0.3},
		{name: "latency improvement", metric: "acquire.p99", improvement: true,
			base: func(s *results.Scenario) { s.Acquire.P99 = 50 * ms }, new: func(s *results.Scenario) { s.Acquire.P99 = 20 * ms }, change: -0.6},
		{name: "latency from zero", metric: "acquire.p95", regression: true,
			base: func(s *results.Scenario) { s.Acquire.P95 = 0 }, new: func(s *results.Scenario) { s.Acquire.P95 = 5 * ms }, change: math.Inf(1)},
		{name: "throughput drop", metric: "throughput", regression: true,
			base: func(s *results.Scenario) { s.Throughput = 500 }, new: func(s *results.Scenario) { s.Throughput = 400 }, change: -0.2},
		{name: "throughput rise", metric: "throughput", improvement: true,
			base: func(s *results.Scenario) { s.Throughput = 400 }, new: func(s *results.Scenario) { s.Throughput = 500 }, change: 0.25},
		{name: "throughput both zero", metric: "throughput",
			base: func(s *results.Scenario) { s.Throughput = 0 }, new: func(s *results.Scenario) { s.Throughput = 0 }, change: 0},
		{name: "success rate 99% to 98.5%", metric: "success_rate", regression: true,
			base: func(s *results.Scenario) { s.SuccessRate = 0.99 }, new: func(s *results.Scenario) { s.SuccessRate = 0.985 }, change: math.NaN()},
		{name: "success rate 99% to 98.95% is under the floor", metric: "success_rate",
			base: func(s *results.Scenario) { s.SuccessRate = 0.99 }, new: func(s *results.Scenario) { s.SuccessRate = 0.9895 }, change: math.NaN()},
		{name: "success rate 90% to 89.5% within tolerance of the error rate", metric: "success_rate",
			base: func(s *results.Scenario) { s.SuccessRate = 0.90 }, new: func(s *results.Scenario) { s.SuccessRate = 0.895 }, change: math.NaN()},
		{name: "success rate recovers", metric: "success_rate", improvement: true,
			base: func(s *results.Scenario) { s.SuccessRate = 0.95 }, new: func(s *results.Scenario) { s.SuccessRate = 1 }, change: math.NaN()},
		{name: "errors from zero", metric: "errors", regression: true,
			base: func(s *results.Scenario) { s.Errors = 0 }, new: func(s *results.Scenario) { s.Errors = 1 }, change: math.Inf(1)},
		{name: "errors to zero", metric: "errors", improvement: true,
			base: func(s *results.Scenario) { s.Errors = 7 }, new: func(s *results.Scenario) { s.Errors = 0 }, change: -1},
		{name: "errors slightly up", metric: "errors",
			base: func(s *results.Scenario) { s.Errors = 100 }, new: func(s *results.Scenario) { s.Errors = 105 }, change: 0.05},
		{name: "leaks from zero", metric: "leaks", regression: true,
			base: func(s *results.Scenario) { s.Leaks = 0 }, new: func(s *results.Scenario) { s.Leaks = 2 }, change: math.Inf(1)},
		{name: "recovery slower with one baseline is not judged", metric: "recovery",
			base: func(s *results.Scenario) {
				s.Recovery = &results.Recovery{Duration: 500 * ms, Status: results.RecoveryRecovered}
			},
			new: func(s *results.Scenario) {
				s.Recovery = &results.Recovery{Duration: 900 * ms, Status: results.RecoveryRecovered}
			}, change: 0.8},
		{name: "recovery now recovers", metric: "recovery", improvement: true,
			base: func(s *results.Scenario) {
				s.Recovery = &results.Recovery{Duration: 10 * time.Second, Status: results.RecoveryNotRecovered}
			},
			new: func(s *results.Scenario) {
				s.Recovery = &results.Recovery{Duration: 11 * time.Second, Status: results.RecoveryRecovered}
			}, change: 0.1},
		{name: "utilization is not gated", metric: "utilization.p95",
			base: func(s *results.Scenario) { s.Utilization.P95 = 0.5 }, new: func(s *results.Scenario) { s.Utilization.P95 = 0.99 }, change: 0.98},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compare.Runs(run(scenario("s", tt.base)), run(scenario("s", tt.new)), tt.opts)
			r := findRow(t, c, "s", tt.metric)
			if r.Regression != tt.regression || r.Improvement != tt.improvement {
				t.Errorf("row = %+v; want regression %t, improvement %t", r, tt.regression, tt.improvement)
			}
			if !math.IsNaN(tt.change) && !(r.Change == tt.change || math.Abs(r.Change-tt.change) < 1e-9) {
				t.Errorf("Change = %v, want %v", r.Change, tt.change)
			}
			wantCount := 0
			if tt.regression {
				wantCount = 1
			}
			if c.Regressions != wantCount {
				t.Errorf("Regressions = %d, want %d", c.Regressions, wantCount)
			}
		})
	}
}

// encode records values (nanoseconds) into a histogram the way the engine
// does and returns it in the V2 base64 encoding of the reports.
func encode(t *testing.T, values ...time.Duration) (string, *hdrhistogram.Histogram) {
	t.Helper()
	h := hdrhistogram.New(int64(time.Microsecond), int64(time.Hour), 3)
	for _, v := range values {
		if err := h.RecordValue(int64(v)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), h
}

func TestPercentilesFromHistogram(t *testing.T) {
	// 900 fast acquires and 100 slow ones: p50 ≈ 1ms, p95 and p99 ≈ 50ms
	// in the base, 80ms in the new run.
	var baseVals, newVals []time.Duration
	for i := range 1000 {
		switch {
		case i < 900:
			baseVals = append(baseVals, 1*ms)
			newVals = append(newVals, 1*ms)
		default:
			baseVals = append(baseVals, 50*ms)
			newVals = append(newVals, 80*ms)
		}
	}
	baseHist, bh := encode(t, baseVals...)
	newHist, nh := encode(t, newVals...)

	// The summaries say something else on purpose: the histogram must win.
	base := run(scenario("s", func(s *results.Scenario) {
		s.Acquire = lat(7*ms, 7*ms, 7*ms, 50*ms)
		s.Acquire.Histogram = baseHist
	}))
	new := run(scenario("s", func(s *results.Scenario) {
		s.Acquire = lat(7*ms, 7*ms, 7*ms, 80*ms)
		s.Acquire.Histogram = newHist
	}))
	c := compare.Runs(base, new, compare.Options{})

	tests := []struct {
		metric    string
		quantile  float64
		wantBase  float64
		wantNew   float64
		regressed bool
	}{
		{"acquire.p50", 50, float64(bh.ValueAtQuantile(50)), float64(nh.ValueAtQuantile(50)), false},
		{"acquire.p95", 95, float64(bh.ValueAtQuantile(95)), float64(nh.ValueAtQuantile(95)), true},
		{"acquire.p99", 99, float64(bh.ValueAtQuantile(99)), float64(nh.ValueAtQuantile(99)), true},
		{"acquire.max", 0, float64(50 * ms), float64(80 * ms), false}, // the summary's exact Max, reported only
	}
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			r := findRow(t, c, "s", tt.metric)
			if r.Base != tt.wantBase || r.New != tt.wantNew {
				t.Errorf("base, new = %v, %v; want %v, %v", time.Duration(r.Base), time.Duration(r.New), time.Duration(tt.wantBase), time.Duration(tt.wantNew))
			}
			if r.Regression != tt.regressed {
				t.Errorf("Regression = %t, want %t", r.Regression, tt.regressed)
			}
		})
	}
	// Sanity: the histogram values are the recorded ones within 0.1%.
	if p95 := time.Duration(findRow(t, c, "s", "acquire.p95").Base); p95 < 49*ms || p95 > 51*ms {
		t.Errorf("base p95 from histogram = %s, want ≈ 50ms", p95)
	}
	if len(c.Notes) != 0 {
		t.Errorf("Notes = %q, want none", c.Notes)
	}

	t.Run("unreadable histogram falls back to the summary", func(t *testing.T) {
		broken := run(scenario("s", func(s *results.Scenario) {
			s.Acquire = lat(7*ms, 7*ms, 7*ms, 50*ms)
			s.Acquire.Histogram = "not-a-histogram"
		}))
		c := compare.Runs(broken, new, compare.Options{})
		if r := findRow(t, c, "s", "acquire.p95"); r.Base != float64(7*ms) {
			t.Errorf("base p95 = %s, want the summary's 7ms", time.Duration(r.Base))
		}
		if len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "s acquire: the base histogram cannot be read") {
			t.Errorf("Notes = %q", c.Notes)
		}
	})
}

func TestMissingAndEmpty(t *testing.T) {
	base := run(scenario("a", nil), scenario("b", nil))
	new := run(scenario("a", func(s *results.Scenario) {
		s.Query = results.Latency{}
	})) // b did not run (--scenario a)
	base.Scenarios[0].Query = results.Latency{}
	c := compare.Runs(base, new, compare.Options{})
	if got := strings.Join(c.OnlyInBase, ","); got != "b" {
		t.Errorf("OnlyInBase = %q, want b (not run in new)", got)
	}
	for _, r := range c.Rows {
		if strings.HasPrefix(r.Metric, "query.") {
			t.Errorf("row for a latency with no samples in either run: %+v", r)
		}
	}
}

func TestChanges(t *testing.T) {
	base, new := run(scenario("a", nil)), run(scenario("a", nil))
	new.Pool.Size = 10
	new.Pool.IsolationLevel, new.Pool.UseLIFO = "autocommit", true
	new.Plan.SHA256 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	new.TimeScale = 0.1
	new.Status = results.StatusAborted
	c := compare.Runs(base, new, compare.Options{})
	want := []string{
		"pool: size 20 → 10; isolation_level (default) → autocommit; use_lifo false → true",
		"plan: the file differs, sha256 aaaaaaaaaaaa → bbbbbbbbbbbb",
		"time scale: 1 → 0.1",
		"status: the new run did not complete (aborted)",
	}
	if got := strings.Join(c.Changes, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("Changes:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if len(c.Notes) != 0 {
		t.Errorf("Notes = %q, want none", c.Notes)
	}
}

// A run whose verdict was INCONCLUSIVE is flagged at the top, base or new.
func TestInconclusiveFlagged(t *testing.T) {
	base, new := run(scenario("a", nil)), run(scenario("a", nil))
	base.Verdict = results.Verdict{Label: "INCONCLUSIVE", Inconclusive: true, Reason: "the load generator fell behind (timer lateness p99 180ms, CPU 1.96 of 2 cores)"}
	c := compare.Runs(base, new, compare.Options{})
	want := "verdict: the base run was INCONCLUSIVE, some of its figures were within its own measurement error (the load generator fell behind (timer lateness p99 180ms, CPU 1.96 of 2 cores))"
	if got := strings.Join(c.Changes, "\n"); got != want {
		t.Errorf("Changes:\n%s\nwant:\n%s", got, want)
	}
	var b bytes.Buffer
	if err := c.Table(&b, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), compare.HeadingChanges+":\n  "+want+"\n") {
		t.Errorf("not at the top of the table output:\n%s", b.String())
	}
	c = compare.Runs(new, base, compare.Options{})
	if got := strings.Join(c.Changes, "\n"); !strings.HasPrefix(got, "verdict: the new run was INCONCLUSIVE") {
		t.Errorf("Changes with an inconclusive new run: %q", got)
	}
}

func TestGolden(t *testing.T) {
	prBase, prNew := prFixture()
	same := run(scenario("normal", nil), scenario("peak", nil))
	tests := []struct {
		name      string
		base, new *results.Run
		render    func(*compare.Comparison, *bytes.Buffer) error
	}{
		{"regressions.md", prBase, prNew, func(c *compare.Comparison, b *bytes.Buffer) error { return c.Markdown(b) }},
		{"regressions.txt", prBase, prNew, func(c *compare.Comparison, b *bytes.Buffer) error { return c.Table(b, false) }},
		{"regressions.color.txt", prBase, prNew, func(c *compare.Comparison, b *bytes.Buffer) error { return c.Table(b, true) }},
		{"no_regressions.md", same, same, func(c *compare.Comparison, b *bytes.Buffer) error { return c.Markdown(b) }},
		{"regressions.json", prBase, prNew, func(c *compare.Comparison, b *bytes.Buffer) error { return c.JSON(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.render(compare.Runs(tt.base, tt.new, compare.Options{}), &buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./compare/ -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (go test ./compare/ -update rewrites it)\ngot:\n%s\nwant:\n%s", path, buf.String(), want)
			}
		})
	}
}

func TestMarkdownSummaryFirst(t *testing.T) {
	base, new := prFixture()
	var buf bytes.Buffer
	if err := compare.Runs(base, new, compare.Options{}).Markdown(&buf); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	if !strings.HasPrefix(first, "4 regressions beyond 10% and the noise: peak success_rate 100% → 99.9% (−0.1 pt") {
		t.Errorf("first line = %q", first)
	}
}

func TestTooFewSamplesForAPercentile(t *testing.T) {
	// 100 samples: a p99 has one sample beyond it, its interval is open;
	// the new p99 jumps from 1ms to 900ms on two samples.
	var vals []time.Duration
	for range 100 {
		vals = append(vals, 1*ms)
	}
	hb, _ := encode(t, vals...)
	hn, _ := encode(t, append(vals[:98:98], 900*ms, 900*ms)...)
	c := compare.Runs(
		run(scenario("s", func(s *results.Scenario) { s.Acquire.Histogram = hb })),
		run(scenario("s", func(s *results.Scenario) { s.Acquire.Histogram = hn })),
		compare.Options{})
	r := findRow(t, c, "s", "acquire.p99")
	if r.Regression || r.Note != "not judged: too few samples for this percentile" {
		t.Errorf("row = %+v", r)
	}
}
