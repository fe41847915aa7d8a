// Package merge combines the JSON reports of the segments of one plan
// (planrun PLAN --segment i/N) into one run record, as if the plan had run
// whole: histograms merged exactly, counters summed, time series aligned on
// the wall clock, pool diagnostics combined. docs/merge.md says how each
// figure is combined and which are bounds rather than exact values.
//
// The merged record has no assertions or verdict: the caller evaluates the
// plan's assertions on it (planrun merge).
package merge

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

// Input is one segment report and the file it was read from.
type Input struct {
	File string
	Run  *results.Run
}

// maxLeakDetails bounds the merged leak descriptions per scenario, as the
// engine bounds a scenario's (engine/recorder.go).
const maxLeakDetails = 20

// Runs merges the segment reports in into one run record. The inputs may
// come in any order; the record lists them in segment order
// (Run.Merged.Files). Assertions and Verdict are left empty.
//
// Every error is a refusal that names the files concerned: an input that is
// not a segment report, reports of different plans (sha256), report schema
// versions, planrun versions or --time-scale factors, different segment
// counts, a missing or duplicated segment, different scenario lists, or a
// histogram that cannot be decoded.
func Runs(in []Input) (*results.Run, error) {
	segs, err := check(in)
	if err != nil {
		return nil, err
	}
	return runs(segs)
}

// check refuses inputs that cannot be merged and returns them in segment order.
func check(in []Input) ([]Input, error) {
	if len(in) == 0 {
		return nil, errors.New("no segment reports given")
	}
	for _, s := range in {
		if s.Run.Segment == nil {
			return nil, fmt.Errorf("%s is not a segment report (run with --segment i/N)", s.File)
		}
		// The reader validated a report it read; a caller may hand over
		// others. Every count and duration that sizes a loop below is
		// within the limits after this.
		if err := s.Run.Validate(); err != nil {
			return nil, fmt.Errorf("%s is not a report planrun wrote: %w", s.File, err)
		}
	}
	first := in[0]
	for _, s := range in[1:] {
		a, b := first.Run, s.Run
		switch {
		case a.SchemaVersion != b.SchemaVersion:
			return nil, fmt.Errorf("%s and %s have different report schema versions (%d and %d)", first.File, s.File, a.SchemaVersion, b.SchemaVersion)
		case a.PlanrunVersion != b.PlanrunVersion:
			return nil, fmt.Errorf("%s was written by planrun %s, %s by planrun %s: merge segments run by one planrun version (how a plan is split may differ between versions)",
				first.File, a.PlanrunVersion, s.File, b.PlanrunVersion)
		case a.Plan.SHA256 != b.Plan.SHA256:
			return nil, fmt.Errorf("%s and %s ran different plans (%s sha256 %s, %s sha256 %s)",
				first.File, s.File, a.Plan.File, short(a.Plan.SHA256), b.Plan.File, short(b.Plan.SHA256))
		case a.Segment.Count != b.Segment.Count:
			return nil, fmt.Errorf("%s is segment %d/%d but %s is segment %d/%d: the plan was split differently",
				first.File, a.Segment.Index, a.Segment.Count, s.File, b.Segment.Index, b.Segment.Count)
		case a.TimeScale != b.TimeScale:
			return nil, fmt.Errorf("%s ran with --time-scale %v but %s with %v", first.File, a.TimeScale, s.File, b.TimeScale)
		}
	}
	count := first.Run.Segment.Count
	if count < 1 || count > results.MaxSegments {
		return nil, fmt.Errorf("%s: segment.count is %d: a plan is split into 1 to %d segments", first.File, count, results.MaxSegments)
	}
	byIndex := make([]*Input, count+1)
	for i := range in {
		s := &in[i]
		idx := s.Run.Segment.Index
		if idx < 1 || idx > count {
			return nil, fmt.Errorf("%s: segment.index is %d: segment %d of %d is out of range (1 to %d)", s.File, idx, idx, count, count)
		}
		if prev := byIndex[idx]; prev != nil {
			return nil, fmt.Errorf("segment %d given twice: %s and %s", idx, prev.File, s.File)
		}
		byIndex[idx] = s
	}
	var missing []string
	for idx := 1; idx <= count; idx++ {
		if byIndex[idx] == nil {
			missing = append(missing, fmt.Sprint(idx))
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return nil, fmt.Errorf("segment %s of %d is missing", missing[0], count)
	default:
		return nil, fmt.Errorf("segments %s and %s of %d are missing", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1], count)
	}
	segs := make([]Input, count)
	for idx := 1; idx <= count; idx++ {
		segs[idx-1] = *byIndex[idx]
	}
	want := scenarioNames(segs[0].Run)
	for _, s := range segs[1:] {
		if got := scenarioNames(s.Run); !slices.Equal(got, want) {
			return nil, fmt.Errorf("%s ran scenarios [%s] but %s ran [%s]: merge segments that ran the same scenarios (same --scenario flags)",
				segs[0].File, strings.Join(want, ", "), s.File, strings.Join(got, ", "))
		}
	}
	return segs, nil
}

