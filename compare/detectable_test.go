package compare_test

import (
	"bytes"
	"encoding/json"
	"html"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/results"
)

// z975 is the standard normal quantile at 97.5%, as compare uses it.
const z975 = 1.959963984540054

// swingThroughput makes a scenario's windows alternate between (1+f) and
// (1−f) times its mean count of operations: throughput noise, nothing else.
func swingThroughput(f float64) func(*results.Scenario) {
	return func(s *results.Scenario) {
		s.Series = steadySeries(s, 10)
		for i := range s.Series {
			sign := float64(1 - 2*(i%2))
			s.Series[i].Ops = int64(float64(s.Ops/10) * (1 + sign*f))
		}
	}
}

// TestDetectableIsTheBoundary checks Row.Detectable against what compare
// then does: a new run worse by 1% more than it is a regression, one worse
// by 1% less is not. The new runs keep the base run's window-to-window
// variation (scaled latencies, the same series of counts), so their noise
// is the base's.
func TestDetectableIsTheBoundary(t *testing.T) {
	noTolerance := compare.Options{Tolerance: -1} // the noise alone sets the bound
	tests := []struct {
		name   string
		metric string
		opts   compare.Options
		base   func(*results.Scenario)
		worse  func(s *results.Scenario, base results.Scenario, by float64) // worse by `by` in the row's unit
	}{
		{
			name: "query.p95, the tolerance dominates", metric: "query.p95", opts: compare.Options{},
			worse: scaleQuery,
		},
		{
			name: "query.p95, the noise dominates", metric: "query.p95", opts: noTolerance,
			base: func(s *results.Scenario) {
				s.Series = steadySeries(s, 10)
				for i := range s.Series {
					s.Series[i].QueryP95 = time.Duration(float64(s.Query.P95) * (1 + 0.3*float64(1-2*(i%2))))
				}
			},
			worse: scaleQuery,
		},
		{
			name: "throughput, swinging windows", metric: "throughput", opts: noTolerance,
			base:  swingThroughput(0.9),
			worse: func(s *results.Scenario, b results.Scenario, by float64) { s.Throughput = b.Throughput - by },
		},
		{
			name: "throughput, steady windows", metric: "throughput", opts: noTolerance,
			worse: func(s *results.Scenario, b results.Scenario, by float64) { s.Throughput = b.Throughput - by },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := scenario("s", tt.base)
			mk := func(by float64) *results.Run {
				s := scenario("s", tt.base)
				tt.worse(&s, base, by)
				return run(s)
			}
			same := findRow(t, compare.Runs(run(base), mk(0), tt.opts), "s", tt.metric)
			d := same.Detectable
			if !(d > 0) || math.IsInf(d, 0) {
				t.Fatalf("Detectable = %v, want a positive bound: %+v", d, same)
			}
			for _, k := range []float64{0.99, 1.01} {
				r := findRow(t, compare.Runs(run(base), mk(d*k), tt.opts), "s", tt.metric)
				if math.Abs(r.Detectable-d) > 1e-5*d { // the series' durations round to whole nanoseconds
					t.Errorf("worse by %.2f× Detectable: Detectable moved from %v to %v (the fixture's noise changed)", k, d, r.Detectable)
				}
				if want := k > 1; r.Regression != want {
					t.Errorf("worse by %.2f× Detectable (%v): Regression = %t, want %t: %+v", k, d*k, r.Regression, want, r)
				}
			}
		})
	}
}

func scaleQuery(s *results.Scenario, b results.Scenario, by float64) {
	f := (float64(b.Query.P95) + by) / float64(b.Query.P95)
	s.Query.P95 = time.Duration(math.Round(float64(b.Query.P95) * f))
	for i := range s.Series {
		s.Series[i].QueryP95 = time.Duration(float64(b.Series[i].QueryP95) * f)
	}
}

