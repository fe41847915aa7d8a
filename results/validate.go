package results

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// maxProblems is how many range problems Validate lists before it says how
// many more there are.
const maxProblems = 5

// Validate reports values no run can produce: a negative duration or count,
// more errors than operations, a rate or share outside 0..1, a number that
// is not finite, a percentile outside min..max, a segment count or index,
// replica number or duration beyond the limits ([MaxSegments],
// [MaxElapsed], ...), more series points than [MaxSeriesPoints], a series
// step below [MinSeriesStep], a point outside its scenario, or a service
// record with more leaks detailed than [MaxServiceLeakDetails] or than it
// counts. [Decode] and [ReadFile] call it, so `planrun report` and `planrun
// compare` refuse such a report instead of rendering nonsense. The error
// names each field by its JSON path, e.g. `scenarios[0] (steady).elapsed`.
func (r *Run) Validate() error {
	c := &checker{}
	c.finite("time_scale", r.TimeScale)
	c.nonNegative("time_scale", r.TimeScale)
	c.count("target.replicas", int64(r.Target.Replicas))
	c.count("target.max_connections", int64(r.Target.MaxConnections))
	c.duration("target.rtt", r.Target.RTT)
	c.count("pool.size", int64(r.Pool.Size))
	c.count("pool.max_overflow", int64(r.Pool.MaxOverflow))
	c.duration("pool.timeout", r.Pool.Timeout)
	c.duration("pool.recycle", r.Pool.Recycle)
	c.duration("pool.connect_timeout", r.Pool.ConnectTimeout)
	c.duration("pool.leak_threshold", r.Pool.LeakThreshold)
	if sg := r.Segment; sg != nil {
		if sg.Count < 1 || sg.Count > MaxSegments {
			c.add("segment.count", "is %d: a plan is split into 1 to %d segments", sg.Count, MaxSegments)
		} else if sg.Index < 1 || sg.Index > sg.Count {
			c.add("segment.index", "is %d: segment %d of %d does not exist (1 to %d)", sg.Index, sg.Index, sg.Count, sg.Count)
		}
		c.replicas("segment.replicas", sg.Replicas)
	}
	if m := r.Merged; m != nil && (m.Segments < 1 || m.Segments > MaxSegments) {
		c.add("merged.segments", "is %d: a plan is split into 1 to %d segments", m.Segments, MaxSegments)
	}
	if p := r.Partial; p != nil && (p.Of < 0 || p.Of > MaxScenarios) {
		c.add("partial.of", "is %d: a plan has 0 to %d scenarios", p.Of, MaxScenarios)
	}
	if len(r.Scenarios) > MaxScenarios {
		c.add("scenarios", "has %d scenarios, more than %d", len(r.Scenarios), MaxScenarios)
	}
	for i := range r.Scenarios {
		c.scenario(fmt.Sprintf("scenarios[%d] (%s)", i, r.Scenarios[i].Name), &r.Scenarios[i], r.FinishedAt)
	}
	return c.err()
}

// checker gathers range problems, each naming its field.
type checker struct {
	problems []string
	more     int
}

func (c *checker) add(field, format string, args ...any) {
	if len(c.problems) == maxProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, field+" "+fmt.Sprintf(format, args...))
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	msg := strings.Join(c.problems, "; ")
	if c.more > 0 {
		msg += fmt.Sprintf("; and %d more", c.more)
	}
	return fmt.Errorf("values out of range: %s", msg)
}

func (c *checker) duration(field string, d time.Duration) {
	if d < 0 {
		c.add(field, "is %dns: a duration must not be negative", int64(d))
	}
}

// elapsed checks a duration that measures part of a run: 0 to MaxElapsed.
func (c *checker) elapsed(field string, d time.Duration) {
	c.duration(field, d)
	if d > MaxElapsed {
		c.add(field, "is %dns: no run lasts longer than %s", int64(d), MaxElapsed)
	}
}

