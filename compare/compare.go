// Package compare answers "did this change make the pool worse?": it sets
// two saved runs of the same plan side by side, scenario by scenario, and
// marks every metric that got worse (a regression) or better (an
// improvement) by more than a tolerance.
//
// It reads only what the JSON reports hold: latency percentiles come from
// the saved HdrHistograms (the summary fields when a histogram is absent or
// unreadable), everything else from the scenario's totals. Nothing is
// re-run or re-evaluated. docs/compare.md describes the rules for users.
package compare

import (
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// Defaults of [Options].
const (
	// DefaultTolerance is the relative change beyond which a worse value is
	// a regression (10%).
	DefaultTolerance = 0.10
	// DefaultNoiseFloor is the absolute change below which a duration never
	// counts as a regression or an improvement, whatever its relative size:
	// timer resolution and scheduling jitter are absolute, so 60 µs → 120 µs
	// is noise, not a 100% regression.
	DefaultNoiseFloor = 100 * time.Microsecond
	// RateFloor is the absolute change of the error rate (1 − success_rate)
	// below which success_rate never counts: 0.1 percentage point.
	RateFloor = 0.001
)

// Units of [Row.Unit].
const (
	UnitDuration = "duration" // nanoseconds
	UnitRate     = "rate"     // fraction 0..1
	UnitCount    = "count"
	UnitOpsPerS  = "ops/s"
)

// Options tune [Runs]. Zero values take the documented defaults.
type Options struct {
	// Tolerance is the relative change beyond which a worse value is a
	// regression and a better one an improvement. Default [DefaultTolerance]
	// (0.10); negative means 0 (every change beyond the floors counts).
	Tolerance float64
	// NoiseFloor is the absolute duration change below which latencies and
	// recovery never count. Default [DefaultNoiseFloor] (100 µs); negative
	// means none.
	NoiseFloor time.Duration
}

func (o Options) withDefaults() Options {
	switch {
	case o.Tolerance == 0:
		o.Tolerance = DefaultTolerance
	case o.Tolerance < 0:
		o.Tolerance = 0
	}
	switch {
	case o.NoiseFloor == 0:
		o.NoiseFloor = DefaultNoiseFloor
	case o.NoiseFloor < 0:
		o.NoiseFloor = 0
	}
	return o
}

// Row is one metric of one scenario in both runs.
type Row struct {
	Scenario string
	// Metric is named as in assertions: "acquire.p95", "throughput", ...
	Metric string
	// Base and New are the raw values: nanoseconds for durations, fractions
	// for rates, plain numbers for counts and ops/s.
	Base, New float64
	// Unit is one of the Unit* constants.
	Unit string
	// Change is (New − Base)/Base: 0 when both are 0, ±Inf when only Base
	// is 0, NaN when either value is NaN.
	Change float64
	// Regression and Improvement say whether the change counts, by the
	// metric's direction, the tolerance and the noise floors.
	Regression, Improvement bool
	// Informational rows are reported only; they are never a regression or
	// an improvement (utilization.p95).
	Informational bool
	// Note explains a verdict the numbers alone do not show, e.g. "did not
	// recover".
	Note string
}

// Comparison is the outcome of [Runs].
type Comparison struct {
	Base, New *results.Run
	// Tolerance and NoiseFloor as applied (defaults resolved).
	Tolerance  float64
	NoiseFloor time.Duration
	// Rows in base scenario order, metrics in a fixed order per scenario.
	Rows []Row
	// Regressions counts the rows with Regression set.
	Regressions int
	// Improvements counts the rows with Improvement set.
	Improvements int
	// Missing lists the scenarios that ran in one run only (OnlyInBase then
	// OnlyInNew). A scenario that was skipped counts as not run.
	Missing    []string
	OnlyInBase []string
	OnlyInNew  []string
	// Notes are differences between the runs that make the comparison less
	// like for like (plan, pool configuration, time scale, server version),
	// and histograms that could not be read.
	Notes []string

	hists map[string]decoded // decoded histograms while Runs works; nil after
}

// Runs compares new against base. Scenarios are matched by name; metrics
// are, per scenario:
//
//   - acquire.{p50,p95,p99,max}, query.{p95,p99}, op.{p95,p99}: durations,
//     higher is worse.
//   - throughput: successful ops/s, lower is worse.
//   - success_rate: lower is worse, judged on the error rate 1 − success_rate:
//     it counts when the error rate changed by more than Tolerance relative to
//     the base error rate and by more than [RateFloor] (0.1 point) in absolute
//     terms. So 99% → 98.5% (errors 1% → 1.5%) is a regression, 100% → 99.95%
//     is not (the errors row reports that one).
//   - errors, leaks: counts, higher is worse; any increase from 0 is a
//     regression, otherwise the relative Tolerance applies.
//   - recovery: a duration, higher is worse, for scenarios with
//     recovery_after in both runs; a new run that did not recover when the
//     base did is a regression whatever the numbers.
//   - utilization.p95: reported only (a higher utilization is not a fault in
//     itself; its cost shows in the acquire latencies).
//
// Durations (latencies and recovery) never count when they changed by less
// than NoiseFloor in absolute terms. Percentiles come from the histograms
// (values in nanoseconds), the maxima from the summary's exact Max.
// Rows for latencies with no samples in either run are left out.
func Runs(base, new *results.Run, opts Options) *Comparison {
	opts = opts.withDefaults()
	c := &Comparison{Base: base, New: new, Tolerance: opts.Tolerance, NoiseFloor: opts.NoiseFloor}
	c.Notes = differences(base, new)

	newByName := map[string]*results.Scenario{}
	for i := range new.Scenarios {
		if ran(&new.Scenarios[i]) {
			newByName[new.Scenarios[i].Name] = &new.Scenarios[i]
		}
	}
	baseNames := map[string]bool{}
	for i := range base.Scenarios {
		b := &base.Scenarios[i]
		if !ran(b) {
			continue
		}
		baseNames[b.Name] = true
		n, ok := newByName[b.Name]
		if !ok {
			c.OnlyInBase = append(c.OnlyInBase, b.Name)
			continue
		}
		c.scenario(b, n, opts)
	}
	for i := range new.Scenarios {
		n := &new.Scenarios[i]
		if ran(n) && !baseNames[n.Name] {
			c.OnlyInNew = append(c.OnlyInNew, n.Name)
		}
	}
	c.hists = nil
	c.Missing = append(append([]string(nil), c.OnlyInBase...), c.OnlyInNew...)
	for _, r := range c.Rows {
		if r.Regression {
			c.Regressions++
		}
		if r.Improvement {
			c.Improvements++
		}
	}
	return c
}

// ran reports whether a scenario has measurements to compare.
func ran(s *results.Scenario) bool { return s.Status != "skipped" }

// direction of a metric.
type direction int

const (
	higherWorse direction = iota
	lowerWorse
	informational
)

// scenario appends the rows of one scenario present in both runs.
func (c *Comparison) scenario(b, n *results.Scenario, opts Options) {
	latencies := []struct {
		name     string
		bl, nl   *results.Latency
		quantile float64 // 0..100; 0 = the maximum
	}{
		{"acquire.p50", &b.Acquire, &n.Acquire, 50},
		{"acquire.p95", &b.Acquire, &n.Acquire, 95},
		{"acquire.p99", &b.Acquire, &n.Acquire, 99},
		{"acquire.max", &b.Acquire, &n.Acquire, 0},
		{"query.p95", &b.Query, &n.Query, 95},
		{"query.p99", &b.Query, &n.Query, 99},
		{"op.p95", &b.Op, &n.Op, 95},
		{"op.p99", &b.Op, &n.Op, 99},
	}
	for _, l := range latencies {
		if l.bl.Count == 0 && l.nl.Count == 0 {
			continue
		}
		bv := c.latencyValue(b.Name, l.name, "base", l.bl, l.quantile)
		nv := c.latencyValue(n.Name, l.name, "new", l.nl, l.quantile)
		c.Rows = append(c.Rows, judgeDuration(b.Name, l.name, bv, nv, opts))
	}

	c.Rows = append(c.Rows, judgeRelative(Row{Scenario: b.Name, Metric: "throughput", Base: b.Throughput, New: n.Throughput, Unit: UnitOpsPerS}, lowerWorse, opts.Tolerance))
	c.Rows = append(c.Rows, judgeSuccessRate(b.Name, b.SuccessRate, n.SuccessRate, opts.Tolerance))
	c.Rows = append(c.Rows, judgeCount(b.Name, "errors", float64(b.Errors), float64(n.Errors), opts.Tolerance))
	c.Rows = append(c.Rows, judgeCount(b.Name, "leaks", float64(b.Leaks), float64(n.Leaks), opts.Tolerance))

	if b.Recovery != nil && n.Recovery != nil {
		r := judgeDuration(b.Name, "recovery", b.Recovery.Duration, n.Recovery.Duration, opts)
		switch {
		case b.Recovery.Recovered() && !n.Recovery.Recovered():
			r.Regression, r.Improvement = true, false
			r.Note = "did not recover"
		case !b.Recovery.Recovered() && n.Recovery.Recovered():
			r.Regression, r.Improvement = false, true
			r.Note = "recovers now"
		case !b.Recovery.Recovered() && !n.Recovery.Recovered():
			r.Note = "recovered in neither run"
		}
		c.Rows = append(c.Rows, r)
	}

	c.Rows = append(c.Rows, judgeRelative(Row{Scenario: b.Name, Metric: "utilization.p95", Base: b.Utilization.P95, New: n.Utilization.P95, Unit: UnitRate}, informational, opts.Tolerance))
}

// latencyValue returns the duration at quantile (0..100) of l from its
// histogram, or from the summary fields when the histogram is absent or
// cannot be decoded (noted once per histogram). quantile 0 means the
// maximum, always the summary's exact Max (a histogram only knows it to
// its precision), falling back to the histogram when the summary has none.
func (c *Comparison) latencyValue(scenario, metric, side string, l *results.Latency, quantile float64) time.Duration {
	var h *hdrhistogram.Histogram
	if l.Histogram != "" {
		var err error
		h, err = c.decode(l.Histogram)
		if err != nil {
			h = nil
			c.note(fmt.Sprintf("%s %s: the %s histogram cannot be read (%v); using the summary", scenario, metricGroup(metric), side, err))
		}
	}
	if quantile == 0 {
		if l.Max == 0 && h != nil {
			return time.Duration(h.Max())
		}
		return l.Max
	}
	if h != nil && h.TotalCount() > 0 {
		return time.Duration(h.ValueAtQuantile(quantile))
	}
	switch quantile {
	case 50:
		return l.P50
	case 90:
		return l.P90
	case 95:
		return l.P95
	case 99:
		return l.P99
	}
	return 0
}

// decoded is a histogram decoded once for all the percentiles read from it.
type decoded struct {
	h   *hdrhistogram.Histogram
	err error
}

// decode decodes a V2 base64 histogram, once per distinct encoding.
func (c *Comparison) decode(encoded string) (*hdrhistogram.Histogram, error) {
	if d, ok := c.hists[encoded]; ok {
		return d.h, d.err
	}
	h, err := hdrhistogram.Decode([]byte(encoded))
	if c.hists == nil {
		c.hists = map[string]decoded{}
	}
	c.hists[encoded] = decoded{h, err}
	return h, err
}

// metricGroup returns "acquire" for "acquire.p95".
func metricGroup(metric string) string {
	for i := range len(metric) {
		if metric[i] == '.' {
			return metric[:i]
		}
	}
	return metric
}

// note adds a note unless it is already there.
func (c *Comparison) note(s string) {
	for _, n := range c.Notes {
		if n == s {
			return
		}
	}
	c.Notes = append(c.Notes, s)
}

// change returns (n − b)/b with the edge cases of [Row.Change].
func change(b, n float64) float64 {
	switch {
	case math.IsNaN(b) || math.IsNaN(n):
		return math.NaN()
	case b == n:
		return 0
	case b == 0:
		return math.Inf(sign(n))
	}
	return (n - b) / math.Abs(b)
}

func sign(f float64) int {
	if f < 0 {
		return -1
	}
	return 1
}

// judgeRelative sets Change and, by direction, Regression/Improvement when
// the relative change is beyond tol.
func judgeRelative(r Row, dir direction, tol float64) Row {
	r.Change = change(r.Base, r.New)
	if math.IsNaN(r.Change) {
		return r
	}
	switch dir {
	case higherWorse:
		r.Regression = r.Change > tol
		r.Improvement = r.Change < -tol
	case lowerWorse:
		r.Regression = r.Change < -tol
		r.Improvement = r.Change > tol
	case informational:
		r.Informational = true
	}
	return r
}

// judgeDuration judges a duration where higher is worse, with the noise floor.
func judgeDuration(scenario, metric string, b, n time.Duration, opts Options) Row {
	r := judgeRelative(Row{Scenario: scenario, Metric: metric, Base: float64(b), New: float64(n), Unit: UnitDuration}, higherWorse, opts.Tolerance)
	if d := n - b; d < opts.NoiseFloor && -d < opts.NoiseFloor {
		if r.Regression || r.Improvement {
			r.Note = "noise: under " + humanize.Duration(opts.NoiseFloor)
		}
		r.Regression, r.Improvement = false, false
	}
	return r
}

// judgeCount judges a count where higher is worse: any increase from 0 is a
// regression (Change is +Inf), a fall to 0 an improvement.
func judgeCount(scenario, metric string, b, n, tol float64) Row {
	return judgeRelative(Row{Scenario: scenario, Metric: metric, Base: b, New: n, Unit: UnitCount}, higherWorse, tol)
}

// judgeSuccessRate judges success_rate on the error rate (see [Runs]).
func judgeSuccessRate(scenario string, b, n, tol float64) Row {
	r := Row{Scenario: scenario, Metric: "success_rate", Base: b, New: n, Unit: UnitRate, Change: change(b, n)}
	if math.IsNaN(b) || math.IsNaN(n) {
		return r
	}
	be, ne := 1-b, 1-n
	d := ne - be
	if math.Abs(d) <= RateFloor {
		return r
	}
	rel := change(be, ne)
	r.Regression = rel > tol
	r.Improvement = rel < -tol
	return r
}

// differences lists what makes the two runs less like for like.
func differences(base, new *results.Run) []string {
	var notes []string
	if base.Plan.SHA256 != "" && new.Plan.SHA256 != "" && base.Plan.SHA256 != new.Plan.SHA256 {
		notes = append(notes, fmt.Sprintf("the plan file differs (%s → %s)", short(base.Plan.SHA256), short(new.Plan.SHA256)))
	}
	if base.Pool != new.Pool {
		notes = append(notes, fmt.Sprintf("the pool configuration differs: %s → %s", poolText(base.Pool), poolText(new.Pool)))
	}
	if base.TimeScale != new.TimeScale {
		notes = append(notes, fmt.Sprintf("the time scale differs: %g → %g", base.TimeScale, new.TimeScale))
	}
	if base.Target.ServerVersion != new.Target.ServerVersion {
		notes = append(notes, fmt.Sprintf("the server version differs: %s → %s", orUnknown(base.Target.ServerVersion), orUnknown(new.Target.ServerVersion)))
	}
	if base.Target.Replicas != new.Target.Replicas {
		notes = append(notes, fmt.Sprintf("replicas differ: %d → %d", base.Target.Replicas, new.Target.Replicas))
	}
	for _, r := range []*results.Run{base, new} {
		if r.Status != "" && r.Status != results.StatusCompleted {
			side := "base"
			if r == new {
				side = "new"
			}
			notes = append(notes, fmt.Sprintf("the %s run did not complete (%s)", side, r.Status))
		}
	}
	return notes
}

func poolText(p results.Pool) string {
	return fmt.Sprintf("size %d + overflow %d, timeout %s, recycle %s, pre_ping %t", p.Size, p.MaxOverflow, p.Timeout, p.Recycle, p.PrePing)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
