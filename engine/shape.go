package engine

import "time"

// Shape is a closed-model load profile: how many users should be active at
// each moment of a scenario. It is a pure function of elapsed time, so it is
// tested without a clock. An open model (arrival rate) would be another
// implementation of a sibling interface, leaving the rest of the engine as is.
type Shape interface {
	// Users is the number of users that should be active at elapsed.
	Users(elapsed time.Duration) int
	// Duration is the scenario's total length.
	Duration() time.Duration
	// MaxUsers is the highest level the shape reaches.
	MaxUsers() int
	// StageEnd is the offset at which 1-based stage i ends.
	StageEnd(i int) time.Duration
}

// Stage is one step of a Ramp: ramp linearly from the previous level to Users
// over Ramp, then hold until Duration (which includes Ramp) has passed.
type Stage struct {
	Users    int
	Ramp     time.Duration
	Duration time.Duration
}

// Ramp is a Shape made of stages, starting from 0 users. `users` + `ramp_up`
// + `duration` is a Ramp of one stage.
type Ramp []Stage

var _ Shape = Ramp(nil)

// Users implements Shape. During a ramp the level rounds down, so a user is
// added when its whole share of the ramp has passed; after the last stage it is 0.
func (r Ramp) Users(elapsed time.Duration) int {
	prev := 0
	var start time.Duration
	for _, s := range r {
		if elapsed < start+s.Duration {
			in := elapsed - start
			if s.Ramp > 0 && in < s.Ramp {
				return prev + int(float64(s.Users-prev)*float64(in)/float64(s.Ramp))
			}
			return s.Users
		}
		prev = s.Users
		start += s.Duration
	}
	return 0
}

// Duration implements Shape.
func (r Ramp) Duration() time.Duration {
	var d time.Duration
	for _, s := range r {
		d += s.Duration
	}
	return d
}

// MaxUsers implements Shape.
func (r Ramp) MaxUsers() int {
	m := 0
	for _, s := range r {
		m = max(m, s.Users)
	}
	return m
}

// StageEnd implements Shape. Out-of-range stages return the total duration.
func (r Ramp) StageEnd(i int) time.Duration {
	var d time.Duration
	for j, s := range r {
		d += s.Duration
		if j+1 == i {
			return d
		}
	}
	return d
}

// Scaled returns the ramp with every duration multiplied by f (--time-scale).
func (r Ramp) Scaled(f float64) Ramp {
	out := make(Ramp, len(r))
	for i, s := range r {
		out[i] = Stage{Users: s.Users, Ramp: scale(s.Ramp, f), Duration: scale(s.Duration, f)}
	}
	return out
}

func scale(d time.Duration, f float64) time.Duration {
	return time.Duration(float64(d) * f)
}