// replicas checks a list of replica numbers: 1 to MaxReplicas, at most
// MaxReplicas of them.
func (c *checker) replicas(field string, rs []int) {
	if len(rs) > MaxReplicas {
		c.add(field, "has %d replicas, more than %d", len(rs), MaxReplicas)
		return
	}
	for i, r := range rs {
		if r < 1 || r > MaxReplicas {
			c.add(fmt.Sprintf("%s[%d]", field, i), "is %d: replicas are numbered 1 to %d", r, MaxReplicas)
			return
		}
	}
}

func (c *checker) count(field string, n int64) {
	if n < 0 {
		c.add(field, "is %d: a count must not be negative", n)
	}
}

func (c *checker) finite(field string, f float64) bool {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		c.add(field, "is %v: it must be a finite number", f)
		return false
	}
	return true
}

func (c *checker) nonNegative(field string, f float64) {
	if f < 0 {
		c.add(field, "is %v: it must not be negative", f)
	}
}

// fraction checks a rate or share: a number from 0 to 1.
func (c *checker) fraction(field string, f float64) {
	if c.finite(field, f) && (f < 0 || f > 1) {
		c.add(field, "is %v: it must be from 0 to 1", f)
	}
}

// opsErrors checks a pair of operation and error counts.
func (c *checker) opsErrors(prefix string, ops, errs int64) {
	c.count(prefix+"ops", ops)
	c.count(prefix+"errors", errs)
	if errs > ops && ops >= 0 {
		c.add(prefix+"errors", "is %d, more than the %d operations (ops counts failed ones too)", errs, ops)
	}
}

func (c *checker) counts(field string, m map[string]int64) {
	for k, n := range m {
		c.count(field+"."+k, n)
	}
}

func (c *checker) latency(field string, l Latency) {
	c.count(field+".count", l.Count)
	steps := []struct {
		name string
		d    time.Duration
	}{{"min", l.Min}, {"p50", l.P50}, {"p90", l.P90}, {"p95", l.P95}, {"p99", l.P99}, {"max", l.Max}}
	for _, s := range steps {
		c.duration(field+"."+s.name, s.d)
	}
	c.duration(field+".mean", l.Mean)
	if l.Count <= 0 {
		return
	}
	// The percentiles are not compared with each other: reports written by
	// hand or by other tools round them differently. Each lies within
	// min..max.
	if l.Min > l.Max {
		c.add(field+".min", "is %dns, more than max (%dns)", int64(l.Min), int64(l.Max))
		return
	}
	for _, s := range steps[1 : len(steps)-1] {
		if s.d < l.Min || s.d > l.Max {
			c.add(field+"."+s.name, "is %dns, outside min..max (%dns..%dns)", int64(s.d), int64(l.Min), int64(l.Max))
			return
		}
	}
}

