// Package measure holds the engine's measures that need nothing of a
// running scenario but their inputs: the pools' busy levels integrated
// exactly into utilization (Levels), the recovery after a stage or a fault
// (Recovery, fed one Tick per pool sample), and the bounded time series
// (Series). The engine's collector feeds them; each is used by one
// goroutine (the scenario's sampler).
package measure

import (
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
)

// levelTime is how long a pool (or every replica's pools together) spent at
// each busy level (pool.LevelChange) within the measured window, which
// starts at from (the warm-up's end) and grows as changes come in: exact
// from the pool's own events, not sampled.
type levelTime struct {
	from  time.Duration   // the window's start, from the scenario's start
	at    time.Duration   // the last change seen (or from, before any)
	level int             // the level since at
	dur   []time.Duration // time in the window at each level, 0..capacity
	peak  int             // the highest level held at an instant of the window; -1: none yet
}

func newLevelTime(capacity int, from time.Duration) levelTime {
	return levelTime{from: from, dur: make([]time.Duration, capacity+1), peak: -1}
}

// set notes that the level became l at offset t (never before the last change).
func (a *levelTime) set(t time.Duration, l int) {
	a.advance(t)
	a.level = min(max(l, 0), len(a.dur)-1)
	if t >= a.from {
		a.peak = max(a.peak, a.level)
	}
}

// advance counts the current level's time up to t.
func (a *levelTime) advance(t time.Duration) {
	if t <= a.at {
		return
	}
	if t > a.from {
		a.dur[a.level] += t - max(a.at, a.from)
		a.peak = max(a.peak, a.level)
	}
	a.at = t
}

// utilization summarises the window up to end as fractions of the
// capacity: the time-weighted mean level; p95, the lowest level the pool
// was at or below for at least 95 % of the time; max, the highest level it
// reached at any instant (a change that lasted no measurable time counts).
// A window with no time in it gives zeros.
func (a *levelTime) utilization(end time.Duration) results.Utilization {
	capacity := len(a.dur) - 1
	var open time.Duration // the current level's time not yet counted
	if s := max(a.at, a.from); end > s {
		open = end - s
	}
	var total time.Duration
	for _, d := range a.dur {
		total += d
	}
	total += open
	if total <= 0 || capacity <= 0 {
		return results.Utilization{}
	}
	peak := a.peak
	if open > 0 {
		peak = max(peak, a.level)
	}
	var sum float64
	var seen time.Duration
	p95 := -1
	for l, d := range a.dur {
		if l == a.level {
			d += open
		}
		sum += float64(l) * d.Seconds()
		seen += d
		if p95 < 0 && float64(seen) >= 0.95*float64(total) {
			p95 = l
		}
	}
	cp := float64(capacity)
	return results.Utilization{
		Mean: sum / total.Seconds() / cp,
		P95:  float64(max(p95, 0)) / cp,
		Max:  float64(max(peak, 0)) / cp,
	}
}

// Levels merges the replicas' logs of busy levels in time order into
// each replica's levelTime and into the total's (the sum of their levels
// at each instant, over every replica's connections). It runs on the
// scenario's goroutine, like the collector.
type Levels struct {
	origin []time.Duration // each pool's creation, from the scenario's start
	logs   [][]pool.LevelChange
	pos    []int
	cur    []int // each replica's level now
	sum    int   // their sum
	last   time.Duration
	each   []levelTime
	total  levelTime
}

// NewLevels returns the busy levels of replicas pools of capacity
// connections each, measured from offset from (the warm-up's end).
func NewLevels(capacity, replicas int, from time.Duration) *Levels {
	l := &Levels{
		origin: make([]time.Duration, replicas),
		logs:   make([][]pool.LevelChange, replicas),
		pos:    make([]int, replicas),
		cur:    make([]int, replicas),
		total:  newLevelTime(replicas*capacity, from),
	}
	for range replicas {
		l.each = append(l.each, newLevelTime(capacity, from))
	}
	return l
}

// Take collects every replica's changes logged since the last call, at
// offset at from the scenario's start. A change logged after at (between
// the caller's clock reading and the pools' locks) is counted at at.
func (l *Levels) Take(at time.Duration, pools []*pool.Pool) {
	for i, p := range pools {
		l.logs[i] = p.TakeLevels(l.logs[i])
	}
	l.merge(at)
}

// merge counts the changes in logs, in time order (ties: replica order).
func (l *Levels) merge(at time.Duration) {
	clear(l.pos)
	for {
		next, nt := -1, time.Duration(0)
		for i, log := range l.logs {
			if l.pos[i] < len(log) {
				if t := log[l.pos[i]].At + l.origin[i]; next < 0 || t < nt {
					next, nt = i, t
				}
			}
		}
		if next < 0 {
			return
		}
		ch := l.logs[next][l.pos[next]]
		l.pos[next]++
		t := min(max(nt, l.last), at)
		l.last = t
		lv := int(ch.Level)
		l.each[next].set(t, lv)
		l.sum += lv - l.cur[next]
		l.cur[next] = lv
		l.total.set(t, l.sum)
	}
}

// Created notes that replica i's pool was created at offset at from the
// scenario's start (before it: negative); its logged changes count from there.
func (l *Levels) Created(i int, at time.Duration) { l.origin[i] = at }

// Utilization is every replica's pools together up to offset end, as
// fractions of their total capacity (see levelTime.utilization).
func (l *Levels) Utilization(end time.Duration) results.Utilization {
	return l.total.utilization(end)
}

// Replica is replica i's utilization up to offset end.
func (l *Levels) Replica(i int, end time.Duration) results.Utilization {
	return l.each[i].utilization(end)
}
