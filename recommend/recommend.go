// Package recommend turns a run into advice for its pool (issue 24): the
// smallest pool size that meets the plan's acquire target at the scenarios
// of normal load, the max_overflow that keeps the stress scenarios free of
// timeouts, what that asks of the server's max_connections, and concrete
// values for what preflight only warned about. Each scenario's measured
// acquire rate (or users) and hold-time histogram feed the queue model of
// package poolmodel; the model's prediction for the configuration that ran,
// set against what was measured, says how far to trust the rest.
//
// It reads only the run record (package results) and, when there is one,
// the plan: `planrun report` on a saved run recommends without the plan.
// docs/recommendations.md states what is predicted, from what, the margins
// and the limits.
package recommend

import (
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/poolmodel"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// The guide's target when the plan has none: acquire p95 under 200 ms.
const (
	DefaultFigure = "acquire.p95"
	DefaultLimit  = 200 * time.Millisecond
)

// Margin and Floor bound how far the prediction for the configuration that
// ran may miss the measured acquire p95 and still be trusted: within Margin
// (15 %) of the measured value, or within Floor (1 ms) for waits so short
// that a percentage of them is below what the run can resolve (the
// connect time of a new connection, the generator's timer lateness).
const (
	Margin = 0.15
	Floor  = time.Millisecond
)

// Acquires is the number of acquires simulated per prediction (after a
// warm-up of a tenth as many); Seed seeds every simulation, so the advice
// for a saved run is the same each time it is computed.
const (
	Acquires = 50_000
	Seed     = 24
)

// maxConnections bounds the pool sizes searched.
const maxConnections = 5000

// BottleneckGrowth is how much longer (×) the mean hold time at a mix's
// busiest scenario must be than at its least busy one, with at least as
// much more concurrency, for the advice to say the database is the
// bottleneck.
const BottleneckGrowth = 1.5

// bound is one critical bound on an acquire figure a scenario must meet.
type bound struct {
	figure string // p50, p90, p95, p99, max or mean
	limit  time.Duration
	strict bool   // < (else <=)
	from   string // the assertion's name
	check  string
}

func (b bound) meets(w results.Latency) bool {
	v := figureOf(w, b.figure)
	if b.strict {
		return v < b.limit
	}
	return v <= b.limit
}

func (b bound) isTarget() bool { return b.figure == "p95" || b.figure == "p99" }

func figureOf(l results.Latency, figure string) time.Duration {
	switch figure {
	case "p50":
		return l.P50
	case "p90":
		return l.P90
	case "p95":
		return l.P95
	case "p99":
		return l.P99
	case "max":
		return l.Max
	case "mean":
		return l.Mean
	}
	return 0
}

var boundRE = regexp.MustCompile(`(?:^|[^.\w])acquire\.(p50|p90|p95|p99|max|mean)\s*(<=|<)\s*([0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))\b`)

// Bounds returns the upper bounds a check puts on acquire figures:
// `acquire.p95 < 200ms`, possibly among other conditions joined with
// `&&`. A check with `||` or `!` bounds nothing for sure: none.
func boundsOf(name, check string) []bound {
	if strings.Contains(check, "||") || strings.Contains(strings.ReplaceAll(check, "!=", ""), "!") || strings.Contains(check, " or ") || strings.Contains(check, "not ") {
		return nil
	}
	var out []bound
	for _, m := range boundRE.FindAllStringSubmatch(check, -1) {
		d, err := time.ParseDuration(strings.ReplaceAll(m[3], "µs", "us"))
		if err != nil || d <= 0 {
			continue
		}
		out = append(out, bound{figure: m[1], limit: d, strict: m[2] == "<", from: name, check: check})
	}
	return out
}

// input is one scenario as the model takes it.
type input struct {
	sc       *results.Scenario
	plan     *schema.Scenario // nil without a plan
	w        poolmodel.Workload
	opts     poolmodel.Options
	bounds   []bound
	normal   bool   // must meet the target (it has a p95/p99 bound)
	staged   string // the stage modelled, "" when not staged
	measured results.PoolPrediction

	// What the model computed (each input on its own goroutine): the pool
	// that ran, the smallest pool meeting the scenario's bounds, the
	// recommended pool.
	current, least, recommended  poolmodel.Prediction
	currentErr, leastErr, recErr error
	leastC                       int
	leastOK                      bool
	// spreadLo and spreadHi bound the acquire p95 the model gives runs as
	// short as the measured one (0, 0: not computed).
	spreadLo, spreadHi time.Duration
}

// For returns the advice for run, or nil when no scenario can be modelled
// (nothing ran, every scenario sent only HTTP requests). plan may be nil
// (`planrun report` on a saved run): the target is then read from the
// run's assertion outcomes, a closed model's think time is its mean, and
// the stages of a scenario are not known.
func For(run *results.Run, plan *schema.Plan) *results.Recommendations {
	if run == nil || run.Pool.Capacity() < 1 {
		return nil
	}
	rec := &results.Recommendations{}
	note := func(format string, args ...any) { rec.Notes = append(rec.Notes, fmt.Sprintf(format, args...)) }

	byScenario, target, fromPlan := targets(run, plan)
	rec.Target = target

	var ins []*input
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		switch {
		case sc.HTTPOnly:
			note("%s is left out: it sends only HTTP requests, so planrun's own pool took no load.", sc.Name)
			continue
		case sc.Acquire.Count == 0 || sc.Hold.Count == 0:
			note("%s is left out: it measured no acquires.", sc.Name)
			continue
		}
		in, err := inputOf(run, plan, sc)
		if err != nil {
			note("%s is left out: %v.", sc.Name, err)
			continue
		}
		in.bounds = byScenario[sc.Name]
		if fromPlan {
			for _, b := range in.bounds {
				in.normal = in.normal || b.isTarget()
			}
		} else {
			// The guide's target applies to every scenario but the ones
			// that measure a recovery after a stage (a surge by design).
			in.normal = sc.Recovery == nil || sc.Recovery.AfterStage == 0
			if in.normal {
				in.bounds = append(in.bounds, bound{figure: "p95", limit: DefaultLimit, strict: true, from: "the guide"})
			}
		}
		ins = append(ins, in)
	}
	if len(ins) == 0 {
		return nil
	}
	cur := run.Pool
	timeout := cur.Timeout

	// Current: the configuration that ran, predicted, against measured;
	// and the smallest pool that meets each scenario's bounds.
	parallel(ins, func(in *input) {
		in.current, in.currentErr = poolmodel.Simulate(in.w, poolmodel.Config{Connections: cur.Capacity(), Timeout: timeout}, in.opts)
		in.leastC, in.least, in.leastOK, in.leastErr = poolmodel.Smallest(in.w, timeout, 1, in.upper(cur.Capacity()), in.meets, in.opts)
		if in.currentErr == nil && !withinMargin(in.current.Wait.P95, in.measured.AcquireP95) {
			in.spreadLo, in.spreadHi = spread(in, poolmodel.Config{Connections: cur.Capacity(), Timeout: timeout})
		}
	})
	for _, in := range ins {
		adv := results.ScenarioAdvice{Scenario: in.sc.Name, Rate: acquireRate(in.sc), HoldMean: in.sc.Hold.Mean, HoldP95: in.sc.Hold.P95,
			Measured: in.measured}
		if in.currentErr != nil {
			note("%s: the model failed: %v.", in.sc.Name, in.currentErr)
		} else {
			adv.Current = predictionOf(in.current)
			adv.Trusted, adv.Why = trust(in, adv.Measured, adv.Current)
		}
		rec.Scenarios = append(rec.Scenarios, adv)
	}

	// Pool: size from the normal scenarios, overflow from the others.
	size, sizeReasons := recommendSize(ins, cur, note)
	overflow, ovReasons := recommendOverflow(ins, cur, size, note)
	rec.Pool = results.PoolAdvice{Size: size, MaxOverflow: overflow, Timeout: timeout}

	// Recommended: every scenario at the recommended pool.
	parallel(ins, func(in *input) {
		in.recommended, in.recErr = poolmodel.Simulate(in.w, poolmodel.Config{Connections: size + overflow, Timeout: timeout}, in.opts)
	})
	for i, in := range ins {
		if in.recErr == nil {
			rec.Scenarios[i].Recommended = predictionOf(in.recommended)
		}
	}
	rec.Pool.Reasons = append(append(sizeReasons, ovReasons...), timeoutReasons(ins, cur)...)
	for _, a := range rec.Scenarios {
		if !a.Trusted && a.Why != "" {
			note("%s: %s", a.Scenario, a.Why)
		}
	}

	if run.TimeScale > 0 && run.TimeScale != 1 {
		for _, in := range ins {
			if in.staged != "" && in.w.Users == 0 {
				note("%s: its heaviest stage is modelled as long as this run ran it (--time-scale %g): at the plan's length it builds a longer queue, so the max_overflow it needs may be larger; recommend from a run at full length.",
					in.sc.Name, run.TimeScale)
			}
		}
	}
	rec.Budget = budget(run, plan, size+overflow, note)
	rec.Settings = settings(run)
	bottleneck(run, ins, note)
	return rec
}

