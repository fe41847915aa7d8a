package pool

import "time"

// Stats is a snapshot of a pool: gauges of now and counters since [New].
type Stats struct {
	// InUse is the number of connections checked out by users, or being
	// pinged or closed by the pool.
	InUse int
	// Idle is the number of connections idle in the pool.
	Idle int
	// Total is InUse + Idle + Constructing: the connections open, being
	// opened or being closed. At most Size+MaxOverflow.
	Total int
	// Constructing is the number of connections being opened.
	Constructing int
	// Waiting is the number of Acquire calls not yet served: every call that
	// has begun and not returned, whatever the pool's state when it began
	// (taking an idle connection, opening one, or queued).
	Waiting int
	// MaxOpen is the peak of open connections since New.
	MaxOpen int

	// Exhausted tells whether the pool is exhausted now: all
	// Size+MaxOverflow connections are checked out (or being opened or
	// closed) and at least one Acquire is queued for one.
	Exhausted bool
	// ExhaustedTotal is the time the pool has been exhausted since New,
	// including the ongoing period up to this snapshot (nanoseconds, as a
	// time.Duration).
	ExhaustedTotal time.Duration
	// ExhaustionEvents counts the periods of exhaustion begun since New,
	// the ongoing one included.
	ExhaustionEvents int64
	// ExhaustedLongest is the longest period of exhaustion since New,
	// including the ongoing one (time.Duration).
	ExhaustedLongest time.Duration

	// Opened counts successful connects.
	Opened int64
	// ConnectFailures counts failed connects.
	ConnectFailures int64
	// Acquires counts successful Acquire calls.
	Acquires int64
	// Timeouts counts Acquire calls that failed with ErrTimeout.
	Timeouts int64
	// Unreachable counts Acquire calls that failed with ErrConnect after
	// waiting Timeout for a connect attempt while the pool backed off (no
	// attempt of their own: not in ConnectFailures).
	Unreachable int64
	// BackingOff tells whether the pool is backing off after a failed
	// connect now; UnreachableSince is when the failure that started it
	// came (zero when not backing off).
	BackingOff       bool
	UnreachableSince time.Time

	// ClosedRecycled counts connections closed for being older than Recycle.
	ClosedRecycled int64
	// ClosedOverflow counts connections closed on return because Size were
	// idle already.
	ClosedOverflow int64
	// ClosedBroken counts connections closed because they were unusable: a
	// failed pre-ping, or released closed, busy, or inside a transaction.
	ClosedBroken int64
	// ClosedEnd counts connections closed by Close.
	ClosedEnd int64
}

// Stats returns the pool's gauges and counters: a copy taken under the
// pool's lock, cheap enough to call often.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{
		InUse:            p.open - p.idle.n - p.opening,
		Idle:             p.idle.n,
		Total:            p.open,
		Constructing:     p.opening,
		Waiting:          int(p.waiting.Load()),
		MaxOpen:          p.maxOpen,
		Exhausted:        p.queue.head != nil,
		ExhaustedTotal:   p.exhaustedTotal,
		ExhaustionEvents: p.exhaustionEvents,
		ExhaustedLongest: p.exhaustedLongest,
		Opened:           p.opened,
		ConnectFailures:  p.connectFailures,
		Acquires:         p.acquires,
		Timeouts:         p.timeouts,
		Unreachable:      p.unreachableFailures,
		BackingOff:       p.backingOff(),
		UnreachableSince: p.downSince,
		ClosedRecycled:   p.closedRecycled,
		ClosedOverflow:   p.closedOverflow,
		ClosedBroken:     p.closedBroken,
		ClosedEnd:        p.closedEnd,
	}
	if s.Exhausted {
		d := time.Since(p.exhaustedSince)
		s.ExhaustedTotal += d
		s.ExhaustedLongest = max(s.ExhaustedLongest, d)
	}
	return s
}

// RestartExhaustion starts the exhaustion figures of [Stats] afresh, as if
// the pool had been created now: ExhaustedTotal, ExhaustionEvents and
// ExhaustedLongest count from this call on (an ongoing period counts as one
// event beginning now). The engine calls it at the end of a warm-up.
func (p *Pool) RestartExhaustion() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exhaustedTotal, p.exhaustedLongest, p.exhaustionEvents = 0, 0, 0
	if p.queue.head != nil {
		p.exhaustedSince = time.Now()
		p.exhaustionEvents = 1
	}
}
