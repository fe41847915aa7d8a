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
// then sleeps the rest in short precise slices (preciseSleep). When a
// deadline passes it delivers the pipe's due chunks itself, with writes
// that do not block (pipe.flush), or wakes the writer goroutine that
// waits for it. Delivering on the clock's own thread saves, per chunk, two
// hand-overs between goroutines (reader to writer, clock to writer), each
// a wake-up of a parked goroutine, which were most of the proxy's CPU.

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
	due     []*pipe       // pipes to flush, owned by run
}

// waiter is a deadline and what to do at it: send on wake, or flush pipe.
type waiter struct {
	at   time.Time
	wake chan<- struct{} // buffered 1; sent to without blocking
	pipe *pipe
}

func newClock() *clock {
	return &clock{kick: make(chan struct{}, 1), stop: make(chan struct{})}
}

// wakeAt sends on wake (buffered 1) once at has passed.
func (c *clock) wakeAt(at time.Time, wake chan<- struct{}) {
	c.add(waiter{at: at, wake: wake})
}

// flushAt calls pp.flush on the clock's thread once at has passed.
func (c *clock) flushAt(at time.Time, pp *pipe) {
	c.add(waiter{at: at, pipe: pp})
}

func (c *clock) add(w waiter) {
	c.mu.Lock()
	heap.Push(&c.waiters, w)
	first := !c.waiters[0].at.Before(w.at)
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

// wakeDue wakes every waiter whose time has come, flushes every pipe
// whose time has come, and returns the next deadline, if any.
func (c *clock) wakeDue() (next time.Time, ok bool) {
	c.mu.Lock()
	now := time.Now()
	for len(c.waiters) > 0 && !c.waiters[0].at.After(now) {
		w := heap.Pop(&c.waiters).(waiter)
		if w.pipe != nil {
			c.due = append(c.due, w.pipe)
			continue
		}
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	if len(c.due) > 0 {
		// Flushed without the lock: a write takes microseconds, and
		// readers add deadlines meanwhile.
		c.mu.Unlock()
		for i, pp := range c.due {
			c.due[i] = nil
			if at, again := pp.flush(); again {
				c.mu.Lock()
				heap.Push(&c.waiters, waiter{at: at, pipe: pp})
				c.mu.Unlock()
			}
		}
		c.due = c.due[:0]
		c.mu.Lock()
	}
	defer c.mu.Unlock()
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