// targets reads the critical bounds on acquire figures, per scenario, from
// the run's assertion outcomes (or, when the run has none, the plan's
// assertions), and the target the advice reports: the first acquire.p95 or
// p99 bound, else the guide's. fromPlan is false when it is the guide's.
func targets(run *results.Run, plan *schema.Plan) (map[string][]bound, results.WaitTarget, bool) {
	by := map[string][]bound{}
	var first *bound
	add := func(scenario string, bs []bound) {
		for _, b := range bs {
			by[scenario] = append(by[scenario], b)
			if first == nil && b.isTarget() {
				first = &b
			}
		}
	}
	seen := false
	for _, o := range run.Assertions {
		if o.Builtin || o.Severity != results.SeverityCritical || o.Scenario == "" || o.Status == results.OutcomeSkipped {
			continue
		}
		seen = true
		add(o.Scenario, boundsOf(o.Name, o.Check))
	}
	if !seen && plan != nil {
		for _, a := range plan.Assertions {
			if a.Severity == schema.Warning {
				continue
			}
			names := a.Scenarios
			if len(names) == 0 {
				for _, s := range run.Scenarios {
					names = append(names, s.Name)
				}
			}
			for _, n := range names {
				add(n, boundsOf(a.Name, a.Check.Src))
			}
		}
	}
	if first == nil {
		return by, results.WaitTarget{Figure: DefaultFigure, Limit: DefaultLimit,
			From: "the guide's 200 ms p95 (the plan asserts no acquire.p95 or acquire.p99 bound)"}, false
	}
	return by, results.WaitTarget{Figure: "acquire." + first.figure, Limit: first.limit,
		From: fmt.Sprintf("assertion %q: %s", first.from, first.check)}, true
}