// TestDetectableValues checks the bound against the formulas of
// docs/compare.md on fixed runs.
func TestDetectableValues(t *testing.T) {
	t.Run("the tolerance: 10% of the base", func(t *testing.T) {
		base, new := prFixture()
		c := compare.Runs(base, new, compare.Options{})
		for _, tc := range []struct {
			metric string
			want   float64
		}{
			{"acquire.p95", 0.1 * float64(120*ms)},
			{"throughput", 0.1 * 480},
		} {
			if r := findRow(t, c, "peak", tc.metric); math.Abs(r.Detectable-tc.want) > 1e-9*tc.want {
				t.Errorf("peak %s: Detectable = %v, want %v", tc.metric, r.Detectable, tc.want)
			}
		}
		// The noise floor (100 µs) is above 10% of 40 µs.
		if r := findRow(t, c, "normal", "acquire.p50"); r.Detectable != float64(compare.DefaultNoiseFloor) {
			t.Errorf("normal acquire.p50: Detectable = %v, want the 100µs floor", time.Duration(r.Detectable))
		}
		// success_rate 100% → the 0.1-point floor of the error rate.
		if r := findRow(t, c, "normal", "success_rate"); r.Detectable != compare.RateFloor {
			t.Errorf("normal success_rate: Detectable = %v, want %v", r.Detectable, compare.RateFloor)
		}
		// A count from zero: one event.
		if r := findRow(t, c, "normal", "leaks"); r.Detectable != 1 {
			t.Errorf("normal leaks: Detectable = %v, want 1", r.Detectable)
		}
		if r := findRow(t, c, "normal", "utilization.p95"); r.Detectable != 0 {
			t.Errorf("informational utilization.p95: Detectable = %v, want 0", r.Detectable)
		}
	})

	t.Run("throughput: a fall, from the log-scale noise", func(t *testing.T) {
		// Noise up ±u on a base b is b·(e^h − 1); the fall that matches
		// it is b·(1 − e^−h) = b·u/(b + u): the smoke runs' ±4,953 on
		// 2,239 could flag a fall of 1,542 (−68.9%), no smaller.
		base := run(scenario("s", swingThroughput(0.9)))
		r := findRow(t, compare.Runs(base, base, compare.Options{Tolerance: -1}), "s", "throughput")
		want := r.Base * r.Noise / (r.Base + r.Noise)
		if r.Noise <= 0 || math.Abs(r.Detectable-want) > 1e-9*want {
			t.Errorf("Detectable = %v, want b·u/(b+u) = %v (base %v, noise ±%v)", r.Detectable, want, r.Base, r.Noise)
		}
		if r.Detectable >= r.Base {
			t.Errorf("Detectable %v is not below the base %v", r.Detectable, r.Base)
		}
	})

	t.Run("errors: the Poisson bound", func(t *testing.T) {
		withErrors := func(n int64) *results.Run {
			return run(scenario("s", func(s *results.Scenario) { s.Errors, s.SuccessRate = n, 1-float64(n)/float64(s.Ops) }))
		}
		c := compare.Runs(withErrors(100), withErrors(100), compare.Options{Tolerance: -1})
		r := findRow(t, c, "s", "errors")
		// d = z·F·√(2·100 + d), solved for d; the smallest whole count past it.
		z := z975 * c.Family
		want := math.Floor((z*z+math.Sqrt(z*z*z*z+8*100*z*z))/2) + 1
		if r.Detectable != want {
			t.Errorf("Detectable = %v, want %v (family factor %v)", r.Detectable, want, c.Family)
		}
		for _, tc := range []struct {
			errors     int64
			regression bool
		}{{100 + int64(want), true}, {100 + int64(want) - 1, false}} {
			if got := findRow(t, compare.Runs(withErrors(100), withErrors(tc.errors), compare.Options{Tolerance: -1}), "s", "errors"); got.Regression != tc.regression {
				t.Errorf("errors 100 → %d: Regression = %t, want %t (%+v)", tc.errors, got.Regression, tc.regression, got)
			}
		}
	})

	t.Run("none: a recovery with one baseline", func(t *testing.T) {
		rec := run(scenario("s", func(s *results.Scenario) {
			s.Recovery = &results.Recovery{Duration: 300 * ms, Status: results.RecoveryRecovered}
		}))
		if r := findRow(t, compare.Runs(rec, rec, compare.Options{}), "s", "recovery"); !math.IsInf(r.Detectable, 1) {
			t.Errorf("Detectable = %v, want +Inf", r.Detectable)
		}
	})
}

