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
// the default 50 µs. Call it from the goroutine that calls preciseSleep,
// and call the returned unlock before that goroutine ends: it restores the
// default slack and unpins. (A goroutine that ends pinned ends its thread,
// and a child process started from that thread with Pdeathsig, such as
// localpg's server, would be signalled.)
func lockPreciseThread() (unlock func()) {
	runtime.LockOSThread()
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1000, 0)
	return func() {
		_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 0, 0) // 0: the default
		runtime.UnlockOSThread()
	}
}

// preciseSleep blocks the calling thread for d with the kernel's
// precision, unlike a Go timer.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil) // EINTR only shortens the sleep
}