// acquireRate is a scenario's measured acquires per second over its
// measured window (after the warm-up).
func acquireRate(sc *results.Scenario) float64 {
	span := sc.Planned - sc.Warmup
	if sc.Elapsed > 0 && (span <= 0 || sc.Elapsed-sc.Warmup < span) {
		span = sc.Elapsed - sc.Warmup
	}
	if span <= 0 {
		return 0
	}
	return float64(sc.Acquire.Count) / span.Seconds()
}

// inputOf builds a scenario's workload from its measurements (and the
// plan's scenario, when known).
func inputOf(run *results.Run, plan *schema.Plan, sc *results.Scenario) (*input, error) {
	h, err := hdr.Decode(sc.Hold)
	if err != nil {
		return nil, fmt.Errorf("its hold times cannot be read: %w", err)
	}
	in := &input{sc: sc, opts: poolmodel.Options{Acquires: Acquires, Seed: Seed}}
	if plan != nil {
		for i := range plan.Scenarios {
			if plan.Scenarios[i].Name == sc.Name {
				in.plan = &plan.Scenarios[i]
			}
		}
	}
	in.w.Hold = h
	in.measured = results.PoolPrediction{Connections: run.Pool.Capacity(), AcquireP95: sc.Acquire.P95, AcquireP99: sc.Acquire.P99,
		Utilization: sc.Utilization.Mean}
	if sc.Ops > 0 {
		in.measured.TimeoutRate = float64(sc.ErrorsBy[results.ErrAcquireTimeout]) / float64(sc.Ops)
	}
	// Each replica (application instance) has a pool of its own and gets
	// its share of the load (round-robin; the model sees one pool).
	replicas := max(run.Target.Replicas, 1)
	if sc.Model == results.ModelOpen {
		in.w.Rate = acquireRate(sc) / float64(replicas)
		if in.w.Rate <= 0 {
			return nil, fmt.Errorf("no measured window to take its rate from")
		}
		if in.plan != nil && in.plan.Arrival == schema.ArrivalUniform {
			in.w.Arrival = poolmodel.Uniform
		}
		if in.plan != nil && len(in.plan.Stages) > 1 {
			heaviest(run, sc, in)
		}
		return in, nil
	}
	in.w.Users = max((sc.MaxUsers+replicas-1)/replicas, 1)
	switch {
	case in.plan != nil:
		// --time-scale does not scale think times (engine.Options).
		in.w.ThinkMin, in.w.ThinkMax = in.plan.Think.Min, in.plan.Think.Max
		if len(in.plan.Stages) > 1 {
			in.staged = fmt.Sprintf("its busiest stage, %d users, in a steady state", in.w.Users)
		}
	default:
		in.w.ThinkMin, in.w.ThinkMax = sc.Think, sc.Think
	}
	return in, nil
}

