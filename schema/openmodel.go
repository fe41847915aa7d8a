package schema

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/planrun/planrun/internal/humanize"
)

// expectedArrivals is the number of arrivals an open-model scenario
// schedules in all, as written (before --time-scale): the integral of its
// rate, a stage ramping linearly from the previous stage's rate (0 before
// the first) over its ramp and holding for the rest of its duration, as
// the engine schedules them.
func expectedArrivals(s *Scenario) float64 {
	if len(s.Stages) == 0 {
		return float64(s.Rate) * s.Duration.D().Seconds()
	}
	total, prev := 0.0, 0.0
	for _, st := range s.Stages {
		d := st.Duration.D()
		ramp := min(st.Ramp.D(), d)
		total += (prev+float64(st.Rate))/2*ramp.Seconds() + float64(st.Rate)*(d-ramp).Seconds()
		prev = float64(st.Rate)
	}
	return total
}

// openArrivals refuses a uniform open-model scenario that schedules less
// than one arrival in all: uniform arrivals are 1/rate apart, the first
// at the start, and a total under one makes that one arrival or, within
// rounding of 0 (`rate: 1e-300/s`), none: either way not a rate. A Poisson one is left alone:
// fewer arrivals than one on average is a plausible, if odd, experiment.
func (v *validator) openArrivals(s *Scenario, label string) {
	if s.Arrival != ArrivalUniform || !v.m.ok(&s.Rate) || !v.m.ok(&s.Stages) || !v.m.ok(&s.Duration) {
		return
	}
	n := expectedArrivals(s)
	if n <= 0 || n >= 1 || math.IsNaN(n) {
		return
	}
	ptr, at := any(&s.Rate), "the rate schedules"
	if len(s.Stages) > 0 {
		ptr, at = &s.Stages, "the stages schedule"
	}
	total := s.TotalDuration()
	v.errs.Add(v.m.at(ptr, s.Pos),
		fmt.Sprintf("uniform arrivals are 1/rate apart: for one arrival in %s give at least %s (or lengthen the scenario, or use `arrival: poisson`)",
			humanize.Exact(total), minRate(total)),
		"%s: %s %s arrivals in all, less than one", label, at, strconv.FormatFloat(n, 'g', 3, 64))
}

// minRate is the rate of one arrival in d, written as a plan writes it.
func minRate(d time.Duration) string {
	if d <= 0 {
		return "`1/s`"
	}
	perMinute := 60 / d.Seconds()
	if perMinute >= 1 {
		return "`" + strconv.FormatFloat(math.Ceil(perMinute*1000)/1000, 'f', -1, 64) + "/m`"
	}
	return "`" + strconv.FormatFloat(math.Ceil(perMinute*1e6)/1e6, 'f', -1, 64) + "/m`"
}
