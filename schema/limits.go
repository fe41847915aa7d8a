package schema

import (
	"fmt"
	"github.com/planrun/planrun/internal/humanize"
	"math"
	"strconv"
	"time"
)

// Limits on what a plan may ask for, so that no plan file, however written,
// makes planrun overflow, hang or exhaust the machine. docs/plan-format.md
// ("Limits") lists them.
const (
	// MaxPlanSize is the largest plan file Load and Parse read, in bytes.
	MaxPlanSize = 4 << 20
	// MaxLoad bounds how long a plan's load lasts: each scenario's duration
	// (the sum of its stages), and all scenarios together, after --time-scale.
	MaxLoad = 1000 * time.Hour
	// MaxPause bounds a think time and a hold: they are pauses inside an
	// operation loop, not phases of a run.
	MaxPause = 24 * time.Hour
	// MaxUsers bounds a scenario's users, and each stage's: each user is a
	// goroutine with its own state, about 12 KiB (docs/plan-format.md,
	// "Limits"), so 100,000 users take about 1.2 GiB.
	MaxUsers = 100_000
	// MaxRate bounds an open model's arrival rate (a scenario's `rate` and
	// each stage's), in arrivals per second: one machine starting more
	// operations a second than this measures its own scheduler, not the
	// pool. A scenario's max_in_flight is bounded by MaxUsers: each
	// unfinished operation holds a worker, like a user.
	MaxRate = 100_000
	// MaxPoolConns bounds pool.size and pool.max_overflow, each. PostgreSQL
	// itself allows at most 262,143 connections.
	MaxPoolConns = 100_000
	// MaxReplicas bounds target.replicas. With the bounds above, the
	// capacity the preflight check counts, replicas × (size + max_overflow),
	// stays under 2·10⁹ and cannot overflow.
	MaxReplicas = 10_000
	// MaxExprLen bounds one expression (an args item or a check), in bytes,
	// and MaxExprNesting how deep (), [] and {} nest in it: expr's parser
	// recurses once per bracket and per unary operator, and a plan of a
	// million of them overflowed the stack (a fatal error, not a panic).
	// Real expressions are short and nest a few levels.
	MaxExprLen     = 16 << 10
	MaxExprNesting = 100
	// MaxBandwidth bounds target.network.bandwidth, in bytes per second
	// (100 GB/s): a limit above it limits nothing on one machine.
	MaxBandwidth = 100_000_000_000
	// MaxLatency bounds target.network.latency and a latency fault's `add`:
	// a round trip slower than this is an outage, which a `stall` fault
	// simulates.
	MaxLatency = 10 * time.Second
	// MaxFaults bounds the faults of one scenario.
	MaxFaults = 1000
	// MaxScenarios bounds a plan's scenarios: a report of more is refused
	// by every reader (results.MaxScenarios).
	MaxScenarios = 1000
)

// intRange is the range of values an integer key accepts.
type intRange struct{ min, max int }

// String renders the range for messages: "from 1 to 100,000".
func (r intRange) String() string {
	return "from " + humanize.Int(int64(r.min)) + " to " + humanize.Int(int64(r.max))
}

// intRanges gives the range of each bounded integer key, by the section
// it is written in, for the decoder's hint on a number too large to read.
// The validator checks the same ranges (validate.go).
var intRanges = map[string]intRange{
	"pool.size":         {1, MaxPoolConns},
	"pool.max_overflow": {0, MaxPoolConns},
	"target.replicas":   {1, MaxReplicas},
	// processes: each is a pool of its own, as a replica is.
	"target.service.processes": {1, MaxReplicas},
	"scenario.users":           {1, MaxUsers},
	"stage.users":              {0, MaxUsers},
	// max_in_flight: each unfinished operation holds a worker, like a user.
	"scenario.max_in_flight": {1, MaxUsers},
}