// heaviest makes in model an open scenario's heaviest stage alone: its
// rate (times the acquires per arrival measured), for as many acquires as
// the stage scheduled, from an idle pool (no warm-up): the queue a surge
// builds, not a steady state it never reaches.
func heaviest(run *results.Run, sc *results.Scenario, in *input) {
	var top schema.Stage
	for _, st := range in.plan.Stages {
		if float64(st.Rate) > float64(top.Rate) {
			top = st
		}
	}
	perArrival := 1.0
	if sc.Arrivals > 0 {
		perArrival = min(1, float64(sc.Acquire.Count)/float64(sc.Arrivals))
	}
	scale := run.TimeScale
	if scale <= 0 {
		scale = 1
	}
	dur := time.Duration(float64(top.Duration.D()) * scale)
	rate := float64(top.Rate) * perArrival / float64(max(run.Target.Replicas, 1))
	n := int(math.Round(rate * dur.Seconds()))
	if rate <= 0 || n < 1 {
		return
	}
	in.w.Rate = rate
	in.opts.Acquires, in.opts.Warmup = min(n, Acquires), -1
	in.staged = fmt.Sprintf("its heaviest stage alone, %s/s for %s (%s acquires) from an idle pool",
		humanize.Rate(rate), humanize.Duration(dur), humanize.Int(int64(n)))
}

func predictionOf(p poolmodel.Prediction) results.PoolPrediction {
	return results.PoolPrediction{Connections: p.Connections, AcquireP95: p.Wait.P95, AcquireP99: p.Wait.P99,
		TimeoutRate: p.TimeoutRate, Utilization: p.Utilization}
}

// withinMargin reports whether a predicted acquire p95 is within Margin of
// the measured one, or within Floor.
func withinMargin(predicted, measured time.Duration) bool {
	return (predicted - measured).Abs() <= max(time.Duration(Margin*float64(measured)), Floor)
}

// SpreadRuns is the number of runs as short as the measured one the model
// simulates (with other seeds) to see how far a short run's acquire p95
// strays from a long run's: a measured p95 within the middle 95 % of theirs
// is as close as a run that short can be.
const SpreadRuns = 40

// spreadBudget bounds the acquires simulated for one spread: fewer runs
// (at least 10) for a run with many acquires.
const spreadBudget = 400_000

// spread returns the 2.5th and 97.5th percentiles of the acquire p95 over
// SpreadRuns simulated runs with as many acquires as the scenario measured
// (fewer runs, down to 10, past spreadBudget acquires; the extremes then),
// or 0, 0 when it measured Acquires or more, or for a stage modelled alone.
// It is computed only for a prediction beyond the margin.
func spread(in *input, c poolmodel.Config) (lo, hi time.Duration) {
	n := int(in.sc.Acquire.Count)
	if n >= Acquires || n < 1 || in.staged != "" {
		return 0, 0
	}
	runs := min(SpreadRuns, max(10, spreadBudget/n))
	p95s := make([]time.Duration, 0, runs)
	for k := range runs {
		opts := in.opts
		opts.Acquires, opts.Seed = n, Seed+1+uint64(k)
		p, err := poolmodel.Simulate(in.w, c, opts)
		if err != nil {
			return 0, 0
		}
		p95s = append(p95s, p.Wait.P95)
	}
	slices.Sort(p95s)
	cut := runs / 40 // 2.5 % at each end (none below 40 runs: the extremes)
	return p95s[cut], p95s[runs-1-cut]
}

