package schema

import (
	"math"
	"time"
)

// Scenario returns the scenario called name, or nil.
func (p *Plan) Scenario(name string) *Scenario {
	for i := range p.Scenarios {
		if p.Scenarios[i].Name == name {
			return &p.Scenarios[i]
		}
	}
	return nil
}

// OpenModel reports whether the scenario is an open model: it gives `rate`,
// or `stages` with `rate`. Operations then start at scheduled arrivals,
// whatever earlier ones are doing. After [Load], an open scenario always has
// Arrival and MaxInFlight set (defaults applied) and a closed one neither.
func (s *Scenario) OpenModel() bool {
	if s.Rate > 0 || s.Arrival != "" {
		return true
	}
	for _, st := range s.Stages {
		if st.Rate > 0 {
			return true
		}
	}
	return false
}

// TotalDuration is how long the scenario's load runs: Duration with users,
// the sum of the stages' durations with stages. A sum too long for a
// time.Duration is math.MaxInt64 (a loaded plan lasts at most [MaxLoad]).
func (s *Scenario) TotalDuration() time.Duration {
	if len(s.Stages) == 0 {
		return s.Duration.D()
	}
	var total time.Duration
	for _, st := range s.Stages {
		if d := st.Duration.D(); d > 0 && total > math.MaxInt64-d {
			return math.MaxInt64
		}
		total += st.Duration.D()
	}
	return total
}

// LeakThreshold is how long a checkout may be held in scenario s before it
// counts as a leak: pool.leak_threshold, or the scenario's duration as
// written when that is 0. --time-scale never changes it: a rehearsal must
// not report a leak that the plan as written would not.
func (p *Plan) LeakThreshold(s *Scenario) time.Duration {
	if t := p.Pool.LeakThreshold.D(); t > 0 {
		return t
	}
	return s.TotalDuration()
}
