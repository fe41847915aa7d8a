package assertions

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// Decided and undecided outcomes (docs/assertions.md, "Decided and
// undecided"). planrun's own lateness is a measurement error on every
// figure it times: a timer that fires late, a released connection whose
// user got a CPU late, a byte the emulated network delivered late. An
// outcome is decided when the check gives the same answer with the figures
// moved to both ends of that error band; otherwise it is undecided and
// neither approves nor fails the verdict. A pass also needs the planned
// load to have been delivered: more load might have failed it.

// uncertainty is how far a late load generator could have moved one
// scenario's figures, and whether it delivered the planned load.
type uncertainty struct {
	// band is added to and taken from every timed figure (results.Generator.Band).
	band time.Duration
	// sources names what the band is made of, e.g. "timer lateness p99 20ms".
	sources string
	// short says why the planned load was not delivered; "" when it was.
	short string
	// starved says that the embedded server shared a saturated machine with
	// other processes (see starvedServer); "" when it did not.
	starved string
}

// Starvation of the embedded server: on a saturated machine
// (results.Generator.Saturated), other processes (OtherCPU) crowd the
// server out when they used at least max(minCrowding, crowdingShare ×
// cores).
const (
	minCrowding   = 0.5
	crowdingShare = 0.25
)

// starvedServer says why the embedded server's timings are not the pool's
// alone: it ran on this machine, the machine was saturated, and other
// processes took a large share of it. The server runs at a lower priority
// than planrun (localpg.ServerNiceness), so such processes slow its
// queries while planrun's own timers stay on time: every timed figure may
// then be theirs. "" for an external server, or when any CPU figure is
// unknown.
func starvedServer(g results.Generator) string {
	if g.ServerCPU < 0 || g.Cores <= 0 || g.MachineCPU < 0 || g.CPU < 0 {
		return ""
	}
	others := g.OtherCPU()
	if !g.Saturated() || others < max(minCrowding, crowdingShare*float64(g.Cores)) {
		return ""
	}
	return fmt.Sprintf("the embedded server shared a saturated machine with other processes (CPU %.2f of %d cores busy, %.2f of it other processes')",
		g.MachineCPU, g.Cores, others)
}

// maxShortfall is the share of a closed model's planned load its users may
// fall short by, from waking late from their think times, and still count
// as delivering it.
const maxShortfall = 0.10

// uncertaintyOf judges one scenario's measurement: its error band and
// whether its load was delivered. An open model's arrivals must start within
// max_lag at p99. A closed model's users keep their think-time schedule when
// the generator's timer lateness p99 is within max_timer_lateness, or when
// waking late cost them at most 10 % of their planned load: mean lateness ≤
// 10 % of the cycle it stretches (think + op + lateness, means). A closed
// model without think time has no schedule to keep: its users run as fast as
// the pool lets them, and the band covers the generator's share.
func (l generatorLimits) uncertaintyOf(sc *results.Scenario) uncertainty {
	g := sc.Generator
	u := uncertainty{band: g.Band(), starved: starvedServer(g)}
	if g.TimerLateness.Count > 0 {
		u.sources = "timer lateness p99 " + humanize.Duration(g.TimerLateness.P99)
	}
	if g.ProxyLateness.Count > 0 {
		u.sources += " + 2 × network lateness p99 " + humanize.Duration(g.ProxyLateness.P99)
	}
	switch {
	case sc.Lag.Count > 0 && sc.Lag.P99 > l.maxLag:
		u.short = fmt.Sprintf("the arrivals started late (lag p99 %s, limit %s)",
			humanize.Duration(sc.Lag.P99), humanize.Duration(l.maxLag))
	case sc.Lag.Count == 0 && sc.Think > 0 && g.TimerLateness.P99 > l.maxTimerLateness:
		late := g.TimerLateness.Mean
		if short := float64(late) / float64(sc.Think+sc.Op.Mean+late); short > maxShortfall {
			u.short = fmt.Sprintf("the users could not keep their think times: waking %s late on average (p99 %s) cost them %.0f%% of the planned load, more than %.0f%%",
				humanize.Duration(late), humanize.Duration(g.TimerLateness.P99), 100*short, 100*maxShortfall)
		}
	}
	return u
}