// trust compares the prediction for the configuration that ran with what
// was measured: trusted when within Margin of the measured acquire p95 (or
// Floor), or, for a run shorter than the simulation, within the spread of
// the p95 the model gives runs as short as it (see [spread]) when that
// spread is at most half as wide as the prediction; a wider one means the run
// was too short to check the model at its load.
func trust(in *input, measured, current results.PoolPrediction) (bool, string) {
	if in.staged != "" && in.w.Users == 0 {
		return false, fmt.Sprintf("not compared: the model takes %s, while the measured figures span every stage; confirm with `planrun tune`", in.staged)
	}
	diff := current.AcquireP95 - measured.AcquireP95
	if withinMargin(current.AcquireP95, measured.AcquireP95) {
		return true, ""
	}
	// The spread counts only when it is narrow enough to tell: at most
	// half as wide as the prediction (about ±25 %).
	narrow := in.spreadHi > 0 && in.spreadHi-in.spreadLo <= max(current.AcquireP95/2, 2*Floor)
	if narrow && measured.AcquireP95 >= in.spreadLo-Floor && measured.AcquireP95 <= in.spreadHi+Floor {
		return true, ""
	}
	why := fmt.Sprintf("the model predicts acquire p95 %s for the pool that ran, measured %s (beyond the %.0f%% or %s margin",
		humanize.Duration(current.AcquireP95), humanize.Duration(measured.AcquireP95), Margin*100, humanize.Duration(Floor))
	if in.spreadHi > 0 && !narrow {
		why += fmt.Sprintf("; the run is too short to check the model at this load: runs as short give a p95 from %s to %s in the model)",
			humanize.Duration(in.spreadLo), humanize.Duration(in.spreadHi))
		return false, why + "; lean on a longer run or `planrun tune`"
	}
	if in.spreadHi > 0 {
		why += fmt.Sprintf(", and outside the %s..%s that runs as short as this one give in the model", humanize.Duration(in.spreadLo), humanize.Duration(in.spreadHi))
	}
	why += ")"
	sc := in.sc
	switch {
	case sc.Lag.Count > 0 && sc.Lag.P99 > schema.DefaultMaxLag:
		why += fmt.Sprintf(": the generator fell behind (lag p99 %s), so the run did not deliver the load modelled", humanize.Duration(sc.Lag.P99))
	case sc.Generator.TimerLateness.P99 > schema.DefaultMaxTimerLateness:
		why += fmt.Sprintf(": the generator's timers ran late (p99 %s), so the load was not the one planned", humanize.Duration(sc.Generator.TimerLateness.P99))
	case diff < 0:
		why += ": the measured waits are longer than the queue explains (hold times that changed during the run, connections opened under load, or the database slowing down)"
	default:
		why += ": the measured waits are shorter than the model's (the load or the hold times were not stationary)"
	}
	return false, why + "; lean on `planrun tune`"
}

// meets is a scenario's requirement: its bounds and no timeout.
func (in *input) meets(p poolmodel.Prediction) bool {
	if p.TimeoutRate > 0 || !p.Stable {
		return false
	}
	for _, b := range in.bounds {
		if !b.meets(p.Wait) {
			return false
		}
	}
	return true
}

// upper is the largest pool searched for a scenario: its users (a closed
// model never needs more), or twice its offered load and 20 more.
func (in *input) upper(cur int) int {
	if in.w.Users > 0 {
		return min(max(in.w.Users, 1), maxConnections)
	}
	offered := in.w.Rate * float64(in.w.Hold.Mean()) / 1e9
	return min(max(cur, int(math.Ceil(2*offered))+20), maxConnections)
}

