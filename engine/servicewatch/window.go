package servicewatch

import (
	"sort"
	"time"

	"github.com/planrun/planrun/results"
)

// window accumulates the samples of a span of the watch: a count of
// samples at each level (exact quantiles in memory bounded by the highest
// level, whatever the span's length), the extremes, and what happened in
// it: saturation episodes under way, leaks ended, samples missed.
type window struct {
	n         int
	backends  levels
	inUse     levels
	lockWaits int
	headroom  int // the fewest free slots; meaningful once n > 0
	idleMax   time.Duration
	// The saturation episodes under way in the span: the first and the
	// last by number (episodes are numbered from 1 in the order they
	// begin, so every one between them was in the span too; 0: none), and
	// the longest, as long as it had lasted at its last moment in the span.
	firstEpisode, lastEpisode int
	longest                   time.Duration
	leaks                     int // held leaks that ended in the span
	missed                    int
}

// add counts a sample; episode is the number of the saturation episode
// under way at it (0 when the pool is below capacity) and length how
// long it has lasted.
func (w *window) add(s Sample, episode int, length time.Duration) {
	if w.n == 0 || s.Headroom < w.headroom {
		w.headroom = s.Headroom
	}
	w.n++
	w.backends.add(s.Backends)
	w.inUse.add(s.InUse)
	w.lockWaits = max(w.lockWaits, s.LockWaits)
	w.idleMax = max(w.idleMax, s.OldestIdleInTransaction)
	w.saturated(episode, length)
}

// saturated notes that the saturation episode numbered episode was under
// way in the span and had lasted length then (0: none was).
func (w *window) saturated(episode int, length time.Duration) {
	if episode == 0 {
		return
	}
	if w.firstEpisode == 0 {
		w.firstEpisode = episode
	}
	w.lastEpisode = max(w.lastEpisode, episode)
	w.longest = max(w.longest, length)
}

// saturation is the span's saturation figures.
func (w *window) saturation() results.ServiceSaturation {
	if w.lastEpisode == 0 {
		return results.ServiceSaturation{}
	}
	return results.ServiceSaturation{Episodes: w.lastEpisode - w.firstEpisode + 1, Longest: w.longest}
}

// merge adds o's samples and events to w.
func (w *window) merge(o *window) {
	if o.n > 0 && (w.n == 0 || o.headroom < w.headroom) {
		w.headroom = o.headroom
	}
	w.n += o.n
	w.backends.merge(&o.backends)
	w.inUse.merge(&o.inUse)
	w.lockWaits = max(w.lockWaits, o.lockWaits)
	w.idleMax = max(w.idleMax, o.idleMax)
	if o.firstEpisode > 0 && (w.firstEpisode == 0 || o.firstEpisode < w.firstEpisode) {
		w.firstEpisode = o.firstEpisode
	}
	w.lastEpisode = max(w.lastEpisode, o.lastEpisode)
	w.longest = max(w.longest, o.longest)
	w.leaks += o.leaks
	w.missed += o.missed
}

// levels counts samples by level.
type levels struct {
	at  []int // at[l]: samples at level l
	n   int
	sum int
}

func (l *levels) add(v int) {
	v = max(v, 0)
	l.grow(v)
	l.at[v]++
	l.n++
	l.sum += v
}

// grow makes room for level v.
func (l *levels) grow(v int) {
	for len(l.at) <= v {
		l.at = append(l.at, 0)
	}
}

func (l *levels) merge(o *levels) {
	if len(o.at) > 0 {
		l.grow(len(o.at) - 1)
	}
	for v, c := range o.at {
		l.at[v] += c
	}
	l.n += o.n
	l.sum += o.sum
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

// recentSlices is how many slices a rolling window is cut into: its
// resolution is its span ÷ recentSlices (a minute for the last hour).
const recentSlices = 60

// rolling is the last span of the watch, in recentSlices slices of equal
// length on the monotonic clock from start, plus the slice under way: a
// ring whose memory does not grow with the watch's length.
type rolling struct {
	start time.Time
	slice time.Duration
	ring  [recentSlices + 1]window
	index [recentSlices + 1]int64 // the slice number each entry holds; -1: none yet
}

func newRolling(start time.Time, span time.Duration) *rolling {
	r := &rolling{start: start, slice: max(span/recentSlices, time.Millisecond)}
	for i := range r.index {
		r.index[i] = -1
	}
	return r
}

// number is the slice t falls in.
func (r *rolling) number(t time.Time) int64 { return int64(max(t.Sub(r.start), 0) / r.slice) }

// at is the slice of t, emptied first when it last held an older one.
func (r *rolling) at(t time.Time) *window {
	k := r.number(t)
	i := k % int64(len(r.ring))
	if r.index[i] != k {
		r.ring[i], r.index[i] = window{}, k
	}
	return &r.ring[i]
}

// sum merges the slice under way at now and the recentSlices before it:
// between span and span + one slice of the latest samples.
func (r *rolling) sum(now time.Time) window {
	k := r.number(now)
	var out window
	for i, idx := range r.index {
		if idx >= 0 && idx <= k && idx >= k-recentSlices {
			out.merge(&r.ring[i])
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
