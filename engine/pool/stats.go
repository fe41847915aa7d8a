package pool

// Stats is a snapshot of a pool: gauges of now and counters since [New].
type Stats struct {
	// InUse is the number of connections handed out by pgxpool (checked out
	// by users, or being pinged or closed by the pool).
	InUse int
	// Idle is the number of connections idle in the pool.
	Idle int
	// Total is InUse + Idle + Constructing.
	Total int
	// Constructing is the number of connections being opened.
	Constructing int
	// Waiting is the number of Acquire calls blocked for a connection: calls
	// that found no idle connection and all Size+MaxOverflow open, counted
	// from the call to its return.
	Waiting int
	// MaxOpen is the peak of open connections since New.
	MaxOpen int

	// Opened counts successful connects.
	Opened int64
	// ConnectFailures counts Acquire calls that failed to open a connection.
	ConnectFailures int64
	// Acquires counts successful Acquire calls.
	Acquires int64
	// Timeouts counts Acquire calls that failed with ErrTimeout.
	Timeouts int64

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

// Stats returns the pool's gauges and counters. It calls pgxpool's Stat,
// which locks the pool and scans every connection: call it from a sampler on
// an interval (e.g. every 100 ms), never per operation.
func (p *Pool) Stats() Stats {
	s := p.pp.Stat()
	return Stats{
		InUse:           int(s.AcquiredConns()),
		Idle:            int(s.IdleConns()),
		Total:           int(s.TotalConns()),
		Constructing:    int(s.ConstructingConns()),
		Waiting:         int(p.waiting.Load()),
		MaxOpen:         int(p.maxOpen.Load()),
		Opened:          p.opened.Load(),
		ConnectFailures: p.connectFailures.Load(),
		Acquires:        p.acquires.Load(),
		Timeouts:        p.timeouts.Load(),
		ClosedRecycled:  p.closedRecycled.Load(),
		ClosedOverflow:  p.closedOverflow.Load(),
		ClosedBroken:    p.closedBroken.Load(),
		ClosedEnd:       p.closedEnd.Load(),
	}
}