// parallel runs f on every input, as many at once as there are CPUs
// (each simulation is deterministic on its own, so the order does not
// change the result).
func parallel(ins []*input, f func(*input)) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(in)
		}()
	}
	wg.Wait()
}

func describeBounds(bs []bound) string {
	var parts []string
	for _, b := range bs {
		op := "≤"
		if b.strict {
			op = "<"
		}
		parts = append(parts, fmt.Sprintf("acquire.%s %s %s", b.figure, op, humanize.Duration(b.limit)))
	}
	return strings.Join(append(parts, "no timeouts"), ", ")
}

// recommendSize is the smallest size that meets each normal scenario's
// bounds without timeouts, at size + 0 overflow (overflow connections
// count the same for waiting; the others get them).
func recommendSize(ins []*input, cur results.Pool, note func(string, ...any)) (int, []string) {
	size, reasons := 0, []string(nil)
	for _, in := range ins {
		if !in.normal {
			continue
		}
		if !in.smallestFound(note) {
			continue
		}
		c, p := in.leastC, in.least
		reasons = append(reasons, fmt.Sprintf("size %d: the smallest pool that meets %s at %s (%s; predicted p95 %s, p99 %s)",
			c, describeBounds(in.bounds), in.sc.Name, loadOf(in), humanize.Duration(p.Wait.P95), humanize.Duration(p.Wait.P99)))
		size = max(size, c)
	}
	if size == 0 {
		size = cur.Size
		reasons = append(reasons, fmt.Sprintf("size %d: kept, no scenario of normal load was modelled", size))
	}
	if size < MinSize {
		reasons = append(reasons, fmt.Sprintf("size %d: at least %d, so that one broken or recycled connection does not stall every request (the load alone needs %d)", MinSize, MinSize, size))
		size = MinSize
	}
	return size, reasons
}

// MinSize is the smallest pool.size planrun recommends, whatever the
// load: with one connection, a broken, recycled or pre-pinged connection
// being replaced holds up every request behind it.
const MinSize = 2

// smallestFound reports whether the model gave the scenario a smallest
// pool to size from; a failed model is noted and gives none, a pool that
// meets the bounds nowhere in the range is noted and gives the largest
// tried.
func (in *input) smallestFound(note func(string, ...any)) bool {
	switch {
	case in.leastErr != nil:
		note("%s: the model failed: %v.", in.sc.Name, in.leastErr)
		return false
	case !in.leastOK:
		note("%s: no pool up to %d connections meets %s in the model.", in.sc.Name, in.leastC, describeBounds(in.bounds))
	}
	return true
}

// recommendOverflow is what the scenarios outside the target need beyond
// size so that none of their acquires time out (and their own bounds,
// such as acquire.max, hold).
func recommendOverflow(ins []*input, cur results.Pool, size int, note func(string, ...any)) (int, []string) {
	need, stress := size, false
	var reasons []string
	for _, in := range ins {
		if in.normal {
			continue
		}
		stress = true
		if !in.smallestFound(note) {
			continue
		}
		c, p := in.leastC, in.least
		reasons = append(reasons, fmt.Sprintf("max_overflow %d: %s needs %d connections for %s (%s; predicted p95 %s, max %s)",
			max(0, c-size), in.sc.Name, c, describeBounds(in.bounds), loadOf(in), humanize.Duration(p.Wait.P95), humanize.Duration(p.Wait.Max)))
		need = max(need, c)
	}
	if !stress {
		return cur.MaxOverflow, []string{fmt.Sprintf("max_overflow %d: kept, the plan has no stress scenario outside the target to size it from", cur.MaxOverflow)}
	}
	return need - size, reasons
}

func loadOf(in *input) string {
	var s string
	if in.w.Users > 0 {
		s = fmt.Sprintf("%d users", in.w.Users)
		if in.w.ThinkMax > 0 {
			s += fmt.Sprintf(", think %s..%s", humanize.Duration(in.w.ThinkMin), humanize.Duration(in.w.ThinkMax))
		}
	} else {
		s = humanize.Rate(in.w.Rate) + " acquires/s"
	}
	s += ", hold mean " + humanize.Duration(time.Duration(in.w.Hold.Mean()))
	if in.staged != "" {
		s += "; " + in.staged
	}
	return s
}

