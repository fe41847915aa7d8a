package servicewatch

import (
	"sort"

	"github.com/planrun/planrun/results"
)

// window accumulates the samples of the measured window: a count of
// samples at each level (exact quantiles in memory bounded by the highest
// level, whatever the watch's length).
type window struct {
	n         int
	backends  levels
	inUse     levels
	lockWaits int
	headroom  int // the fewest free slots; meaningful once n > 0
}

func (w *window) add(s Sample) {
	if w.n == 0 || s.Headroom < w.headroom {
		w.headroom = s.Headroom
	}
	w.n++
	w.backends.add(s.Backends)
	w.inUse.add(s.InUse)
	w.lockWaits = max(w.lockWaits, s.LockWaits)
}

// levels counts samples by level.
type levels struct {
	at  []int // at[l]: samples at level l
	n   int
	sum int
}

func (l *levels) add(v int) {
	v = max(v, 0)
	for len(l.at) <= v {
		l.at = append(l.at, 0)
	}
	l.at[v]++
	l.n++
	l.sum += v
}

// level is the max, the mean and the p95 (the lowest level at or below
// which at least 95 % of the samples were); zeros without samples.
func (l *levels) level() results.ServiceLevel {
	if l.n == 0 {
		return results.ServiceLevel{}
	}
	out := results.ServiceLevel{Mean: float64(l.sum) / float64(l.n), P95: -1}
	seen := 0
	for v, c := range l.at {
		if c == 0 {
			continue
		}
		seen += c
		out.Max = v
		if out.P95 < 0 && float64(seen) >= 0.95*float64(l.n) {
			out.P95 = v
		}
	}
	return out
}

// sortedOpen is the held leaks not yet closed, by pid.
func (w *Watcher) sortedOpen() []*results.ServiceLeak {
	out := make([]*results.ServiceLeak, 0, len(w.open))
	for _, l := range w.open {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}
