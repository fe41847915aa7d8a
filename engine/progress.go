package engine

import "time"

// Progress is a scenario's state, reported once a second while it runs.
type Progress struct {
	Scenario     string
	Index, Count int // 1-based scenario number, number of scenarios
	Elapsed      time.Duration
	Planned      time.Duration
	// Users is the number of active users; MaxUsers the shape's peak.
	Users, MaxUsers int
	// Ops and Errors are totals so far; OpsPerSec is the last second's rate.
	Ops, Errors int64
	OpsPerSec   float64
	// AcquireP95 is the last second's acquire p95.
	AcquireP95 time.Duration
	// Pool gauges at the last sample; Capacity is size + max_overflow.
	InUse, Idle, Total, Waiting, Capacity int
	// Open is set for an open-model scenario, which also reports its target
	// rate now and the rate of operations that ran in the last second
	// (arrivals per second; dropped ones left out), and its unfinished
	// operations (Users is then the same count, MaxUsers max_in_flight).
	Open                     bool
	TargetRate, AchievedRate float64
	InFlight                 int
}