// timeoutReasons keeps pool.timeout, saying how close the heaviest
// predicted wait comes to it, and the guide's 8–15 s regression.
func timeoutReasons(ins []*input, cur results.Pool) []string {
	if cur.Timeout <= 0 {
		return []string{"timeout: none (acquires wait forever); the guide's incident was 8–15 s stalls: set one, a few seconds above the longest wait the plan accepts"}
	}
	var worst time.Duration
	var at string
	for _, in := range ins {
		if in.recErr == nil && in.recommended.Wait.Max > worst {
			worst, at = in.recommended.Wait.Max, in.sc.Name
		}
	}
	r := fmt.Sprintf("timeout %s: kept; the longest predicted wait with the recommended pool is %s", humanize.Duration(cur.Timeout), humanize.Duration(worst))
	if at != "" {
		r += " (" + at + ")"
	}
	if worst*2 > cur.Timeout {
		r += ": more than half the timeout, so a larger pool, not a longer timeout, is the fix"
	}
	if cur.Timeout >= 8*time.Second {
		r += "; a waiter may stall up to the timeout, in the range of the guide's 8–15 s regression: keep acquire.max asserted"
	}
	return []string{r}
}

var (
	allowsRE = regexp.MustCompile(`server allows (\d+) − (\d+) reserved − (\d+) in use = (-?\d+)`)
	needsRE  = regexp.MustCompile(`(?:=|→) (\d+) connections`)
)

// budget is what the recommendation asks of the server: as many pools as
// the run's capacity check counted (replicas, and the service's processes)
// times size + max_overflow, against what the check found available.
func budget(run *results.Run, plan *schema.Plan, conns int, note func(string, ...any)) results.ServerBudget {
	var b results.ServerBudget
	capacity := run.Pool.Capacity()
	pools := max(run.Target.Replicas, 1)
	if plan != nil && plan.Target.Service != nil {
		pools += max(plan.Target.Service.Processes, 1)
	}
	b.Current = pools * capacity
	known := false
	for _, c := range run.Preflight {
		if c.Name != "capacity" {
			continue
		}
		if m := needsRE.FindStringSubmatch(c.Reason); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > 0 && capacity > 0 && n%capacity == 0 {
				b.Current, pools = n, n/capacity
			}
		}
		if m := allowsRE.FindStringSubmatch(c.Reason); m != nil {
			b.Available, _ = strconv.Atoi(m[4])
			known = true
		}
	}
	if !known && run.Target.MaxConnections > 0 {
		b.Available = run.Target.MaxConnections
		note("The server budget counts max_connections %d whole: the run recorded no capacity check, so the reserved slots and the other sessions are not subtracted.", run.Target.MaxConnections)
		known = true
	}
	b.Recommended = pools * conns
	if !known {
		note("The server budget is not checked: the run recorded neither the capacity check nor max_connections; %d pool(s) × %d connections = %d.", pools, conns, b.Recommended)
		return b
	}
	b.Fits = b.Recommended <= b.Available
	if b.Available > 0 {
		b.Headroom = float64(b.Available-b.Recommended) / float64(b.Available)
	}
	if !b.Fits {
		largest := 0
		if pools > 0 && b.Available > 0 {
			largest = b.Available / pools
		}
		note("The recommendation does not fit the server: %d pool(s) × %d connections = %d, but only %d are available (%d short). "+
			"Raise max_connections, put a connection pooler (PgBouncer) in front, or run fewer replicas or processes; "+
			"at most %d connections per pool fit.", pools, conns, b.Recommended, b.Available, b.Recommended-b.Available, largest)
	}
	return b
}

var (
	stmtRE = regexp.MustCompile(`statement_timeout ([^,;]+)`)
	idleRE = regexp.MustCompile(`idle_in_transaction_session_timeout ([^,;]+)`)
)