func scenarioNames(run *results.Run) []string {
	names := make([]string, len(run.Scenarios))
	for i, sc := range run.Scenarios {
		names[i] = sc.Name
	}
	return names
}

// short abbreviates a sha256 for a message.
func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

// label names segment s in a merged message: "segment 2 (b.json)".
func label(s Input) string {
	return fmt.Sprintf("segment %d (%s)", s.Run.Segment.Index, s.File)
}

// runs merges checked segments, in segment order.
func runs(segs []Input) (*results.Run, error) {
	first := segs[0].Run
	out := &results.Run{
		SchemaVersion:  first.SchemaVersion,
		PlanrunVersion: first.PlanrunVersion,
		Plan:           first.Plan,
		Target:         first.Target,
		Pool:           first.Pool,
		StartedAt:      first.StartedAt,
		FinishedAt:     first.FinishedAt,
		Status:         results.StatusCompleted,
		TimeScale:      first.TimeScale,
		Seed:           first.Seed,
		Merged:         &results.Merged{Segments: first.Segment.Count},
	}
	var teardown []string
	worst := 0
	for _, s := range segs {
		r := s.Run
		out.Merged.Files = append(out.Merged.Files, s.File)
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		if r.Seed != out.Seed {
			out.Seed = 0 // the segments drew different seeds: none replays the merged run
		}
		if !first.StartedAt.IsZero() && !r.StartedAt.IsZero() && absDuration(r.StartedAt.Sub(first.StartedAt)) > results.MaxElapsed {
			return nil, fmt.Errorf("%s started at %s and %s at %s, more than %s apart: they are not segments of one run",
				segs[0].File, first.StartedAt.Format(time.RFC3339), s.File, r.StartedAt.Format(time.RFC3339), results.MaxElapsed)
		}
		out.Target.Replicas = max(out.Target.Replicas, r.Target.Replicas)
		for _, rep := range r.Segment.Replicas {
			out.Target.Replicas = max(out.Target.Replicas, rep)
		}
		if rank := r.Status.Severity(); rank > worst {
			worst = rank
			out.Status = r.Status
			out.StatusReason = label(s)
			if r.StatusReason != "" {
				out.StatusReason += ": " + r.StatusReason
			}
		}
		if r.TeardownError != "" {
			teardown = append(teardown, label(s)+": "+r.TeardownError)
		}
	}
	out.TeardownError = strings.Join(teardown, "; ")
	out.Preflight = preflight(segs)
	for i := range first.Scenarios {
		sc, err := scenario(segs, i)
		if err != nil {
			return nil, err
		}
		out.Scenarios = append(out.Scenarios, sc)
	}
	// What merge writes, report reads: a merged record that the reader
	// would refuse is refused here, naming the segments.
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("the segments %s do not add up to a run planrun could have made: %w", strings.Join(out.Merged.Files, ", "), err)
	}
	return out, nil
}

// absDuration is |d|, saturated (time.Time.Sub saturates too).
func absDuration(d time.Duration) time.Duration {
	switch {
	case d == math.MinInt64:
		return math.MaxInt64
	case d < 0:
		return -d
	}
	return d
}