// scenario checks s, a scenario of a run that finished at finished (zero
// when not known).
func (c *checker) scenario(p string, s *Scenario, finished time.Time) {
	c.elapsed(p+".planned", s.Planned)
	c.elapsed(p+".elapsed", s.Elapsed)
	c.elapsed(p+".warmup", s.Warmup)
	c.count(p+".max_users", int64(s.MaxUsers))
	c.opsErrors(p+".", s.Ops, s.Errors)
	c.count(p+".cancelled", s.Cancelled)
	c.fraction(p+".success_rate", s.SuccessRate)
	if c.finite(p+".throughput", s.Throughput) {
		c.nonNegative(p+".throughput", s.Throughput)
	}
	// Every latency of the scenario and its operations, found by type (a
	// latency added to either is checked without being listed here).
	walkLatencies(reflect.ValueOf(s).Elem(), p, func(path string, l *Latency) bool {
		c.latency(path, *l)
		return true
	})
	c.count(p+".arrivals", s.Arrivals)
	c.count(p+".dropped", s.Dropped)
	c.count(p+".in_flight.max", int64(s.InFlight.Max))
	if c.finite(p+".rate", s.Rate) {
		c.nonNegative(p+".rate", s.Rate)
	}
	if c.finite(p+".in_flight.mean", s.InFlight.Mean) {
		c.nonNegative(p+".in_flight.mean", s.InFlight.Mean)
	}
	for i := range s.Operations {
		o := &s.Operations[i]
		op := fmt.Sprintf("%s.operations[%d] (%s).", p, i, o.Name)
		if c.finite(op+"weight", o.Weight) {
			c.nonNegative(op+"weight", o.Weight)
		}
		c.fraction(op+"share", o.Share)
		c.opsErrors(op, o.Ops, o.Errors)
		c.fraction(op+"success_rate", o.SuccessRate)
	}
	c.counts(p+".errors_by", s.ErrorsBy)
	c.counts(p+".sqlstates", s.SQLStates)
	cn := &s.Connections
	c.count(p+".connections.opened", cn.Opened)
	c.count(p+".connections.closed", cn.Closed)
	c.counts(p+".connections.closed_by", cn.ClosedBy)
	c.count(p+".connections.max_open", int64(cn.MaxOpen))
	// Reuse is 1 − opened/acquires: below 0 when connections were
	// reopened more often than acquired, never above 1.
	if c.finite(p+".connections.reuse", cn.Reuse) && cn.Reuse > 1 {
		c.add(p+".connections.reuse", "is %v: it is at most 1", cn.Reuse)
	}
	c.fraction(p+".utilization.mean", s.Utilization.Mean)
	c.fraction(p+".utilization.p95", s.Utilization.P95)
	c.fraction(p+".utilization.max", s.Utilization.Max)
	ex := &s.Exhaustion
	c.count(p+".exhaustion.events", int64(ex.Events))
	c.duration(p+".exhaustion.total", ex.Total)
	c.duration(p+".exhaustion.longest", ex.Longest)
	c.count(p+".exhaustion.timeouts", ex.Timeouts)
	c.fraction(p+".exhaustion.share", ex.Share)
	c.count(p+".leaks", int64(s.Leaks))
	for i, l := range s.LeakDetails {
		c.duration(fmt.Sprintf("%s.leak_details[%d].held", p, i), l.Held)
		c.count(fmt.Sprintf("%s.leak_details[%d].user", p, i), int64(l.User))
	}
	if v := s.Service; v != nil {
		c.service(p+".service", v)
	}
	if rc := s.Recovery; rc != nil {
		c.count(p+".recovery.after_stage", int64(rc.AfterStage))
		c.duration(p+".recovery.duration", rc.Duration)
		c.duration(p+".recovery.settle", rc.Settle)
	}
	for i, r := range s.Replicas {
		if r.Index < 1 || r.Index > MaxReplicas {
			c.add(fmt.Sprintf("%s.replicas[%d].index", p, i), "is %d: replicas are numbered 1 to %d", r.Index, MaxReplicas)
			break
		}
	}
	if len(s.Replicas) > MaxReplicas {
		c.add(p+".replicas", "has %d replicas, more than %d", len(s.Replicas), MaxReplicas)
	}
	if len(s.Faults) > MaxFaults {
		c.add(p+".faults", "has %d faults, more than %d", len(s.Faults), MaxFaults)
	}
	c.elapsed(p+".series_step", s.SeriesStep)
	if len(s.Series) > MaxSeriesPoints {
		c.add(p+".series", "has %d points, more than %d", len(s.Series), MaxSeriesPoints)
	}
	if len(s.Series) > 0 && s.SeriesStep < MinSeriesStep {
		c.add(p+".series_step", "is %dns: a series step is at least %s", int64(s.SeriesStep), MinSeriesStep)
	}
	// A point ends within the run: at most one step after the scenario's
	// end, or after the run's end (a merged scenario's points span its
	// segments' starts), and never after MaxElapsed.
	end := MaxElapsed
	if s.Elapsed >= 0 && s.Elapsed <= MaxElapsed {
		end = s.Elapsed
		if !finished.IsZero() && !s.StartedAt.IsZero() {
			end = max(end, min(finished.Sub(s.StartedAt), MaxElapsed))
		}
	}
	end += min(max(s.SeriesStep, 0), MaxElapsed)
	for i := range s.Series {
		c.point(fmt.Sprintf("%s.series[%d]", p, i), &s.Series[i], end)
	}
}