func TestFormatDetectable(t *testing.T) {
	tests := []struct {
		row  compare.Row
		want string
	}{
		{compare.Row{Unit: compare.UnitDuration, Base: float64(120 * ms), Detectable: float64(12 * ms)}, "+12ms (+10%)"},
		{compare.Row{Unit: compare.UnitOpsPerS, Base: 2239, Detectable: 1542}, "−1,542 (−68.9%)"},
		{compare.Row{Unit: compare.UnitRate, Base: 0.999, Detectable: 0.004}, "−0.4 pt"},
		{compare.Row{Unit: compare.UnitCount, Base: 100, Detectable: 32}, "+32"},
		{compare.Row{Unit: compare.UnitDuration, Base: float64(ms), Detectable: math.Inf(1)}, "∞"},
		{compare.Row{Unit: compare.UnitRate, Detectable: math.NaN()}, "n/a"},
		{compare.Row{Unit: compare.UnitDuration, Informational: true}, ""},
	}
	for _, tt := range tests {
		if got := compare.FormatDetectable(tt.row); got != tt.want {
			t.Errorf("FormatDetectable(%+v) = %q, want %q", tt.row, got, tt.want)
		}
	}
}

// TestDetectableInEveryFormat: the table, the markdown, the HTML and the
// JSON all carry the column.
func TestDetectableInEveryFormat(t *testing.T) {
	base, new := prFixture()
	c := compare.Runs(base, new, compare.Options{})
	want := compare.FormatDetectable(findRow(t, c, "peak", "acquire.p95")) // +12ms (+10%)
	for name, write := range map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return c.Table(b, false) },
		"markdown": func(b *bytes.Buffer) error { return c.Markdown(b) },
		"html":     func(b *bytes.Buffer) error { return c.HTML(b) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if out := html.UnescapeString(b.String()); !strings.Contains(out, compare.HeaderDetectable) || !strings.Contains(out, want) {
			t.Errorf("%s: no %q column with %q", name, compare.HeaderDetectable, want)
		}
	}

	var b bytes.Buffer
	if err := c.JSON(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rows []struct {
			Scenario, Operation, Metric string
			Detectable                  *float64
			Informational               bool
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, b.String())
	}
	if len(doc.Rows) != len(c.Rows) {
		t.Fatalf("JSON: %d rows, want %d", len(doc.Rows), len(c.Rows))
	}
	for i, jr := range doc.Rows {
		r := c.Rows[i]
		switch {
		case r.Informational || math.IsInf(r.Detectable, 1) || math.IsNaN(r.Detectable):
			if jr.Detectable != nil {
				t.Errorf("JSON row %s %s: detectable %v, want null", r.Scenario, r.Name(), *jr.Detectable)
			}
		case jr.Detectable == nil || *jr.Detectable != r.Detectable:
			t.Errorf("JSON row %s %s: detectable %v, want %v", r.Scenario, r.Name(), jr.Detectable, r.Detectable)
		}
	}
}

// A recovery that no baseline measured (the pool was not stressed) is shown
// but never judged: nothing about it could have been flagged.
func TestDetectableRecoveryNotMeasured(t *testing.T) {
	withRecovery := func(rec results.Recovery) *results.Run {
		return run(scenario("s", func(s *results.Scenario) { s.Recovery = &rec }))
	}
	notStressed := withRecovery(results.Recovery{Status: results.RecoveryNotStressed})
	recovered := withRecovery(results.Recovery{Duration: 300 * ms, Status: results.RecoveryRecovered})
	for name, c := range map[string]*compare.Comparison{
		"not measured in the base": compare.Runs(notStressed, recovered, compare.Options{}),
		"not measured in the new":  compare.Runs(recovered, notStressed, compare.Options{}),
	} {
		r := findRow(t, c, "s", "recovery")
		if !math.IsInf(r.Detectable, 1) || compare.FormatDetectable(r) != "∞" {
			t.Errorf("%s: Detectable = %v (%q), want +Inf (∞)", name, r.Detectable, compare.FormatDetectable(r))
		}
	}
}
