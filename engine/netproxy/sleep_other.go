//go:build !linux

package netproxy

import "time"

func lockPreciseThread() (unlock func()) { return func() {} }

// preciseSleep sleeps for d; off Linux it is a Go timer, so a delivery
// may be up to about a millisecond late.
func preciseSleep(d time.Duration) { time.Sleep(d) }
