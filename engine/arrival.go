package engine

import (
	"math"
	mrand "math/rand/v2"
	"time"
)

// rateStage is one step of an open-model profile: ramp linearly from the
// previous rate (0 before the first stage) to Rate over Ramp, then hold Rate
// until Duration (which includes Ramp) has passed.
type rateStage struct {
	Rate     float64 // arrivals per second, ≥ 0
	Ramp     time.Duration
	Duration time.Duration
}

// arrivalProcess is how arrivals are spread at a given rate.
type arrivalProcess struct {
	// uniform: fixed spacing of 1/rate; otherwise Poisson.
	uniform bool
	// phase, in [0, 1), shifts a uniform process: its k-th arrival (from 0)
	// is where k + phase arrivals are due, so the first is at 0 when phase
	// is 0. Segment i of N runs phase (i−1)/N at rate/N, so that the N
	// segments' arrivals interleave into the whole plan's (see segment.go).
	phase float64
}

var (
	// arrivePoisson: independent clients; exponential gaps with mean 1/rate.
	arrivePoisson = arrivalProcess{}
	// arriveUniform: fixed spacing of 1/rate, the first arrival at 0.
	arriveUniform = arrivalProcess{uniform: true}
)

// rateSegment is a piece of the profile on which the rate is linear:
// rate(t) = r0 + slope·(t − t0) for t0 ≤ t < t1 (seconds from the start).
// lambda0 is the expected number of arrivals before t0 (the integral of the
// rate), lambda1 the same at t1.
type rateSegment struct {
	t0, t1           float64
	r0, slope        float64
	lambda0, lambda1 float64
}

// schedule gives the arrival times of an open-model scenario, in order. It is
// a pure function of the profile, the process and the random source, so it
// is tested without a clock.
//
// Arrivals are placed by inverting the cumulative rate Λ(t): the k-th arrival
// is at Λ⁻¹(x_k), where x_k = k for a uniform process (so the first arrival
// is at 0) and a sum of k unit exponentials for a Poisson one (a
// non-homogeneous Poisson process by time change). Λ is piecewise quadratic,
// so its inverse is exact; there is no simulation step to get wrong.
type schedule struct {
	segments []rateSegment
	process  arrivalProcess
	rng      *mrand.Rand
	at       int     // the segment the last arrival fell in
	next     float64 // x of the next arrival
}

// newSchedule returns the schedule of profile under process, drawing from
// rng (used by a Poisson process only).
func newSchedule(profile []rateStage, process arrivalProcess, rng *mrand.Rand) *schedule {
	s := &schedule{process: process, rng: rng}
	var t, rate, lambda float64
	add := func(d time.Duration, to float64) {
		if d <= 0 {
			return
		}
		secs := d.Seconds()
		seg := rateSegment{t0: t, t1: t + secs, r0: rate, slope: (to - rate) / secs, lambda0: lambda}
		lambda += (rate + to) / 2 * secs
		seg.lambda1 = lambda
		s.segments = append(s.segments, seg)
		t, rate = seg.t1, to
	}
	for _, st := range profile {
		ramp := min(st.Ramp, st.Duration)
		add(ramp, st.Rate)
		rate = st.Rate // a stage without a ramp steps
		add(st.Duration-ramp, st.Rate)
	}
	if process.uniform {
		s.next = process.phase
	} else {
		s.next = rng.ExpFloat64()
	}
	return s
}

// expected is the expected number of arrivals of the whole profile.
func (s *schedule) expected() float64 {
	if len(s.segments) == 0 {
		return 0
	}
	return s.segments[len(s.segments)-1].lambda1
}

// endSlack is how close to the profile's total (in arrivals) an arrival
// counts as at its end, and is not made: the total is a sum of rounded
// products, so a uniform segment's last arrival, due exactly at the end
// (phase (i−1)/N), would otherwise be made or not by rounding.
const endSlack = 1e-9

// Next returns the offset from the scenario's start of the next arrival, and
// false once the profile has ended.
func (s *schedule) Next() (time.Duration, bool) {
	x := s.next
	for s.at < len(s.segments) && x >= s.segments[s.at].lambda1 {
		s.at++
	}
	if s.at == len(s.segments) || s.at == len(s.segments)-1 && x >= s.segments[s.at].lambda1-endSlack {
		return 0, false
	}
	seg := s.segments[s.at]
	// Solve r0·dt + slope·dt²/2 = x − lambda0 for dt ≥ 0, in the form that
	// stays exact when slope is 0 or r0 is 0.
	dl := x - seg.lambda0
	root := math.Sqrt(max(0, seg.r0*seg.r0+2*seg.slope*dl))
	dt := 0.0
	if seg.r0+root > 0 {
		dt = 2 * dl / (seg.r0 + root)
	}
	if s.process.uniform {
		s.next++
	} else {
		s.next += s.rng.ExpFloat64()
	}
	return time.Duration(min(seg.t0+dt, seg.t1) * float64(time.Second)), true
}
