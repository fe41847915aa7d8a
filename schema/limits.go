package schema

import (
	"strings"
	"time"
)

// Limits on what a plan may ask for, so that no plan file, however written,
// makes planrun overflow, hang or exhaust the machine. docs/plan-format.md
// ("Limits") lists them.
const (
	// MaxPlanSize is the largest plan file Load and Parse read, in bytes.
	MaxPlanSize = 4 << 20
	// MaxLoad bounds how long a plan's load lasts: each scenario's duration
	// (the sum of its stages), and all scenarios together, after --time-scale.
	MaxLoad = 1000 * time.Hour
	// MaxPause bounds a think time and a hold: they are pauses inside an
	// operation loop, not phases of a run.
	MaxPause = 24 * time.Hour
)

// durText renders a limit or a written duration without Go's trailing zero
// units: 1000h, 24h, 1h30m, 90s.
func durText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
