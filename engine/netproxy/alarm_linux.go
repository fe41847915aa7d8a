package netproxy

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfdAlarm is an alarm on a Linux timerfd read through Go's network
// poller: the kernel fires it on time (a timerfd has no timer slack), and
// the goroutine waiting on it wakes like one waiting on a socket, with no
// thread of its own.
type timerfdAlarm struct {
	fd   int
	file *os.File
	buf  [8]byte // the expiration count each read returns
}

// Flags of timerfd_create (linux/timerfd.h).
const (
	tfdNonblock = syscall.O_NONBLOCK
	tfdCloexec  = syscall.O_CLOEXEC
	// clockMonotonic is CLOCK_MONOTONIC, the clock of Go's monotonic time.
	clockMonotonic = 1
)

// newAlarm returns a timerfd alarm, or a Go timer alarm where the kernel
// refuses a timerfd.
func newAlarm() alarm {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return newTimerAlarm()
	}
	// A non-blocking descriptor joins the network poller: a read parks
	// the goroutine, not its thread.
	return &timerfdAlarm{fd: int(fd), file: os.NewFile(fd, "netproxy-timerfd")}
}

// itimerspec is struct itimerspec: a one-shot timer leaves interval zero.
type itimerspec struct {
	interval, value syscall.Timespec
}

func (a *timerfdAlarm) set(d time.Duration) {
	// A zero value disarms a timerfd: "at once" is one nanosecond.
	spec := itimerspec{value: syscall.NsecToTimespec(int64(max(d, 1)))}
	_, _, _ = syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(a.fd), 0,
		uintptr(unsafe.Pointer(&spec)), 0, 0, 0) // fails only on a closed descriptor
}

func (a *timerfdAlarm) wait() bool {
	_, err := a.file.Read(a.buf[:])
	return err == nil
}

func (a *timerfdAlarm) close() { _ = a.file.Close() }