// ends returns the scenario's figures at the two ends of the band: as they
// would be had the generator been band less late (lessLate) and band more
// late (moreLate). Every timed figure moves by the band (never below 0);
// the figures a late release inflates (utilization, exhaustion, acquire
// timeouts and dropped arrivals, and so the errors and the success rate)
// move in proportion to the mean hold it would change; a closed model's
// throughput by the cycle time per user; leaks held within the band of
// leakThreshold. The other figures (SQL errors, broken connections,
// configuration) do not depend on the timing and stay as measured.
func (u uncertainty) ends(sc *results.Scenario, leakThreshold time.Duration) (lessLate, moreLate results.Scenario) {
	less, more := 1.0, 1.0
	if m := sc.Hold.Mean; m > 0 {
		less = float64(max(m-u.band, 0)) / float64(m)
		more = float64(m+u.band) / float64(m)
	}
	return moved(sc, -u.band, less, leakThreshold), moved(sc, u.band, more, leakThreshold)
}

// unhurried is sc as if nothing had taken any time: every timed figure 0,
// nothing held, so no utilization, exhaustion, acquire timeout or held
// leak (see moved), every recovery made at once, and no connect error (a
// starved server answers a new connection past pool.connect_timeout). A
// failure that passes there failed by its timings.
func unhurried(sc *results.Scenario, leakThreshold time.Duration) results.Scenario {
	out := moved(sc, -math.MaxInt64/2, 0, leakThreshold)
	if r := out.Recovery; r != nil && r.Status == results.RecoveryNotRecovered {
		r.Status = results.RecoveryRecovered
	}
	for i := range out.Faults {
		if r := out.Faults[i].Recovery; r != nil && r.Status == results.RecoveryNotRecovered {
			r.Status = results.RecoveryRecovered
		}
	}
	if n := out.ErrorsBy[results.ErrConnect]; n > 0 {
		out.ErrorsBy[results.ErrConnect] = 0
		out.Errors -= n
		out.SuccessRate = results.SuccessRate(out.Ops, out.Errors)
	}
	return out
}

// moved is sc with its timed figures moved by d and its hold-driven ones
// scaled by ratio (see ends). sc is not changed.
func moved(sc *results.Scenario, d time.Duration, ratio float64, leakThreshold time.Duration) results.Scenario {
	out := *sc
	out.Acquire, out.Query, out.Op = shifted(sc.Acquire, d), shifted(sc.Query, d), shifted(sc.Op, d)
	out.Hold, out.Connect = shifted(sc.Hold, d), shifted(sc.Connect, d)
	out.Operations = slices.Clone(sc.Operations)
	for i := range out.Operations {
		o := &out.Operations[i]
		o.Acquire, o.Query, o.Op = shifted(o.Acquire, d), shifted(o.Query, d), shifted(o.Op, d)
	}
	if sc.Recovery != nil {
		r := *sc.Recovery
		r.Duration = max(r.Duration+d, 0)
		out.Recovery = &r
	}
	out.Faults = slices.Clone(sc.Faults)
	for i := range out.Faults {
		if r := out.Faults[i].Recovery; r != nil {
			moved := *r
			moved.Duration = max(moved.Duration+d, 0)
			out.Faults[i].Recovery = &moved
		}
	}

	fraction := func(f float64) float64 { return min(f*ratio, 1) }
	out.Utilization = results.Utilization{Mean: fraction(sc.Utilization.Mean), P95: fraction(sc.Utilization.P95), Max: fraction(sc.Utilization.Max)}
	e := sc.Exhaustion
	out.Exhaustion = results.Exhaustion{
		Events:   int(math.Round(float64(e.Events) * ratio)),
		Total:    time.Duration(float64(e.Total) * ratio),
		Longest:  max(e.Longest+d, 0),
		Timeouts: scaledCount(e.Timeouts, ratio, e.Timeouts),
		Share:    fraction(e.Share),
	}
	if out.Exhaustion.Events > 0 { // exhausted means every connection in use at that instant
		out.Utilization.Max = 1
	}

	// Acquire timeouts and dropped arrivals are what a late release causes;
	// every other error category stays as measured.
	out.ErrorsBy = make(map[string]int64, len(sc.ErrorsBy))
	for k, v := range sc.ErrorsBy {
		out.ErrorsBy[k] = v
	}
	for _, k := range []string{results.ErrAcquireTimeout, results.ErrDropped} {
		v := sc.ErrorsBy[k]
		room := sc.Ops - (out.Errors - v) // more errors of this kind cannot exceed the operations
		n := scaledCount(v, ratio, room)
		out.ErrorsBy[k] = n
		out.Errors += n - v
	}
	out.SuccessRate = results.SuccessRate(out.Ops, out.Errors)

	if sc.Model != results.ModelOpen && sc.Throughput > 0 && sc.MaxUsers > 0 {
		cycle := float64(sc.MaxUsers) / sc.Throughput // seconds per operation per user (Little's law)
		switch c := cycle + d.Seconds(); {
		case c <= 0:
			out.Throughput = math.Inf(1)
		default:
			out.Throughput = sc.Throughput * cycle / c
		}
	}

	out.Leaks = movedLeaks(sc, d, leakThreshold)
	return out
}

