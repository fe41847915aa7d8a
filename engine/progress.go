package engine

import (
	"fmt"
	"time"
)

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
}

// fmtDuration renders a duration for log lines (3 significant digits).
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.3gµs", float64(d)/1e3)
	}
}
