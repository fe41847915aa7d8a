package netproxy

import (
	"runtime"
	"syscall"
	"time"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// lockPreciseThread pins the calling goroutine to its thread and asks the
// kernel to end that thread's sleeps within 1 µs of their time rather than
// the default 50 µs. Call it once, from the goroutine that calls
// preciseSleep.
func lockPreciseThread() {
	runtime.LockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1000, 0)
}

// preciseSleep blocks the calling thread for d with the kernel's
// precision, unlike a Go timer.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil) // EINTR only shortens the sleep
}