// settings turns preflight's warnings into values: statement_timeout and
// idle_in_transaction_session_timeout (check "timeouts"), pre_ping and
// recycle (check "consistency").
func settings(run *results.Run) []results.SettingAdvice {
	var out []results.SettingAdvice
	var queryP99, holdMax time.Duration
	for _, sc := range run.Scenarios {
		if !sc.HTTPOnly {
			queryP99 = max(queryP99, sc.Query.P99)
			holdMax = max(holdMax, sc.Hold.Max)
		}
	}
	p := run.Pool
	for _, c := range run.Preflight {
		switch c.Name {
		case "timeouts":
			cur := "0 (off)"
			if m := stmtRE.FindStringSubmatch(c.Reason); m != nil {
				cur = strings.TrimSpace(m[1])
			}
			if c.Status == results.CheckWarn {
				v := max(time.Second, (2 * queryP99).Round(time.Second))
				if p.Timeout > 0 && v >= p.Timeout {
					v = p.Timeout / 2
				}
				out = append(out, results.SettingAdvice{Name: "statement_timeout", Current: cur, Recommended: humanize.Duration(v),
					Why: fmt.Sprintf("above the longest query p99 measured (%s), below pool.timeout (%s): the server frees a stuck connection before waiters give up", humanize.Duration(queryP99), humanize.Duration(p.Timeout))})
			}
			idle := ""
			if m := idleRE.FindStringSubmatch(c.Reason); m != nil {
				idle = strings.TrimSpace(m[1])
			}
			if strings.HasPrefix(idle, "0") {
				v := max(10*time.Second, (10 * holdMax).Round(time.Second))
				out = append(out, results.SettingAdvice{Name: "idle_in_transaction_session_timeout", Current: idle, Recommended: humanize.Duration(v),
					Why: fmt.Sprintf("ten times the longest hold measured (%s), at least 10 s: ends a session that leaked a connection inside an open transaction", humanize.Duration(holdMax))})
			}
		case "consistency":
			if c.Status != results.CheckWarn {
				continue
			}
			if strings.Contains(c.Reason, "pre_ping off") {
				out = append(out, results.SettingAdvice{Name: "pre_ping", Current: "false", Recommended: "true",
					Why: "a connection dropped by the server, a proxy or a firewall is otherwise handed out broken; the ping's round trip is in the hold the model used"})
			}
			if strings.Contains(c.Reason, "recycle") && p.Recycle != 30*time.Minute {
				out = append(out, results.SettingAdvice{Name: "recycle", Current: humanize.Duration(p.Recycle), Recommended: "30m",
					Why: "replaces connections before server, proxy or load-balancer idle cuts, rarely enough that reconnects do not show in acquire latency"})
			}
		}
	}
	return out
}

// bottleneck notes a mix whose mean hold time grew with concurrency: at
// its busiest scenario (mean connections in use) the hold mean is at
// least BottleneckGrowth × that at its least busy one.
func bottleneck(run *results.Run, ins []*input, note func(string, ...any)) {
	byMix := map[string][]*input{}
	var mixes []string
	for _, in := range ins {
		if _, ok := byMix[in.sc.Mix]; !ok {
			mixes = append(mixes, in.sc.Mix)
		}
		byMix[in.sc.Mix] = append(byMix[in.sc.Mix], in)
	}
	conc := func(in *input) float64 { return in.sc.Utilization.Mean * float64(run.Pool.Capacity()) }
	for _, m := range mixes {
		g := byMix[m]
		if len(g) < 2 {
			continue
		}
		lo := slices.MinFunc(g, func(a, b *input) int { return cmpF(conc(a), conc(b)) })
		hi := slices.MaxFunc(g, func(a, b *input) int { return cmpF(conc(a), conc(b)) })
		if conc(hi) >= BottleneckGrowth*conc(lo) && float64(hi.sc.Hold.Mean) >= BottleneckGrowth*float64(lo.sc.Hold.Mean) && lo.sc.Hold.Mean > 0 {
			note("The database looks like the bottleneck: the mean hold time grew from %s at %s (%.1f connections in use on average) to %s at %s (%.1f). "+
				"A larger pool then moves the queue into the database rather than removing it (HikariCP's pool-sizing note), and the model, which keeps hold times fixed, is optimistic about it: confirm with `planrun tune`.",
				humanize.Duration(lo.sc.Hold.Mean), lo.sc.Name, conc(lo), humanize.Duration(hi.sc.Hold.Mean), hi.sc.Name, conc(hi))
		}
	}
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
