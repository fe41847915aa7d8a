package netproxy

import "time"

// ConnStats counts the connections through the proxy over its life: when a
// service's pool reaches its database through the proxy, these are that
// pool's connections, counted exactly (every open and close, with the
// time between them), summed over the service's processes.
type ConnStats struct {
	// Opened and Closed count the connections accepted and closed since
	// the proxy started.
	Opened, Closed int64
	// Open is how many are open now.
	Open int
	// Since and Until bound the time the figures below cover.
	Since, Until time.Time
	// TimeAt[n] is how long exactly n connections were open between Since
	// and Until.
	TimeAt []time.Duration
}

// connLevels accounts the open connections; the proxy's mu guards it.
type connLevels struct {
	opened, closed int64
	open           int
	since, last    time.Time
	at             []time.Duration
}

func newConnLevels(now time.Time) connLevels {
	return connLevels{since: now, last: now}
}

// advance adds the time from the last change to now at the current level.
func (l *connLevels) advance(now time.Time) {
	if d := now.Sub(l.last); d > 0 {
		for len(l.at) <= l.open {
			l.at = append(l.at, 0)
		}
		l.at[l.open] += d
		l.last = now
	}
}

// opens records a connection accepted at now; closes one closed.
func (l *connLevels) opens(now time.Time) {
	l.advance(now)
	l.open++
	l.opened++
}

func (l *connLevels) closes(now time.Time) {
	l.advance(now)
	l.open--
	l.closed++
}

// ConnStats returns the proxy's connection counts and the time spent at
// each number of open connections, from its start to now.
func (p *Proxy) ConnStats() ConnStats {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.levels.advance(now)
	return ConnStats{
		Opened: p.levels.opened, Closed: p.levels.closed, Open: p.levels.open,
		Since: p.levels.since, Until: now,
		TimeAt: append([]time.Duration(nil), p.levels.at...),
	}
}

// Minus returns the figures of the window from earlier to s: counts and
// time at each level within it. earlier must come from the same proxy.
func (s ConnStats) Minus(earlier ConnStats) ConnStats {
	out := ConnStats{Opened: s.Opened - earlier.Opened, Closed: s.Closed - earlier.Closed, Open: s.Open, Since: earlier.Until, Until: s.Until}
	out.TimeAt = append([]time.Duration(nil), s.TimeAt...)
	for n, d := range earlier.TimeAt {
		out.TimeAt[n] -= d
	}
	return out
}

// Max is the most connections open at once for any time in the window.
func (s ConnStats) Max() int {
	for n := len(s.TimeAt) - 1; n >= 0; n-- {
		if s.TimeAt[n] > 0 {
			return n
		}
	}
	return s.Open
}

// Mean is the time-weighted mean of the open connections.
func (s ConnStats) Mean() float64 {
	var total time.Duration
	var weighted float64
	for n, d := range s.TimeAt {
		total += d
		weighted += float64(n) * float64(d)
	}
	if total <= 0 {
		return float64(s.Open)
	}
	return weighted / float64(total)
}

// Quantile is the lowest number of open connections that the proxy was at
// or below for fraction q (0..1) of the window's time.
func (s ConnStats) Quantile(q float64) int {
	var total time.Duration
	for _, d := range s.TimeAt {
		total += d
	}
	if total <= 0 {
		return s.Open
	}
	var below time.Duration
	for n, d := range s.TimeAt {
		below += d
		if float64(below) >= q*float64(total) {
			return n
		}
	}
	return len(s.TimeAt) - 1
}
