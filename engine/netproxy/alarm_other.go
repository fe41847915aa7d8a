//go:build !linux

package netproxy

// newAlarm returns a Go timer alarm: off Linux a delivery may be up to
// about a millisecond late.
func newAlarm() alarm { return newTimerAlarm() }