// service checks the service under test's record: counts and levels not
// negative (utilization too, which may pass 1), durations within a run, at most
// MaxServiceLeakDetails leaks detailed (and no more than it counts).
func (c *checker) service(p string, v *Service) {
	for _, n := range []struct {
		name string
		n    int64
	}{
		{"capacity", int64(v.Capacity)}, {"samples", int64(v.Samples)}, {"missed", int64(v.Missed)},
		{"backends.max", int64(v.Backends.Max)}, {"backends.p95", int64(v.Backends.P95)},
		{"in_use.max", int64(v.InUse.Max)}, {"in_use.p95", int64(v.InUse.P95)},
		{"lock_waits.max", int64(v.LockWaits.Max)}, {"leaks", int64(v.Leaks)},
		{"connections.opened", v.Connections.Opened}, {"connections.closed", v.Connections.Closed},
		{"connections.max_open", int64(v.Connections.MaxOpen)},
	} {
		c.count(p+"."+n.name, n.n)
	}
	for _, m := range []struct {
		name string
		f    float64
	}{{"backends.mean", v.Backends.Mean}, {"in_use.mean", v.InUse.Mean}} {
		if c.finite(p+"."+m.name, m.f) {
			c.nonNegative(p+"."+m.name, m.f)
		}
	}
	// The service's utilization may pass 1: more backends in use than the
	// capacity the plan describes (the built-in check of the service's
	// pool fails on it; a watch of every client backend sees it too).
	for _, u := range []struct {
		name string
		f    float64
	}{{"utilization.mean", v.Utilization.Mean}, {"utilization.p95", v.Utilization.P95}, {"utilization.max", v.Utilization.Max}} {
		if c.finite(p+"."+u.name, u.f) {
			c.nonNegative(p+"."+u.name, u.f)
		}
	}
	c.elapsed(p+".interval", v.Interval)
	c.elapsed(p+".idle_in_transaction.max", v.IdleInTransaction.Max)
	if n := len(v.LeakDetails); n > MaxServiceLeakDetails || n > max(v.Leaks, 0) {
		c.add(p+".leak_details", "has %d leaks, more than the %d it counts or the %d a report details", n, v.Leaks, MaxServiceLeakDetails)
	}
	for i, l := range v.LeakDetails {
		c.elapsed(fmt.Sprintf("%s.leak_details[%d].age", p, i), l.Age)
		c.count(fmt.Sprintf("%s.leak_details[%d].pid", p, i), int64(l.PID))
	}
}

func (c *checker) point(p string, pt *Point, end time.Duration) {
	if pt.T < 0 || pt.T > end {
		c.add(p+".t", "is %dns: a point lies within its scenario (0 to elapsed + series_step = %dns)", int64(pt.T), int64(end))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"acquire_p50", pt.AcquireP50}, {"acquire_p95", pt.AcquireP95}, {"acquire_p99", pt.AcquireP99}, {"query_p95", pt.QueryP95}, {"op_p95", pt.OpP95}} {
		c.duration(p+"."+d.name, d.d)
	}
	for _, n := range []struct {
		name string
		n    int64
	}{{"users", int64(pt.Users)}, {"in_use", int64(pt.InUse)}, {"idle", int64(pt.Idle)}, {"total", int64(pt.Total)}, {"waiting", int64(pt.Waiting)}} {
		c.count(p+"."+n.name, n.n)
	}
	c.opsErrors(p+".", pt.Ops, pt.Errors)
}
