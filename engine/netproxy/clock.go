package netproxy

import (
	"container/heap"
	"sync"
	"time"
)

// Go's timers wake an idle process with millisecond granularity (the
// runtime rounds a sub-millisecond wait up to 1 ms), which would add up to
// a millisecond to every delayed chunk: 5 ms of latency would become about
// 6.5 ms. The clock keeps delivery times to within tens of microseconds:
// one goroutine waits on an alarm (alarm_linux.go: a timerfd in Go's
// network poller, which the kernel fires on time, without slack) set to
// the earliest deadline, and wakes every writer whose time has come. A new
// earlier deadline moves the alarm; nothing wakes between deadlines.

// clock wakes waiters at their deadlines.
type clock struct {
	mu      sync.Mutex
	waiters waiterHeap
	alarm   alarm // set under mu
	closed  bool  // under mu: the alarm is closed
}

type waiter struct {
	at   time.Time
	wake chan<- struct{} // buffered 1; sent to without blocking
}

func newClock() *clock {
	return &clock{alarm: newAlarm()}
}

// wakeAt sends on wake (buffered 1) once at has passed.
func (c *clock) wakeAt(at time.Time, wake chan<- struct{}) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return // the proxy is closed: so is every pair, and nobody waits for wake
	}
	heap.Push(&c.waiters, waiter{at: at, wake: wake})
	if c.waiters[0].wake == wake {
		c.alarm.set(time.Until(at))
	}
	c.mu.Unlock()
}

// run wakes waiters until close.
func (c *clock) run() {
	for c.alarm.wait() {
		c.wakeDue()
	}
}

// close ends run and frees the alarm.
func (c *clock) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.alarm.close()
}

// wakeDue wakes every waiter whose time has come and sets the alarm to the
// next deadline, if any.
func (c *clock) wakeDue() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for len(c.waiters) > 0 && !c.waiters[0].at.After(now) {
		w := heap.Pop(&c.waiters).(waiter)
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if len(c.waiters) > 0 && !c.closed {
		c.alarm.set(c.waiters[0].at.Sub(now))
	}
}

// alarm fires once after the time it was last set to; a new set replaces
// the previous one. set may be called from any goroutine; wait from one.
type alarm interface {
	// set arms the alarm to fire after d (at once when d ≤ 0).
	set(d time.Duration)
	// wait blocks until the alarm fires and reports true, or until close
	// and reports false.
	wait() bool
	// close ends every wait.
	close()
}

// timerAlarm is an alarm on a Go timer: precise while the process is busy,
// up to about a millisecond late when it is idle.
type timerAlarm struct {
	t    *time.Timer
	done chan struct{}
	once sync.Once
}

func newTimerAlarm() *timerAlarm {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerAlarm{t: t, done: make(chan struct{})}
}

func (a *timerAlarm) set(d time.Duration) { a.t.Reset(max(d, 0)) }

func (a *timerAlarm) wait() bool {
	select {
	case <-a.t.C:
		return true
	case <-a.done:
		return false
	}
}

func (a *timerAlarm) close() { a.once.Do(func() { close(a.done) }) }

// waiterHeap orders waiters by deadline, earliest first.
type waiterHeap []waiter

func (h waiterHeap) Len() int           { return len(h) }
func (h waiterHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h waiterHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waiterHeap) Push(x any)        { *h = append(*h, x.(waiter)) }
func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = waiter{}
	*h = old[:len(old)-1]
	return w
}