// preflight is segment 1's checks plus every check another segment failed
// or warned on that is at least as bad as the same check so far, its reason
// naming the segment. A check keeps its name, and the last one of a name is
// the worst: assertions reading preflight.<check> see the worst status.
func preflight(segs []Input) []results.Check {
	checks := slices.Clone(segs[0].Run.Preflight)
	worst := map[string]int{}
	for _, ch := range checks {
		worst[ch.Name] = max(worst[ch.Name], ch.Status.Severity())
	}
	for _, s := range segs[1:] {
		for _, ch := range s.Run.Preflight {
			rank := ch.Status.Severity()
			if rank == 0 || rank < worst[ch.Name] {
				continue
			}
			if len(checks) >= results.MaxListItems {
				break // the reader's own limit: further checks are not kept
			}
			worst[ch.Name] = rank
			ch.Reason = label(s) + ": " + ch.Reason
			checks = append(checks, ch)
		}
	}
	return checks
}

// part is one segment's record of a scenario.
type part struct {
	in Input
	sc *results.Scenario
}

// replicas is the number of pools the segment ran in the scenario: its
// per-replica breakdown, else the replicas the segment owns, else one.
func (p part) replicas() int {
	switch {
	case len(p.sc.Replicas) > 0:
		return len(p.sc.Replicas)
	case len(p.in.Run.Segment.Replicas) > 0:
		return len(p.in.Run.Segment.Replicas)
	}
	return 1
}

// measured is the scenario's time after the warm-up in this segment.
func (p part) measured() time.Duration {
	return p.sc.Elapsed - min(p.sc.Warmup, p.sc.Elapsed)
}

// scenario merges the i-th scenario of every segment: its operation
// measurements through one tally (counts summed, histograms merged, the
// figures written by the engine's own summary), and here what the tally
// does not hold: the load's shape, the pools, the rare notes, the faults,
// the generator and the series.
func scenario(segs []Input, i int) (results.Scenario, error) {
	parts := make([]part, len(segs))
	for k, s := range segs {
		parts[k] = part{in: s, sc: &s.Run.Scenarios[i]}
	}
	first := parts[0].sc
	out := results.Scenario{
		Name: first.Name, Mix: first.Mix, HTTPOnly: first.HTTPOnly, Model: first.Model, Status: first.Status,
		StartedAt: first.StartedAt, Planned: first.Planned,
		Think: first.Think, TimeScaleNote: first.TimeScaleNote,
		ErrorsBy: map[string]int64{},
	}
	t, err := measurements(parts)
	if err != nil {
		return out, fmt.Errorf("scenario %s: %w", out.Name, err)
	}
	measured := shape(parts, &out)
	t.Summary(&out, measured, true)
	sum := &adder{}
	err = loadFigures(parts, &out, sum)
	if err == nil {
		err = pools(parts, &out, sum, measured)
	}
	if err == nil {
		err = notes(parts, &out, sum)
	}
	if err == nil {
		out.Service, err = service(parts, sum)
	}
	if err != nil {
		return out, fmt.Errorf("scenario %s: %w", out.Name, err)
	}
	out.Faults = faults(parts)
	out.Generator = generator(parts)
	out.Series, out.SeriesStep = series(parts)
	return out, nil
}

// shape merges when the scenario ran: the worst status, the earliest
// start, the longest elapsed time and warm-up; it returns the longest
// measured time (after the warm-up) of any segment.
func shape(parts []part, out *results.Scenario) (measured time.Duration) {
	for _, p := range parts {
		sc := p.sc
		if sc.Status.Severity() > out.Status.Severity() {
			out.Status = sc.Status
		}
		if !sc.StartedAt.IsZero() && (out.StartedAt.IsZero() || sc.StartedAt.Before(out.StartedAt)) {
			out.StartedAt = sc.StartedAt
		}
		out.Elapsed = max(out.Elapsed, sc.Elapsed)
		out.Warmup = max(out.Warmup, sc.Warmup)
		measured = max(measured, p.measured())
	}
	return measured
}

// loadFigures sums the load's levels: users, an open model's rate and
// operations in flight (each segment ran its own).
func loadFigures(parts []part, out *results.Scenario, sum *adder) error {
	for _, p := range parts {
		sc := p.sc
		sum.file = p.in.File
		out.MaxUsers = sum.addInt("max_users", out.MaxUsers, sc.MaxUsers)
		out.Rate = sum.addFloat("rate", out.Rate, sc.Rate)
		out.InFlight.Max = sum.addInt("in_flight.max", out.InFlight.Max, sc.InFlight.Max)
		out.InFlight.Mean = sum.addFloat("in_flight.mean", out.InFlight.Mean, sc.InFlight.Mean)
	}
	return sum.err
}

