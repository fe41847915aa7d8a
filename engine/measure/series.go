package measure

import (
	"slices"
	"time"

	"github.com/planrun/planrun/results"
)

// Series keeps the time series bounded: past results.MaxSeriesPoints
// it merges neighbouring points and doubles the step.
type Series struct {
	points  []results.Point
	base    time.Duration // the interval of the points added
	step    time.Duration // of the points kept: base, doubled each time they are merged
	pending results.Point
	npend   int
}

// NewSeries returns an empty series of points added every base.
func NewSeries(base time.Duration) *Series { return &Series{base: base, step: base} }

// Add appends the point of the next base interval.
func (s *Series) Add(p results.Point) {
	per := int(s.step / s.base)
	if s.npend == 0 {
		s.pending = p
	} else {
		s.pending = results.CombinePoints(s.pending, p, results.Consecutive)
	}
	s.npend++
	if s.npend < per {
		return
	}
	s.points = append(s.points, s.pending)
	s.npend = 0
	if len(s.points) > results.MaxSeriesPoints {
		merged := s.points[:0]
		for i := 0; i < len(s.points); i += 2 {
			if i+1 < len(s.points) {
				merged = append(merged, results.CombinePoints(s.points[i], s.points[i+1], results.Consecutive))
			} else {
				merged = append(merged, s.points[i])
			}
		}
		s.points = merged
		s.step *= 2
	}
}

// Flush appends a partial last step and returns the series.
func (s *Series) Flush() []results.Point {
	if s.npend > 0 {
		s.points = append(s.points, s.pending)
		s.npend = 0
	}
	return s.points
}

// Points returns a copy of the series so far, a partial last step
// included, and leaves the series as it was (Flush ends it): for a report
// while it still grows.
func (s *Series) Points() []results.Point {
	out := slices.Clone(s.points)
	if s.npend > 0 {
		out = append(out, s.pending)
	}
	return out
}

// Step is the interval of the points kept.
func (s *Series) Step() time.Duration { return s.step }