// movedLeaks is the leak count had every hold been d longer (d < 0:
// shorter). Held-too-long leaks within the band of the threshold come or
// go; leaks of the other kinds (unreleased at the end, left on the server)
// stay. When the details are incomplete no leak is taken away.
func movedLeaks(sc *results.Scenario, d time.Duration, threshold time.Duration) int {
	if threshold <= 0 {
		return sc.Leaks
	}
	if d > 0 {
		if sc.Hold.Count > 0 && sc.Hold.Max <= threshold && sc.Hold.Max+d > threshold {
			return sc.Leaks + 1
		}
		return sc.Leaks
	}
	if len(sc.LeakDetails) != sc.Leaks {
		return sc.Leaks
	}
	n := 0
	for _, l := range sc.LeakDetails {
		if l.Kind != "held" || l.Held+d > threshold {
			n++
		}
	}
	return n
}

// shifted is l with every figure moved by d, never below 0, and without
// its histogram (the moved figures are not a recorded distribution).
func shifted(l results.Latency, d time.Duration) results.Latency {
	if l.Count == 0 || d == 0 {
		return l
	}
	at := func(v time.Duration) time.Duration { return max(v+d, 0) }
	l.Min, l.Mean, l.P50, l.P90, l.P95, l.P99, l.Max = at(l.Min), at(l.Mean), at(l.P50), at(l.P90), at(l.P95), at(l.P99), at(l.Max)
	l.Histogram = ""
	return l
}

// scaledCount is n × ratio, rounded, and at most limit when it grows.
func scaledCount(n int64, ratio float64, limit int64) int64 {
	s := int64(math.Round(float64(n) * ratio))
	if ratio > 1 {
		s = min(s, max(limit, n))
	}
	return s
}

// decide marks o undecided when the scenario's measurement could have
// turned it: a pass when the load was not delivered, a pass or a fail that
// changes with the figures at either end of the band. Checks of the
// generator's own figures and run-level checks are always decided. less
// and more are the environments of ends.
func (s *Set) decide(machine *evaluator, c *compiled, o *results.Outcome, u uncertainty, less, more, unhurried *Env) {
	if c.runLevel || contains(c.groups, CriterionMeasurement) {
		return
	}
	passed := o.Status == results.OutcomePass
	if !passed && o.Status != results.OutcomeFail {
		return
	}
	if passed && u.short != "" {
		o.Undecided, o.Band = true, "passed, but "+u.short+": more load might have failed it"
		return
	}
	if !passed && unhurried != nil {
		out, err := machine.run(c, *unhurried)
		if b, ok := out.(bool); err == nil && ok && b {
			o.Undecided, o.Band = true, "failed, but "+u.starved+": a failure of timings may be theirs, not the pool's"
			return
		}
	}
	if less == nil {
		return
	}
	for _, env := range []*Env{less, more} {
		out, err := machine.run(c, *env)
		if b, ok := out.(bool); err == nil && ok && b == passed {
			continue
		}
		o.Undecided = true
		o.Band = fmt.Sprintf("within the measurement error ±%s (%s): band less late %s %s, band more late %s %s",
			humanize.Duration(u.band), u.sources,
			formatActual(c.refs, less), verb(machine, c, less), formatActual(c.refs, more), verb(machine, c, more))
		return
	}
}

// verb says what c gives on env: "passes", "fails", or "cannot be evaluated".
func verb(machine *evaluator, c *compiled, env *Env) string {
	out, err := machine.run(c, *env)
	b, ok := out.(bool)
	switch {
	case err != nil || !ok:
		return "cannot be evaluated"
	case b:
		return "passes"
	}
	return "fails"
}

// leakThresholdOf is the leak threshold the engine applied to sc: the
// plan's pool.leak_threshold, or the scenario's length as written (its
// planned length before --time-scale, which never changes the threshold).
func leakThresholdOf(run *results.Run, sc *results.Scenario) time.Duration {
	if run.Pool.LeakThreshold > 0 {
		return run.Pool.LeakThreshold
	}
	if run.TimeScale > 0 {
		return time.Duration(float64(sc.Planned) / run.TimeScale)
	}
	return sc.Planned
}