// pools merges the pools' figures: connections summed, reuse from the
// summed acquires (else weighted by operations), utilization's mean
// weighted by replicas and its peaks the largest, exhaustion summed (its
// longest the longest) and its share over every replica's measured time,
// and the replicas listed in index order. out.Ops is the merged count.
func pools(parts []part, out *results.Scenario, sum *adder, measured time.Duration) error {
	var (
		totalReplicas int
		utilSum       float64
		acquires      int64
		acquiresKnown = true
		reuseWeighted float64
	)
	cn := &out.Connections
	cn.ClosedBy = map[string]int64{}
	for _, p := range parts {
		sc := p.sc
		sum.file = p.in.File
		c := &sc.Connections
		cn.Opened = sum.add("connections.opened", cn.Opened, c.Opened)
		cn.Closed = sum.add("connections.closed", cn.Closed, c.Closed)
		sum.counts("connections.closed_by", &cn.ClosedBy, c.ClosedBy)
		cn.MaxOpen = sum.addInt("connections.max_open", cn.MaxOpen, c.MaxOpen)
		if n, ok := acquiresOf(sc, sum); ok {
			acquires = sum.add("connections (acquires)", acquires, n)
		} else {
			acquiresKnown = false
		}
		reuseWeighted = sum.addFloat("connections.reuse", reuseWeighted, c.Reuse*float64(sc.Ops))

		n := p.replicas()
		totalReplicas = sum.addInt("replicas", totalReplicas, n)
		utilSum += sc.Utilization.Mean * float64(n)
		out.Utilization.P95 = max(out.Utilization.P95, sc.Utilization.P95)
		out.Utilization.Max = max(out.Utilization.Max, sc.Utilization.Max)
		ex := &out.Exhaustion
		ex.Events = sum.addInt("exhaustion.events", ex.Events, sc.Exhaustion.Events)
		ex.Total = time.Duration(sum.add("exhaustion.total", int64(ex.Total), int64(sc.Exhaustion.Total)))
		ex.Timeouts = sum.add("exhaustion.timeouts", ex.Timeouts, sc.Exhaustion.Timeouts)
		ex.Longest = max(ex.Longest, sc.Exhaustion.Longest)
		if len(out.Replicas)+len(sc.Replicas) > results.MaxReplicas {
			return fmt.Errorf("the segments list more than %d replicas", results.MaxReplicas)
		}
		out.Replicas = append(out.Replicas, sc.Replicas...)
	}
	if sum.err != nil {
		return sum.err
	}
	out.Exhaustion.Share = results.ExhaustionShare(out.Exhaustion.Total, measured, totalReplicas)
	out.Utilization.Mean = utilSum / float64(totalReplicas)
	switch {
	case acquiresKnown && acquires > 0:
		cn.Reuse = 1 - float64(cn.Opened)/float64(acquires)
	case !acquiresKnown && out.Ops > 0:
		cn.Reuse = reuseWeighted / float64(out.Ops)
	}
	sort.SliceStable(out.Replicas, func(a, b int) bool { return out.Replicas[a].Index < out.Replicas[b].Index })
	return nil
}

// notes merges what the segments noted: SQLSTATE counts summed, the first
// error sample of each category, leaks summed (their details up to
// maxLeakDetails), every check not made (its reason naming the segment),
// and the worst recovery.
func notes(parts []part, out *results.Scenario, sum *adder) error {
	var recoveries []*results.Recovery
	for _, p := range parts {
		sc := p.sc
		sum.file = p.in.File
		sum.counts("sqlstates", &out.SQLStates, sc.SQLStates)
		for cat, msg := range sc.ErrorSamples {
			if _, ok := out.ErrorSamples[cat]; !ok {
				if out.ErrorSamples == nil {
					out.ErrorSamples = map[string]string{}
				}
				out.ErrorSamples[cat] = msg
			}
		}
		out.Leaks = sum.addInt("leaks", out.Leaks, sc.Leaks)
		for _, l := range sc.LeakDetails {
			if len(out.LeakDetails) < maxLeakDetails {
				out.LeakDetails = append(out.LeakDetails, l)
			}
		}
		if len(out.NotChecked)+len(sc.NotChecked) > results.MaxListItems {
			return fmt.Errorf("the segments list more than %d checks not made", results.MaxListItems)
		}
		for _, nc := range sc.NotChecked {
			nc.Reason = label(p.in) + ": " + nc.Reason
			out.NotChecked = append(out.NotChecked, nc)
		}
		recoveries = append(recoveries, sc.Recovery)
	}
	if r := results.WorstRecovery(recoveries...); r != nil {
		copied := *r
		out.Recovery = &copied
	}
	return sum.err
}

