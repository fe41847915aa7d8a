package engine

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/schema"
)

// shape is a closed-model load profile: how many users should be active at
// each moment of a scenario. It is a pure function of elapsed time, so it is
// tested without a clock. An open model (arrival rate) would be another
// implementation of a sibling interface, leaving the rest of the engine as is.
type shape interface {
	// Users is the number of users that should be active at elapsed.
	Users(elapsed time.Duration) int
	// Duration is the scenario's total length.
	Duration() time.Duration
	// MaxUsers is the highest level the shape reaches.
	MaxUsers() int
	// StageEnd is the offset at which 1-based stage i ends.
	StageEnd(i int) time.Duration
}

// stage is one step of a Ramp: ramp linearly from the previous level to Users
// over Ramp, then hold until Duration (which includes Ramp) has passed.
type stage struct {
	Users    int
	Ramp     time.Duration
	Duration time.Duration
}

// ramp is a Shape made of stages, starting from 0 users. `users` + `ramp_up`
// + `duration` is a ramp of one stage.
type ramp []stage

var _ shape = ramp(nil)

// Users implements Shape. During a ramp the level rounds down, so a user is
// added when its whole share of the ramp has passed; after the last stage it is 0.
func (r ramp) Users(elapsed time.Duration) int {
	prev := 0
	var start time.Duration
	for _, s := range r {
		if elapsed < addSat(start, s.Duration) {
			in := elapsed - start
			if s.Ramp > 0 && in < s.Ramp {
				return prev + int(float64(s.Users-prev)*float64(in)/float64(s.Ramp))
			}
			return s.Users
		}
		prev = s.Users
		start = addSat(start, s.Duration)
	}
	return 0
}

// Duration implements Shape. A total too long for a time.Duration is
// math.MaxInt64 (schema bounds a plan's load to schema.MaxLoad).
func (r ramp) Duration() time.Duration {
	var d time.Duration
	for _, s := range r {
		d = addSat(d, s.Duration)
	}
	return d
}

// MaxUsers implements Shape.
func (r ramp) MaxUsers() int {
	m := 0
	for _, s := range r {
		m = max(m, s.Users)
	}
	return m
}

// StageEnd implements Shape. Out-of-range stages return the total duration.
func (r ramp) StageEnd(i int) time.Duration {
	var d time.Duration
	for j, s := range r {
		d = addSat(d, s.Duration)
		if j+1 == i {
			return d
		}
	}
	return d
}

// Scaled returns the ramp with every duration multiplied by f (--time-scale).
// A product too long for a time.Duration is math.MaxInt64; a bad factor
// (negative, NaN, infinite) gives 0. [schema.Plan.CheckTimeScale] reports
// both before a run.
func (r ramp) Scaled(f float64) ramp {
	out := make(ramp, len(r))
	for i, s := range r {
		out[i] = stage{Users: s.Users, Ramp: scale(s.Ramp, f), Duration: scale(s.Duration, f)}
	}
	return out
}

// timeScaleNote says how the queue an open-model scenario s could build
// differs from the plan's when --time-scale f (≠ 1) changed its stages'
// lengths but not their rates: arrivals that outpace the pool for a time T
// queue about (rate − capacity) × T requests, so a stage run f × as long
// builds about f × the queue the plan's arithmetic gives, and its waits
// and drain change as much. It names the stage with the highest rate
// (the surge, if any). "" for f = 1. Only for an open model: a closed
// model's queue is bounded by its users, whatever the scenario's length.
func timeScaleNote(s *schema.Scenario, f float64) string {
	if f == 1 {
		return ""
	}
	type st struct {
		rate float64
		d    time.Duration
	}
	stages := []st{{float64(s.Rate), s.Duration.D()}}
	if len(s.Stages) > 0 {
		stages = stages[:0]
		for _, x := range s.Stages {
			stages = append(stages, st{float64(x.Rate), x.Duration.D()})
		}
	}
	top := 0
	for i, x := range stages {
		if x.rate > stages[top].rate {
			top = i
		}
	}
	x := stages[top]
	what, where := "the scenario", fmt.Sprintf("%s/s for %s instead of %s", humanize.Rate(x.rate), humanize.Exact(scale(x.d, f)), humanize.Exact(x.d))
	if len(stages) > 1 {
		what, where = "every stage", fmt.Sprintf("stage %d: %s", top+1, where)
	}
	verb := "shortened"
	if f > 1 {
		verb = "lengthened"
	}
	return fmt.Sprintf("--time-scale %g %s %s to %g × its planned length at the same rate (%s), so a queue built while arrivals outpaced the pool was about %g × the one the plan's arithmetic gives, and its waits and drain %g × as long",
		f, verb, what, f, where, f, f)
}

func scale(d time.Duration, f float64) time.Duration {
	v, _ := schema.ScaleDuration(d, f)
	return v
}

// addSat returns a + b for b ≥ 0, math.MaxInt64 when that overflows.
func addSat(a, b time.Duration) time.Duration {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// thinkTime draws a think time uniformly from r, both ends included; r.Min
// when r.Max ≤ r.Min.
func thinkTime(r schema.DurationRange) time.Duration {
	return uniform(r.Min, r.Max, mrand.Uint64N, mrand.Uint64)
}

// uniform returns a duration uniform in [lo, hi] (lo when hi ≤ lo), from
// below(n), uniform in [0, n), and full(), uniform over every uint64. It is
// right for every pair of int64s: hi - lo + 1 is computed in uint64, where it
// cannot overflow, except for the whole int64 range, which full() covers.
func uniform(lo, hi time.Duration, below func(uint64) uint64, full func() uint64) time.Duration {
	if hi <= lo {
		return lo
	}
	span := uint64(hi) - uint64(lo)
	var off uint64
	if span == math.MaxUint64 {
		off = full()
	} else {
		off = below(span + 1)
	}
	return time.Duration(uint64(lo) + off)
}
