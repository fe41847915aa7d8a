package schema

import "time"

// Scenario returns the scenario called name, or nil.
func (p *Plan) Scenario(name string) *Scenario {
	for i := range p.Scenarios {
		if p.Scenarios[i].Name == name {
			return &p.Scenarios[i]
		}
	}
	return nil
}

// TotalDuration is how long the scenario's load runs: Duration with users,
// the sum of the stages' durations with stages.
func (s *Scenario) TotalDuration() time.Duration {
	if len(s.Stages) == 0 {
		return s.Duration.D()
	}
	var total time.Duration
	for _, st := range s.Stages {
		total += st.Duration.D()
	}
	return total
}
