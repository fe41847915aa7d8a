// Package compare answers "did this change make the pool worse?": it sets
// one or more saved baseline runs and a new run of the same plan side by
// side, scenario by scenario and operation by operation, and marks every
// metric that got worse (a regression) or better (an improvement) by more
// than both a tolerance and the run-to-run noise it estimates from the runs
// themselves.
//
// It reads only what the JSON reports hold: latency percentiles come from
// the saved HdrHistograms (the summary fields when a histogram is absent or
// unreadable), noise from the per-window series and the histograms (and,
// with several baselines, from their spread), everything else from the
// scenario's totals. Nothing is re-run or re-evaluated. docs/compare.md
// describes the rules for users.
package compare

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// Defaults of [Options].
const (
	// DefaultTolerance is the relative change beyond which a worse value is
	// a regression (10%), when it is also beyond the noise.
	DefaultTolerance = 0.10
	// DefaultNoiseFloor is the absolute change below which a duration never
	// counts as a regression or an improvement, whatever its relative size
	// and whatever the noise estimate says: timer resolution and scheduling
	// jitter are absolute, so 60 µs → 120 µs is noise, not a 100% regression.
	DefaultNoiseFloor = 100 * time.Microsecond
	// RateFloor is the absolute change of the error rate (1 − success_rate)
	// below which success_rate never counts: 0.1 percentage point.
	RateFloor = 0.001
	// RecoveryResolution is the resolution of recovery, measured on the
	// pool samples taken every 100 ms (docs/metrics.md): the floor of a
	// recovery change.
	RecoveryResolution = 100 * time.Millisecond
)

// Units of [Row.Unit].
const (
	UnitDuration = "duration" // nanoseconds
	UnitRate     = "rate"     // fraction 0..1
	UnitCount    = "count"
	UnitOpsPerS  = "ops/s"
)

