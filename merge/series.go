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
// counts and levels (users, connections, waiting, in flight) add up and
// percentiles take the largest (an upper bound). Past
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
	buckets := map[int64]results.Point{}
	var last int64
	for _, p := range parts {
		// This segment's points, by step.
		mine := map[int64]results.Point{}
		offset := p.sc.StartedAt.Sub(origin)
		for _, pt := range p.sc.Series {
			b := (int64(offset+pt.T) + int64(step)/2) / int64(step) // the nearest step end
			b = max(b, 1)
			if prev, ok := mine[b]; ok {
				pt = results.Widen(prev, pt)
			}
			mine[b] = pt
		}
		for b, pt := range mine {
			pt.T = time.Duration(b) * step
			if prev, ok := buckets[b]; ok {
				pt = across(prev, pt)
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
				halved = append(halved, results.Widen(out[i], out[i+1]))
			} else {
				halved = append(halved, out[i])
			}
		}
		out = halved
		step *= 2
	}
	return out, step
}

// across combines two segments' points of the same step: counts and levels
// add up (each segment ran its own users and pools), percentiles take the
// larger value. The step is in the warm-up when it is for both.
func across(a, b results.Point) results.Point {
	return results.Point{
		T:          a.T,
		Users:      a.Users + b.Users,
		Ops:        a.Ops + b.Ops,
		Errors:     a.Errors + b.Errors,
		AcquireP50: max(a.AcquireP50, b.AcquireP50),
		AcquireP95: max(a.AcquireP95, b.AcquireP95),
		AcquireP99: max(a.AcquireP99, b.AcquireP99),
		QueryP95:   max(a.QueryP95, b.QueryP95),
		OpP95:      max(a.OpP95, b.OpP95),
		InUse:      a.InUse + b.InUse,
		Idle:       a.Idle + b.Idle,
		Total:      a.Total + b.Total,
		Waiting:    a.Waiting + b.Waiting,
		InFlight:   a.InFlight + b.InFlight,
		Warmup:     a.Warmup && b.Warmup,
	}
}
