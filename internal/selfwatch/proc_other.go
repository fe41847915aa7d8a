//go:build !linux

package selfwatch

import "time"

// treeCPU needs /proc; elsewhere the server's CPU is not known.
func treeCPU(root int) time.Duration { return -1 }

type machineTimes struct {
	busy, total int64
	ok          bool
}

// readMachineTimes needs /proc/stat; elsewhere the machine's CPU is not known.
func readMachineTimes() machineTimes { return machineTimes{} }