// ScaleDuration returns d multiplied by f (--time-scale), truncated to the
// nanosecond. ok is false when f is not a finite number ≥ 0 or when the
// product does not fit in a time.Duration; the duration is then the nearest
// one that does (math.MaxInt64 for an overflow, 0 for a bad factor).
func ScaleDuration(d time.Duration, f float64) (_ time.Duration, ok bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, false
	}
	v := float64(d) * f
	switch {
	case v >= math.MaxInt64: // float64(math.MaxInt64) is 2^63, itself out of range
		return math.MaxInt64, false
	case v < math.MinInt64:
		return math.MinInt64, false
	}
	return time.Duration(v), true
}

// CheckTimeScale reports whether the plan can run with its scenario
// durations multiplied by f (--time-scale): f is a finite number > 0, and
// no scenario, nor all of them together, lasts more than [MaxLoad] once
// scaled. The error, when not nil, is an [Errors] pointing at the durations
// that go over; its entries for a bad factor are at the plan file.
//
// [Load] applies the same limit to the plan as written, so f = 1 adds
// nothing and returns nil: a plan's errors are not reported twice.
func (p *Plan) CheckTimeScale(f float64) error {
	if f == 1 {
		return nil
	}
	var errs Errors
	if !(f > 0) || math.IsInf(f, 0) {
		errs.Add(Pos{File: p.File}, "use a factor like 0.05 for a rehearsal at 5% of the planned durations",
			"--time-scale must be a positive number, got %v", f)
		return errs.Err()
	}
	checkLoad(p, f, &errs)
	return errs.Err()
}

// checkLoad reports every scenario whose load, scaled by f, lasts more than
// MaxLoad, at its duration (users) or at the stage that takes it over; and,
// when no scenario alone is over, the scenario that takes all of them
// together over.
func checkLoad(p *Plan, f float64, errs *Errors) {
	limit := float64(MaxLoad)
	var with, hint string
	if f == 1 {
		hint = fmt.Sprintf("a plan's load lasts at most %s (see Limits in docs/plan-format.md): shorten it, or split it into several plans", humanize.Exact(MaxLoad))
	} else {
		with = fmt.Sprintf("with --time-scale %g, ", f)
		hint = fmt.Sprintf("a plan's load lasts at most %s, time scale included: use a smaller --time-scale", humanize.Exact(MaxLoad))
	}
	at := func(pos ...Pos) Pos {
		for _, p := range pos {
			if p.Line > 0 {
				return p
			}
		}
		return Pos{File: p.File}
	}
	var all float64
	allOver := false // all scenarios together are over, and that was said
	for i := range p.Scenarios {
		s := &p.Scenarios[i]
		label := "scenario"
		if s.Name != "" {
			label = "scenario `" + s.Name + "`"
		}
		var total float64
		over := false
		if len(s.Stages) == 0 {
			total = float64(s.Duration) * f
			if total > limit {
				errs.Add(at(s.DurationPos, s.Pos), hint, "%s%s lasts %s, more than %s", with, label, loadText(total), humanize.Exact(MaxLoad))
				over = true
			}
		}
		for j := range s.Stages {
			st := &s.Stages[j]
			total += float64(st.Duration) * f
			if total > limit && !over {
				errs.Add(at(st.DurationPos, st.Pos, s.Pos), hint, "%s%s lasts %s by the end of stage %d, more than %s",
					with, label, loadText(total), j+1, humanize.Exact(MaxLoad))
				over = true
			}
		}
		all += total
		if all > limit && !over && !allOver {
			errs.Add(at(s.Pos), hint, "%sthe scenarios up to %s last %s in all, more than %s", with, label, loadText(all), humanize.Exact(MaxLoad))
		}
		allOver = allOver || all > limit
	}
}

// loadText renders a length in nanoseconds that may not fit in a
// time.Duration, to the second.
func loadText(ns float64) string {
	if ns < math.MaxInt64 {
		return humanize.Exact(time.Duration(ns).Round(time.Second))
	}
	if h := ns / float64(time.Hour); h < 1e12 {
		return strconv.FormatFloat(h, 'f', 0, 64) + "h"
	}
	return strconv.FormatFloat(ns/float64(time.Hour), 'g', 3, 64) + "h"
}
