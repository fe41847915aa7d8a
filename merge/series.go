package merge

import (
	"time"

	"github.com/planrun/planrun/results"
)

// series aligns the segments' time series on the wall clock. A segment's
// point ends at its scenario's StartedAt + T; it falls in the step of the
// merged series (the largest SeriesStep of the segments) whose end is
// nearest, counted from the earliest StartedAt. Within a step, a segment's
// points combine as consecutive points do in the engine; across segments,
// as concurrent ones (results.CombinePoints): counts and levels (users,
// connections, waiting, in flight) add up and percentiles take the
// largest (an upper bound). Past
// results.MaxSeriesPoints, neighbouring steps are merged and the step
// grows.
func series(parts []part) ([]results.Point, time.Duration) {
	var step time.Duration
	var origin time.Time
	for _, p := range parts {
		step = max(step, p.sc.SeriesStep)
		if len(p.sc.Series) > 0 && (origin.IsZero() || p.sc.StartedAt.Before(origin)) {
			origin = p.sc.StartedAt
		}
	}
	if step <= 0 || origin.IsZero() {
		return nil, step
	}
	// ends is a point's end on the merged clock, within 0..2·MaxElapsed +
	// its T: the offsets are bounded (a segment whose scenario started more
	// than MaxElapsed after the first is refused in [runs], and a zero
	// start counts as the origin), and so are T (≤ MaxElapsed + step, by
	// Validate), so the sum never overflows.
	offsets := make([]time.Duration, len(parts))
	var span time.Duration
	for k, p := range parts {
		if !p.sc.StartedAt.IsZero() {
			offsets[k] = min(max(p.sc.StartedAt.Sub(origin), 0), results.MaxElapsed)
		}
		for _, pt := range p.sc.Series {
			span = max(span, offsets[k]+min(max(pt.T, 0), 2*results.MaxElapsed))
		}
	}
	// Widen the step before bucketing when the span holds far more steps
	// than the series may keep, so that the dense series below never has
	// more than a few MaxSeriesPoints steps whatever the segments claim.
	for span/step > 2*results.MaxSeriesPoints {
		step *= 2
	}
	buckets := map[int64]results.Point{}
	var last int64
	for k, p := range parts {
		// This segment's points, by step.
		mine := map[int64]results.Point{}
		for _, pt := range p.sc.Series {
			b := (int64(offsets[k]+min(max(pt.T, 0), 2*results.MaxElapsed)) + int64(step)/2) / int64(step) // the nearest step end
			b = max(b, 1)
			if prev, ok := mine[b]; ok {
				pt = results.CombinePoints(prev, pt, results.Consecutive)
			}
			mine[b] = pt
		}
		for b, pt := range mine {
			pt.T = time.Duration(b) * step
			if prev, ok := buckets[b]; ok {
				pt = results.CombinePoints(prev, pt, results.Concurrent)
			}
			buckets[b] = pt
			last = max(last, b)
		}
	}
	var out []results.Point
	for b := int64(1); b <= last; b++ {
		if pt, ok := buckets[b]; ok {
			out = append(out, pt)
		} else {
			out = append(out, results.Point{T: time.Duration(b) * step})
		}
	}
	for len(out) > results.MaxSeriesPoints {
		halved := out[:0]
		for i := 0; i < len(out); i += 2 {
			if i+1 < len(out) {
				halved = append(halved, results.CombinePoints(out[i], out[i+1], results.Consecutive))
			} else {
				halved = append(halved, out[i])
			}
		}
		out = halved
		step *= 2
	}
	return out, step
}