// acquiresOf is how many connections the scenario's pools handed out: the
// sum over its replicas, else derived from reuse (1 − opened/acquires).
func acquiresOf(sc *results.Scenario, sum *adder) (int64, bool) {
	if len(sc.Replicas) > 0 {
		var n int64
		for _, r := range sc.Replicas {
			n = sum.add("replicas.acquires", n, r.Acquires)
		}
		return n, true
	}
	c := sc.Connections
	switch {
	case c.Opened == 0 && c.Reuse == 0:
		return 0, true // nothing acquired
	case c.Reuse < 1 && c.Opened > 0:
		n := float64(c.Opened)/(1-c.Reuse) + 0.5
		if n >= math.MaxInt64 {
			return math.MaxInt64, true
		}
		return int64(n), true
	}
	return 0, false
}

// counts adds the counts of src to *dst, by key.
func (s *adder) counts(field string, dst *map[string]int64, src map[string]int64) {
	for k, n := range src {
		if *dst == nil {
			*dst = map[string]int64{}
		}
		(*dst)[k] = s.add(field+"."+k, (*dst)[k], n)
	}
}

// measurements merges the segments' operation measurements (tally): counts
// summed, histograms merged exactly, operations by name in the first
// segment's mix order (an operation only a later segment ran comes after).
func measurements(parts []part) (*tally.Scenario, error) {
	var sum *tally.Scenario
	for _, p := range parts {
		t, err := tally.FromScenario(p.sc)
		if err == nil && sum != nil {
			err = sum.Merge(t)
		}
		var over *tally.OverflowError
		if errors.As(err, &over) {
			s := &adder{file: p.in.File}
			s.add(over.Field, over.Sum, over.Add)
			err = s.err
		}
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = t
		}
	}
	return sum, nil
}

// faults are the faults of the segment that applied the most of them (the
// first such segment on a tie): a fault acts on the server, whichever
// segment applied it.
func faults(parts []part) []results.Fault {
	best, bestApplied := -1, -1
	for k, p := range parts {
		applied := 0
		for _, f := range p.sc.Faults {
			if f.Status == results.FaultApplied {
				applied++
			}
		}
		if len(p.sc.Faults) > 0 && applied > bestApplied {
			best, bestApplied = k, applied
		}
	}
	if best < 0 {
		return nil
	}
	return slices.Clone(parts[best].sc.Faults)
}

// generator is the load generators' figures: the timer and network
// lateness combined conservatively (their summaries carry no histogram), so
// the merged error band is the widest segment's, and the CPU figures of
// the busiest machine, kept together so that they describe one machine.
func generator(parts []part) results.Generator {
	g0 := parts[0].sc.Generator
	out := results.Generator{CPU: g0.CPU, ServerCPU: g0.ServerCPU, ServiceCPU: g0.ServiceCPU, MachineCPU: g0.MachineCPU, Cores: g0.Cores}
	lateness := make([]results.Latency, len(parts))
	proxy := make([]results.Latency, len(parts))
	busiest := busy(g0)
	for k, p := range parts {
		g := p.sc.Generator
		lateness[k], proxy[k] = g.TimerLateness, g.ProxyLateness
		if b := busy(g); b > busiest {
			busiest = b
			out.CPU, out.ServerCPU, out.ServiceCPU, out.MachineCPU, out.Cores = g.CPU, g.ServerCPU, g.ServiceCPU, g.MachineCPU, g.Cores
		}
	}
	out.TimerLateness, out.ProxyLateness = hdr.Bound(lateness...), hdr.Bound(proxy...)
	return out
}

// busy is a machine's busy share of its cores: the machine's CPU, else
// planrun's own (-1 when neither is known).
func busy(g results.Generator) float64 {
	cores := float64(max(g.Cores, 1))
	switch {
	case g.MachineCPU >= 0 && g.Cores > 0:
		return g.MachineCPU / cores
	case g.CPU >= 0 && g.Cores > 0:
		return g.CPU / cores
	}
	return -1
}
