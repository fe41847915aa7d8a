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
// one goroutine waits on a Go timer until close to the earliest deadline,
// then sleeps the rest in short precise slices (preciseSleep) and wakes
// every writer whose time has come.

const (
	// coarseMargin is how long before a deadline the clock stops trusting
	// a Go timer.
	coarseMargin = 1500 * time.Microsecond
	// fineSlice bounds one precise sleep, so a deadline added meanwhile
	// is late by at most this much.
	fineSlice = 200 * time.Microsecond
)

// clock wakes waiters at their deadlines.
type clock struct {
	mu      sync.Mutex
	waiters waiterHeap
	kick    chan struct{} // a new earliest deadline; buffered 1
	stop    chan struct{} // closed to end run
}

type waiter struct {
	at   time.Time
	wake chan<- struct{} // buffered 1; sent to without blocking
}

func newClock() *clock {
	return &clock{kick: make(chan struct{}, 1), stop: make(chan struct{})}
}

// wakeAt sends on wake (buffered 1) once at has passed.
func (c *clock) wakeAt(at time.Time, wake chan<- struct{}) {
	c.mu.Lock()
	heap.Push(&c.waiters, waiter{at: at, wake: wake})
	first := c.waiters[0].wake == wake
	c.mu.Unlock()
	if first {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
}

// run wakes waiters until stop is closed.
func (c *clock) run() {
	defer lockPreciseThread()()
	coarse := time.NewTimer(time.Hour)
	coarse.Stop()
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		next, ok := c.wakeDue()
		if !ok {
			select {
			case <-c.kick:
			case <-c.stop:
				return
			}
			continue
		}
		wait := time.Until(next)
		switch {
		case wait <= 0:
		case wait > coarseMargin:
			coarse.Reset(wait - coarseMargin)
			select {
			case <-coarse.C:
			case <-c.kick:
				coarse.Stop()
			case <-c.stop:
				coarse.Stop()
				return
			}
		default:
			preciseSleep(min(wait, fineSlice))
		}
	}
}

// wakeDue wakes every waiter whose time has come and returns the next
// deadline, if any.
func (c *clock) wakeDue() (next time.Time, ok bool) {
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
	if len(c.waiters) == 0 {
		return time.Time{}, false
	}
	return c.waiters[0].at, true
}

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