// Options tune [Runs] and [Baselines]. Zero values take the documented
// defaults.
type Options struct {
	// Tolerance is the relative change beyond which a worse value is a
	// regression and a better one an improvement, when the change is also
	// beyond the noise. Default [DefaultTolerance] (0.10); negative means 0
	// (every change beyond the noise and the floors counts).
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

// Row is one metric of one scenario (or of one operation of a scenario) in
// the baseline run(s) and the new run.
type Row struct {
	Scenario string
	// Operation is the operation's name for per-operation rows, "" for the
	// scenario's own rows.
	Operation string
	// Metric is named as in assertions: "acquire.p95", "throughput", ...
	Metric string
	// Base and New are the raw values: nanoseconds for durations, fractions
	// for rates, plain numbers for counts and ops/s. With several baselines
	// Base is their mean.
	Base, New float64
	// Unit is one of the Unit* constants.
	Unit string
	// Change is (New − Base)/Base: 0 when both are 0, ±Inf when only Base
	// is 0, NaN when either value is NaN.
	Change float64
	// Noise is the estimated run-to-run variability of New − Base (half
	// of a 95% interval, in the row's unit; for success_rate, of the error
	// rate): 0 when nothing could be estimated. docs/compare.md, "Noise".
	Noise float64
	// Threshold is how far New had to move from Base to count:
	// max(Tolerance·|Base|, Noise, the floor). 0 for informational rows.
	Threshold float64
	// Excess is |New − Base| / Threshold: above 1 for every regression and
	// improvement, +Inf for one from zero (errors 0 → 12) or a lost recovery.
	Excess float64
	// Detectable is the smallest change in the worse direction that would
	// have been flagged as a regression, with the same noise, tolerance and
	// floor: max(Tolerance·|Base|, the noise in the worse direction, the
	// floor), in the row's unit (for success_rate, a rise of the error
	// rate; for throughput, a fall). For counts it is the smallest whole
	// increase past that (1 from zero). +Inf when no change of the figure
	// could have been flagged: too few samples for a percentile, a fall of
	// throughput or a rise of the error rate beyond what is possible, a
	// recovery duration with one baseline (a lost recovery is still
	// flagged). 0 for informational rows; NaN when the figure is unknown.
	// docs/compare.md, "What a comparison could detect".
	Detectable float64
	// Regression and Improvement say whether the change counts, by the
	// metric's direction, the tolerance, the noise and the floors.
	Regression, Improvement bool
	// Informational rows are reported only; they are never a regression or
	// an improvement (acquire.max, utilization.p95).
	Informational bool
	// Errors marks the rows about failed operations (success_rate, errors,
	// timeouts): they come first among the regressions.
	Errors bool
	// Note explains a verdict the numbers alone do not show, e.g. "did not
	// recover" or "within the noise (±1.2ms)".
	Note string
}

// Name is the metric as printed: "acquire.p95", or "balance · op.p95" for an
// operation's row.
func (r Row) Name() string {
	if r.Operation == "" {
		return r.Metric
	}
	return r.Operation + " · " + r.Metric
}

// Comparison is the outcome of [Runs] or [Baselines].
type Comparison struct {
	// Bases are the baseline runs; Base is the first of them.
	Bases     []*results.Run
	Base, New *results.Run
	// Tolerance and NoiseFloor as applied (defaults resolved).
	Tolerance  float64
	NoiseFloor time.Duration
	// Rows in base scenario order; per scenario, its metrics in a fixed
	// order, then its operations' rows.
	Rows []Row
	// Regressions counts the rows with Regression set.
	Regressions int
	// Improvements counts the rows with Improvement set.
	Improvements int
	// Missing lists the scenarios that ran in one side only (OnlyInBase then
	// OnlyInNew). A scenario that was skipped counts as not run.
	Missing    []string
	OnlyInBase []string
	OnlyInNew  []string
	// Changes are the differences between the runs that change what the
	// figures mean: the target (server version, embedded or not, TLS,
	// replicas...), the pool configuration, the plan file, the time scale,
	// a run that did not complete. Renderers state them at the top.
	Changes []string
	// Notes are everything else worth knowing: histograms that could not be
	// read, noise that could not be estimated, operations in one run only.
	Notes []string

	// Family is the factor every row's 95% noise was widened by for the
	// number of rows judged ([FamilyFactor]).
	Family float64

	hists       map[string]decoded // decoded histograms while comparing; nil after
	unestimated []string           // scenarios without a window-based noise estimate
	pending     []*pendingScenario // rows waiting for the number of rows judged
	noises      map[*results.Scenario]windowNoise
}

// Runs compares new against one baseline run; see [Baselines].
func Runs(base, new *results.Run, opts Options) *Comparison {
	return Baselines([]*results.Run{base}, new, opts)
}

// Baselines compares new against one or more baseline runs of the same
// plan. Scenarios are matched by name, operations within a scenario by
// name. Which figures are shown, their units and the direction in which
// each is worse come from the table of figures (results.Figures: Compare,
// Unit, Better); here is how each is read and how noisy it is. The metrics
// are, per scenario:
//
//   - acquire.{p50,p95,p99}, query.{p95,p99}, op.{p95,p99}: durations,
//     higher is worse.
//   - acquire.max: reported only (one sample; its noise cannot be estimated).
//   - throughput: successful ops/s, lower is worse.
//   - success_rate: lower is worse, judged on the error rate 1 − success_rate
//     with the floor [RateFloor] (0.1 point).
//   - errors, timeouts (acquire timeouts; shown when either run has some),
//     leaks: counts, higher is worse; any increase from 0 is a regression.
//   - recovery: a duration, higher is worse, for scenarios with
//     recovery_after in both runs; a new run that did not recover when the
//     base did is a regression whatever the numbers.
//   - utilization.p95: reported only.
//   - service.utilization.max (reported only) and service.leaks (a count,
//     as leaks), when every run watched the service under test and
//     measured them (target.service: its backends found; for leaks, the
//     check after the drain made).
//
// and per operation: op.p95, op.p99, throughput, and errors (when either run
// has some).
//
// A worse value is a regression, a better one an improvement, only when the
// change is beyond the tolerance (relative to the base), beyond the noise
// estimated from the runs themselves (see noise.go and docs/compare.md), and
// beyond the floor of its kind (NoiseFloor for durations, RateFloor for the
// error rate). In a scenario whose errors or timeouts rose, a latency that
// fell is not an improvement: the failed operations cut it short.
func Baselines(bases []*results.Run, new *results.Run, opts Options) *Comparison {
	opts = opts.withDefaults()
	c := &Comparison{Bases: bases, Base: bases[0], New: new, Tolerance: opts.Tolerance, NoiseFloor: opts.NoiseFloor}
	c.Changes = changes(bases, new)

	newByName := map[string]*results.Scenario{}
	for i := range new.Scenarios {
		newByName[new.Scenarios[i].Name] = &new.Scenarios[i]
	}
	seen := map[string]bool{}
	for _, base := range bases {
		for i := range base.Scenarios {
			b := &base.Scenarios[i]
			if seen[b.Name] {
				continue
			}
			seen[b.Name] = true
			n, ok := newByName[b.Name]
			if !ok {
				c.OnlyInBase = append(c.OnlyInBase, b.Name)
				continue
			}
			c.scenario(scenariosNamed(bases, b.Name), n, opts)
		}
	}
	for i := range new.Scenarios {
		n := &new.Scenarios[i]
		if !seen[n.Name] {
			c.OnlyInNew = append(c.OnlyInNew, n.Name)
		}
	}
	c.judgeAll()
	if len(c.unestimated) > 0 {
		c.note(fmt.Sprintf("fewer than %d full one-second windows in a run of %s: the noise there is only the sampling error of the histograms and the counts, which underestimates it; run longer or give several baselines",
			MinWindows, joinNames(c.unestimated)))
	}
	c.hists, c.unestimated, c.noises = nil, nil, nil
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

// scenariosNamed returns the scenario called name in each run that ran it.
func scenariosNamed(runs []*results.Run, name string) []*results.Scenario {
	var out []*results.Scenario
	for _, r := range runs {
		for i := range r.Scenarios {
			if s := &r.Scenarios[i]; s.Name == name {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// rule is how a metric is judged: from its entry in the table of figures
// (results.Figures), by [ruleOf].
type rule int

const (
	ruleLatency    rule = iota // a duration, higher is worse; tolerance, noise, NoiseFloor
	ruleThroughput             // ops/s, lower is worse; tolerance, noise
	ruleErrorRate              // success_rate judged on the error rate; tolerance, noise, RateFloor
	ruleCount                  // higher is worse; from 0 always counts; tolerance, noise
	ruleRecovery               // like ruleLatency, plus recovered or not
	ruleInfo                   // reported only
)

// ruleOf is how compare judges a figure of the table, from its compare
// role, unit and direction; ok is false for a figure compare cannot judge
// (not compared, or a unit and direction it has no rule for). Recovery,
// a duration that also says whether the pool recovered, is judged by
// ruleRecovery where its figure carries the recovery.
func ruleOf(f results.Figure) (r rule, unit string, ok bool) {
	switch f.Unit {
	case results.UnitDuration:
		unit = UnitDuration
	case results.UnitRate:
		unit = UnitRate
	case results.UnitCount:
		unit = UnitCount
	case results.UnitOpsPerSec:
		unit = UnitOpsPerS
	default:
		return ruleInfo, "", false
	}
	switch {
	case f.Compare == results.Shown:
		return ruleInfo, unit, true
	case f.Compare != results.Judged:
		return ruleInfo, unit, false
	case f.Unit == results.UnitDuration && f.Better == results.LowerIsBetter:
		return ruleLatency, unit, true
	case f.Unit == results.UnitOpsPerSec && f.Better == results.HigherIsBetter:
		return ruleThroughput, unit, true
	case f.Unit == results.UnitRate && f.Better == results.HigherIsBetter:
		return ruleErrorRate, unit, true
	case f.Unit == results.UnitCount && f.Better == results.LowerIsBetter:
		return ruleCount, unit, true
	}
	return ruleInfo, unit, false
}

// figure is one run's value of one metric with its own uncertainty.
type figure struct {
	metric string
	unit   string
	rule   rule
	errors bool
	v      float64
	// u is the half-width of a 95% interval of v for this run alone (0
	// when not estimated); for ruleErrorRate, of the error rate.
	u   float64
	rec *results.Recovery
	// svc marks a figure of the service under test (target.service);
	// measured says this run measured it (the service's backends found,
	// and for service.leaks the check after the drain made). Its row is
	// shown only when every run measured it.
	svc, measured bool
	// ownPool marks a figure of planrun's own pool (results.ReadsOwnPool):
	// its row is left out when a run's scenario sent only HTTP requests
	// (results.Scenario.HTTPOnly), where that pool took no load.
	ownPool bool
}

// figureOf is the figure of the table named name (an assertion name,
// "operations.<name>.op.p95" for an operation's), with value v and
// uncertainty u: its unit and rule come from the table, its metric is the
// name compare prints (the entry's Label, else its name; an operation's
// without the operations.<name>. prefix). A name compare cannot judge is a
// programming error (the compare test walks the table).
func figureOf(name string, v, u float64) figure {
	f := results.MustFigure(name)
	r, unit, ok := ruleOf(f)
	if !ok {
		panic("compare: no rule for " + name)
	}
	metric := f.Label
	if metric == "" {
		metric = strings.TrimPrefix(f.Name, results.OperationPrefix)
	}
	return figure{metric: metric, unit: unit, rule: r, v: v, u: u, ownPool: results.ReadsOwnPool(name)}
}

// failures marks a figure about failed operations (its row comes first
// among the regressions, see [Row.Errors]).
func failures(f figure) figure {
	f.errors = true
	return f
}

// scenario appends the rows of one scenario: bases are the baselines that
// ran it, n the new run's.
func (c *Comparison) scenario(bases []*results.Scenario, n *results.Scenario, opts Options) {
	name := n.Name
	bf := make([][]figure, len(bases))
	for i, b := range bases {
		bf[i] = c.scenarioFigures(b, "base")
	}
	nf := c.scenarioFigures(n, "new")
	ps := &pendingScenario{n: n}
	for j := range nf {
		if skipLatency(nf[j], bf, j) {
			continue
		}
		if nf[j].metric == "timeouts" && nf[j].v == 0 && allZero(bf, j) {
			continue
		}
		if nf[j].rule == ruleRecovery && (nf[j].rec == nil || noRecovery(bf, j)) {
			continue
		}
		if nf[j].svc && (!nf[j].measured || !allMeasured(bf, j)) {
			continue
		}
		if nf[j].ownPool && anyHTTPOnly(bases, n) {
			continue
		}
		ps.add(name, "", column(bf, j), nf[j], c, opts)
	}
	if c.noiseUnknown(bases, n) {
		c.unestimated = append(c.unestimated, name)
	}
	c.operations(bases, n, ps, opts)
	c.pending = append(c.pending, ps)
}

// pendingScenario holds a scenario's rows until every scenario is known:
// how many rows are judged sets how wide each row's interval must be.
type pendingScenario struct {
	n    *results.Scenario
	rows []pendingRow
}

type pendingRow struct {
	gated bool
	eval  func(family float64) Row
}

func (ps *pendingScenario) add(scenario, op string, bf []figure, n figure, c *Comparison, opts Options) {
	ps.rows = append(ps.rows, pendingRow{gated: n.rule != ruleInfo, eval: func(family float64) Row {
		return c.judge(scenario, op, bf, n, opts, family)
	}})
}

// judgeAll turns the pending rows into rows. Each row's 95% noise is
// widened by the Bonferroni factor for the number of rows judged, so that
// the chance of any row of the comparison passing its noise by chance stays
// near 5% (see [FamilyFactor]); then [Comparison.errorsFirst] runs per
// scenario.
func (c *Comparison) judgeAll() {
	m := 0
	for _, ps := range c.pending {
		for _, pr := range ps.rows {
			if pr.gated {
				m++
			}
		}
	}
	c.Family = FamilyFactor(m)
	for _, ps := range c.pending {
		first := len(c.Rows)
		for _, pr := range ps.rows {
			c.Rows = append(c.Rows, pr.eval(c.Family))
		}
		c.errorsFirst(first, ps.n)
	}
	c.pending = nil
}

// errorsFirst: when operations failed more, the latencies that fell in that
// scenario fell because the failed operations were cut short; they are not
// improvements. rows[first:] are the scenario's rows.
func (c *Comparison) errorsFirst(first int, n *results.Scenario) {
	rose := false
	for _, r := range c.Rows[first:] {
		if r.Errors && r.Regression {
			rose = true
		}
	}
	if !rose {
		return
	}
	why := fellBecause(n, c.New.Pool)
	for i := first; i < len(c.Rows); i++ {
		r := &c.Rows[i]
		if r.Unit == UnitDuration && r.Improvement {
			r.Improvement = false
			r.Note = why
		}
		if r.Metric == "success_rate" && r.Operation == "" && r.Regression {
			r.Note = failedText(n, c.New.Pool)
		}
	}
}

// skipLatency leaves out a latency with no samples in any run.
func skipLatency(n figure, bf [][]figure, j int) bool {
	if n.unit != UnitDuration || n.rule == ruleRecovery || n.v != 0 {
		return false
	}
	for _, f := range bf {
		if f[j].v != 0 {
			return false
		}
	}
	return true
}

func noRecovery(bf [][]figure, j int) bool {
	for _, f := range bf {
		if f[j].rec != nil {
			return false
		}
	}
	return true
}

// anyHTTPOnly reports whether the new run's scenario n or a baseline's
// sent only HTTP requests: planrun's own pool figures then compare a load
// with none.
func anyHTTPOnly(bases []*results.Scenario, n *results.Scenario) bool {
	if n.HTTPOnly {
		return true
	}
	for _, b := range bases {
		if b.HTTPOnly {
			return true
		}
	}
	return false
}

// allMeasured reports whether every baseline measured its j-th figure.
func allMeasured(bf [][]figure, j int) bool {
	for _, f := range bf {
		if !f[j].measured {
			return false
		}
	}
	return true
}

func allZero(bf [][]figure, j int) bool {
	for _, f := range bf {
		if f[j].v != 0 {
			return false
		}
	}
	return true
}

func column(bf [][]figure, j int) []figure {
	out := make([]figure, len(bf))
	for i := range bf {
		out[i] = bf[i][j]
	}
	return out
}

// noiseUnknown reports whether a single baseline or the new run has too
// few windows for a window-based noise estimate.
func (c *Comparison) noiseUnknown(bases []*results.Scenario, n *results.Scenario) bool {
	if len(bases) >= 2 {
		return false
	}
	for _, s := range append(bases[:len(bases):len(bases)], n) {
		if s.Ops > 0 && len(windows(s)) < MinWindows {
			return true
		}
	}
	return false
}

// scenarioFigures returns a scenario's figures in row order; the set of
// metrics depends only on whether the scenario has recovery_after, so the
// figures of two runs line up when both have it or both do not (recovery
// is last but one and is dropped when either side lacks it).
func (c *Comparison) scenarioFigures(s *results.Scenario, side string) []figure {
	wn := c.noiseOf(s)
	value := func(name string) float64 { return results.MustFigure(name).Value(s) }
	var out []figure
	acq := map[float64]float64{}
	for _, p := range []float64{50, 95, 99} {
		v, h := c.latency(s.Name, "acquire", side, &s.Acquire, p)
		acq[p] = v
		out = append(out, figureOf(fmt.Sprintf("acquire.p%g", p), v, max(wn.acquire[p].h(), quantileInterval(h, p))))
	}
	out = append(out, figureOf("acquire.max", c.maxOf(s.Name, side, &s.Acquire), 0))
	deff := c.designEffect(s, side, wn)
	for _, p := range []float64{95, 99} {
		v, h := c.latency(s.Name, "query", side, &s.Query, p)
		out = append(out, figureOf(fmt.Sprintf("query.p%g", p), v, max(wn.query95.h(), deff*quantileInterval(h, p))))
	}
	for _, p := range []float64{95, 99} {
		v, h := c.latency(s.Name, "op", side, &s.Op, p)
		window := opWindowNoise(wn, p, acq[p], v)
		if p == 95 && wn.op95.ok {
			window = wn.op95.h() // the series has op.p95 itself
		}
		out = append(out, figureOf(fmt.Sprintf("op.p%g", p), v, max(window, deff*quantileInterval(h, p))))
	}
	succ := float64(s.Ops - s.Errors)
	out = append(out, figureOf("throughput", value("throughput"), max(wn.through.h(), poissonLog(succ))))
	rate := value("success_rate")
	out = append(out, failures(figureOf("success_rate", rate, max(wn.errorRate.h(), binomialHalf(1-rate, s.Ops)))))
	timeouts := "errors_by." + results.ErrAcquireTimeout
	out = append(out, failures(figureOf(timeouts, value(timeouts), 0)))
	out = append(out, failures(figureOf("errors", value("errors"), 0)))
	out = append(out, figureOf("leaks", value("leaks"), 0))
	rec := figureOf("recovery", value("recovery"), 0)
	rec.rule, rec.rec = ruleRecovery, s.Recovery
	if s.Recovery == nil {
		rec.unit = ""
	}
	out = append(out, rec)
	out = append(out, figureOf("utilization.p95", value("utilization.p95"), 0))
	found := s.Service != nil && s.Service.NotFound == ""
	for _, name := range []string{"service.utilization.max", "service.leaks"} {
		f := figureOf(name, value(name), 0)
		f.svc, f.measured = true, found && (name != "service.leaks" || s.Service.DrainNotChecked == "")
		out = append(out, f)
	}
	return out
}

// designEffect is how many times wider than the sampling error of
// independent samples the window-based interval of query.p95 and of
// acquire.p95 is (the larger; at least 1): the samples of a run are not
// independent (a slow second slows all of its operations), and this factor
// carries that over to the percentiles that have no series of their own
// (query.p99, op.*, the operations' latencies), applied to their own
// sampling error, which knows how few samples their tail holds.
func (c *Comparison) designEffect(s *results.Scenario, side string, wn windowNoise) float64 {
	d := 1.0
	for _, l := range []struct {
		group string
		lat   *results.Latency
		sp    spread
	}{{"query", &s.Query, wn.query95}, {"acquire", &s.Acquire, wn.acquire[95]}} {
		_, h := c.latency(s.Name, l.group, side, l.lat, 95)
		if iid := quantileInterval(h, 95); iid > 0 && l.sp.ok {
			d = max(d, l.sp.h()/iid)
		}
	}
	return d
}

// opWindowNoise is the window-based uncertainty (log units) of an op
// percentile, which has no series of its own: the acquire part (acq, the
// acquire percentile, of op) varies as the acquire series does, the rest
// (statements, hold, the client) as the larger of the query series and the
// throughput series (in a closed model the throughput is the inverse of the
// time an operation takes); each weighs by its share of op.
func opWindowNoise(wn windowNoise, p, acq, op float64) float64 {
	if op <= 0 {
		return 0
	}
	share := min(max(acq/op, 0), 1)
	return share*wn.acquire[p].h() + (1-share)*max(wn.query95.h(), wn.through.h())
}

// poissonLog is the 95% half-width, in log units, of a rate made of count
// events taken as Poisson: 1.96/√count (0 for no events).
func poissonLog(count float64) float64 {
	if count <= 0 {
		return 0
	}
	return z975 / math.Sqrt(count)
}

// operations appends the per-operation rows of one scenario.
func (c *Comparison) operations(bases []*results.Scenario, n *results.Scenario, ps *pendingScenario, opts Options) {
	wn := c.noiseOf(n)
	newOps := map[string]*results.Operation{}
	for i := range n.Operations {
		newOps[n.Operations[i].Name] = &n.Operations[i]
	}
	seen := map[string]bool{}
	var onlyBase []string
	for _, o := range bases[0].Operations {
		seen[o.Name] = true
		no, ok := newOps[o.Name]
		if !ok {
			onlyBase = append(onlyBase, o.Name)
			continue
		}
		var bf [][]figure
		for _, b := range bases {
			for i := range b.Operations {
				if b.Operations[i].Name == o.Name {
					bf = append(bf, c.opFigures(b, &b.Operations[i], c.noiseOf(b), "base"))
				}
			}
		}
		nf := c.opFigures(n, no, wn, "new")
		for j := range nf {
			if skipLatency(nf[j], bf, j) {
				continue
			}
			if nf[j].metric == "errors" && nf[j].v == 0 && allZero(bf, j) {
				continue
			}
			ps.add(n.Name, o.Name, column(bf, j), nf[j], c, opts)
		}
	}
	var onlyNew []string
	for _, o := range n.Operations {
		if !seen[o.Name] {
			onlyNew = append(onlyNew, o.Name)
		}
	}
	if len(onlyBase) > 0 {
		c.note(fmt.Sprintf("%s: operations only in the base run (not compared): %s", n.Name, joinNames(onlyBase)))
	}
	if len(onlyNew) > 0 {
		c.note(fmt.Sprintf("%s: operations only in the new run (not compared): %s", n.Name, joinNames(onlyNew)))
	}
}

// opFigures returns one operation's figures in row order.
func (c *Comparison) opFigures(s *results.Scenario, o *results.Operation, wn windowNoise, side string) []figure {
	var out []figure
	group := "operation " + o.Name
	deff := c.designEffect(s, side, wn)
	for _, p := range []float64{95, 99} {
		v, h := c.latency(s.Name, group, side, &o.Op, p)
		// The operation's share of the scenario's op noise, relatively.
		sv, _ := c.latency(s.Name, "op", side, &s.Op, p)
		sacq, _ := c.latency(s.Name, "acquire", side, &s.Acquire, p)
		out = append(out, figureOf(fmt.Sprintf("%sop.p%g", results.OperationPrefix, p), v,
			max(opWindowNoise(wn, p, sacq, sv), deff*quantileInterval(h, p))))
	}
	// An operation's throughput, which assertions do not offer, is judged
	// as the scenario's.
	succ := float64(o.Ops - o.Errors)
	tp := 0.0
	if s.Elapsed > 0 {
		tp = succ / s.Elapsed.Seconds()
	}
	out = append(out, figureOf("throughput", tp, max(wn.through.h(), poissonLog(succ))))
	errs := results.MustFigure(results.OperationPrefix + "errors").OfOperation(o)
	out = append(out, failures(figureOf(results.OperationPrefix+"errors", errs, 0)))
	return out
}

// judge builds the row of one metric from the baselines' figures (one per
// baseline that measured it) and the new run's.
func (c *Comparison) judge(scenario, op string, bf []figure, n figure, opts Options, family float64) Row {
	r := Row{Scenario: scenario, Operation: op, Metric: n.metric, Unit: n.unit, Errors: n.errors, New: n.v}
	if n.rule == ruleRecovery {
		return c.judgeRecovery(r, bf, n, opts, family)
	}
	var vals, logs []float64
	var u2 float64
	positive := n.v > 0
	for _, f := range bf {
		vals = append(vals, f.v)
		r.Base += f.v
		u2 += f.u * f.u
		if f.v > 0 {
			logs = append(logs, math.Log(f.v))
		} else {
			positive = false
		}
	}
	r.Base /= float64(len(bf))
	u2 /= float64(len(bf))
	// The noise of New − Base: the runs' own uncertainties combined (the
	// mean of B baselines is √B times surer), or the spread between the
	// baselines when it is larger. Latencies and throughput are judged on
	// the log scale (their noise is multiplicative): Base is then the
	// baselines' geometric mean, and Noise the log half-width turned back
	// into the metric's unit in the direction of the change.
	own := math.Sqrt(u2/float64(len(bf)) + n.u*n.u)
	var worseNoise float64 // the noise in the direction of a regression
	switch {
	case (n.rule == ruleLatency || n.rule == ruleThroughput) && positive:
		var lm float64
		for _, l := range logs {
			lm += l
		}
		if len(logs) > 1 {
			r.Base = math.Exp(lm / float64(len(logs)))
		}
		h := max(own, predictionHalf(logs)) * family
		up, down := r.Base*math.Expm1(h), -r.Base*math.Expm1(-h)
		switch {
		case r.New >= r.Base:
			r.Noise = up
		default:
			r.Noise = down
		}
		worseNoise = up // a latency rises
		if n.rule == ruleThroughput {
			worseNoise = down // throughput falls
		}
		if math.IsInf(h, 1) {
			worseNoise = h
		}
	case n.rule == ruleLatency || n.rule == ruleThroughput:
		r.Noise = predictionHalf(vals) * family // a zero: no log scale, no own noise
		worseNoise = r.Noise
	default:
		r.Noise = max(own, predictionHalf(vals)) * family
		worseNoise = r.Noise
	}
	r.Change = change(r.Base, r.New)

	switch n.rule {
	case ruleInfo:
		r.Informational = true
	case ruleLatency:
		r.Detectable = detectable(worseNoise, r.Base, opts.Tolerance, float64(opts.NoiseFloor), math.Inf(1))
		judgeMagnitude(&r, r.New-r.Base, r.Base, opts.Tolerance, float64(opts.NoiseFloor), floorNote(opts.NoiseFloor))
	case ruleThroughput:
		r.Detectable = detectable(worseNoise, r.Base, opts.Tolerance, 0, r.Base) // it cannot fall below 0
		judgeMagnitude(&r, r.Base-r.New, r.Base, opts.Tolerance, 0, "")
	case ruleErrorRate:
		if math.IsNaN(r.Base) || math.IsNaN(r.New) {
			r.Detectable = math.NaN()
			return r
		}
		be := 1 - r.Base
		r.Detectable = detectable(worseNoise, be, opts.Tolerance, RateFloor, 1-be) // it cannot rise above 1
		judgeMagnitude(&r, (1-r.New)-be, be, opts.Tolerance, RateFloor, "")
	case ruleCount:
		r.Detectable = countDetectable(r.Noise, r.Base, opts.Tolerance, z975*family)
		switch {
		case r.Base == 0 && r.New > 0:
			r.Regression, r.Excess = true, math.Inf(1)
		case r.Base > 0 && r.New == 0:
			r.Improvement, r.Excess = true, math.Inf(1)
		default:
			r.Noise = max(r.Noise, poissonHalf(r.Base, r.New)*family)
			judgeMagnitude(&r, r.New-r.Base, r.Base, opts.Tolerance, 0, "")
		}
	}
	return r
}

// detectable is the smallest worse change that passes max(tol·|base|,
// noise, floor), the threshold of [judgeMagnitude]; +Inf when the noise is
// infinite or the threshold reaches limit, the largest worse change the
// figure can make (a throughput can fall by at most all of it).
func detectable(noise, base, tol, floor, limit float64) float64 {
	d := max(tol*math.Abs(base), noise, floor)
	if math.IsInf(noise, 1) || d >= limit {
		return math.Inf(1)
	}
	return d
}

// countDetectable is the smallest whole increase of a count that counts as
// a regression: 1 from zero (any increase counts); otherwise the smallest
// whole d past max(tol·base, noise, c·√(2·base + d)), the last being the
// Poisson noise of base and base + d at the family's z value c: d =
// c·√(2b + d) solves to (c² + √(c⁴ + 8·b·c²)) / 2.
func countDetectable(noise, base, tol, c float64) float64 {
	if base == 0 {
		return 1
	}
	c2 := c * c
	poisson := (c2 + math.Sqrt(c2*c2+8*base*c2)) / 2
	return math.Floor(max(tol*base, noise, poisson)) + 1
}

// judgeMagnitude sets Threshold, Excess and the verdict of a row whose
// change in the worse direction is worse (negative when better), against
// base for the tolerance: it counts when |worse| > max(tol·|base|, Noise,
// floor). A change beyond the tolerance alone gets a note saying what held
// it back.
func judgeMagnitude(r *Row, worse, base, tol, floor float64, floorText string) {
	if math.IsNaN(worse) {
		return
	}
	byTol := tol * math.Abs(base)
	r.Threshold = max(byTol, r.Noise, floor)
	d := math.Abs(worse)
	if r.Threshold > 0 {
		r.Excess = d / r.Threshold
	} else if d > 0 {
		r.Excess = math.Inf(1)
	}
	if d > r.Threshold {
		r.Regression = worse > 0
		r.Improvement = worse < 0
		return
	}
	if d > byTol {
		switch {
		case floor >= r.Noise && floorText != "":
			r.Note = floorText
		case math.IsInf(r.Noise, 1):
			r.Note = "not judged: too few samples for this percentile"
		case r.Noise > 0:
			r.Note = "within the noise (" + formatNoise(*r) + ")"
		}
	}
}

func floorNote(floor time.Duration) string {
	return "noise: under " + humanize.Duration(floor)
}

// judgeRecovery judges recovery: a duration where higher is worse, and a
// lost recovery is a regression whatever the durations.
func (c *Comparison) judgeRecovery(r Row, bf []figure, n figure, opts Options, family float64) Row {
	// Only a measured recovery (the pool was stressed and the stage ended)
	// says anything about the pool; not_stressed and not_reached do not.
	measured := func(rec *results.Recovery) bool {
		return rec != nil && (rec.Status == results.RecoveryRecovered || rec.Status == results.RecoveryNotRecovered)
	}
	var recs []*results.Recovery
	for _, f := range bf {
		if measured(f.rec) {
			recs = append(recs, f.rec)
		}
	}
	r.Detectable = math.Inf(1) // until both sides measured it: nothing could count
	if n.rec == nil || len(recs) == 0 {
		return r // no baseline measured it: shown, never judged
	}
	if !measured(n.rec) {
		r.Note = "not judged: the new run did not measure recovery (" + string(n.rec.Status) + ")"
		return r
	}
	r.Unit = UnitDuration
	var vals []float64
	recovered := 0
	for _, rec := range recs {
		vals = append(vals, float64(rec.Duration))
		r.Base += float64(rec.Duration)
		if rec.Recovered() {
			recovered++
		}
	}
	r.Base /= float64(len(recs))
	r.Noise = predictionHalf(vals) * family
	r.Change = change(r.Base, r.New)
	floor := max(opts.NoiseFloor, RecoveryResolution)
	r.Detectable = detectable(r.Noise, r.Base, opts.Tolerance, float64(floor), math.Inf(1))
	if len(recs) < 2 {
		r.Detectable = math.Inf(1) // only a lost recovery counts (below)
	}
	judgeMagnitude(&r, r.New-r.Base, r.Base, opts.Tolerance, float64(floor), floorNote(floor))
	if len(recs) < 2 && (r.Regression || r.Improvement) {
		// One event per run: how much it varies between runs is only
		// known from several baselines.
		r.Regression, r.Improvement = false, false
		r.Note = "not judged: one event per run, its noise needs several baselines"
	}
	switch {
	case recovered == len(recs) && !n.rec.Recovered():
		r.Regression, r.Improvement, r.Excess = true, false, math.Inf(1)
		r.Note = "did not recover"
	case recovered == 0 && n.rec.Recovered():
		r.Regression, r.Improvement, r.Excess = false, true, math.Inf(1)
		r.Note = "recovers now"
	case recovered == 0 && !n.rec.Recovered():
		r.Note = "recovered in neither run"
	case recovered < len(recs):
		r.Note = fmt.Sprintf("recovered in %d of %d baselines", recovered, len(recs))
	}
	return r
}

// failedText says how many operations of the new run failed and how many
// of them on the acquire timeout.
func failedText(n *results.Scenario, pool results.Pool) string {
	s := fmt.Sprintf("%s of %s operations failed", humanize.Int(n.Errors), humanize.Int(n.Ops))
	if to := n.ErrorsBy[results.ErrAcquireTimeout]; to > 0 {
		s += fmt.Sprintf(", %s of them waiting %s (pool.timeout) for a connection", humanize.Int(to), humanize.Duration(pool.Timeout))
	}
	return s
}

// fellBecause explains a latency that fell in a scenario whose errors rose.
func fellBecause(n *results.Scenario, pool results.Pool) string {
	if n.Ops == 0 {
		return "not an improvement: operations failed"
	}
	if to := n.ErrorsBy[results.ErrAcquireTimeout]; to > 0 {
		return fmt.Sprintf("not an improvement: latency fell because %s of operations failed at the %s timeout",
			humanize.Percent(float64(to)/float64(n.Ops)), humanize.Duration(pool.Timeout))
	}
	return fmt.Sprintf("not counted as an improvement while errors rose (%s of operations failed)",
		humanize.Percent(float64(n.Errors)/float64(n.Ops)))
}

// latency returns the duration at quantile (0..100) of l from its
// histogram, or from the summary fields when the histogram is absent or
// cannot be decoded (noted once per histogram), and the histogram (nil when
// not used).
func (c *Comparison) latency(scenario, group, side string, l *results.Latency, quantile float64) (float64, *hdrhistogram.Histogram) {
	h := c.histogram(scenario, group, side, l)
	if h != nil && h.TotalCount() > 0 {
		return float64(h.ValueAtQuantile(quantile)), h
	}
	switch quantile {
	case 50:
		return float64(l.P50), nil
	case 90:
		return float64(l.P90), nil
	case 95:
		return float64(l.P95), nil
	case 99:
		return float64(l.P99), nil
	}
	return 0, nil
}

// maxOf is the summary's exact Max (a histogram only knows it to its
// precision), or the histogram's when the summary has none.
func (c *Comparison) maxOf(scenario, side string, l *results.Latency) float64 {
	if l.Max == 0 {
		if h := c.histogram(scenario, "acquire", side, l); h != nil {
			return float64(h.Max())
		}
	}
	return float64(l.Max)
}

// noiseOf bootstraps a scenario's series once per comparison.
func (c *Comparison) noiseOf(s *results.Scenario) windowNoise {
	if wn, ok := c.noises[s]; ok {
		return wn
	}
	if c.noises == nil {
		c.noises = map[*results.Scenario]windowNoise{}
	}
	wn := scenarioNoise(s)
	c.noises[s] = wn
	return wn
}

// histogram decodes l's histogram; nil when absent or unreadable (noted).
func (c *Comparison) histogram(scenario, group, side string, l *results.Latency) *hdrhistogram.Histogram {
	if l.Histogram == "" {
		return nil
	}
	h, err := c.decode(l.Histogram)
	if err != nil {
		c.note(fmt.Sprintf("%s %s: the %s histogram cannot be read (%v); using the summary", scenario, group, side, err))
		return nil
	}
	return h
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
	var h *hdrhistogram.Histogram
	_, err := results.CheckHistogram(encoded) // a geometry planrun writes: bounded memory
	if err == nil {
		h, err = hdrhistogram.Decode([]byte(encoded))
	}
	if c.hists == nil {
		c.hists = map[string]decoded{}
	}
	c.hists[encoded] = decoded{h, err}
	return h, err
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
