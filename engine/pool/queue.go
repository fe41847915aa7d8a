package pool

import "time"

// ring is the idle queue: a FIFO (or, with popNewest, a LIFO) of connections
// with a fixed capacity.
type ring struct {
	conns   []*Conn
	head, n int
}

func (r *ring) push(c *Conn) {
	r.conns[(r.head+r.n)%len(r.conns)] = c
	r.n++
}

func (r *ring) pop() *Conn {
	c := r.conns[r.head]
	r.conns[r.head] = nil
	r.head = (r.head + 1) % len(r.conns)
	r.n--
	return c
}

// popNewest takes the connection pushed last (LIFO).
func (r *ring) popNewest() *Conn {
	i := (r.head + r.n - 1) % len(r.conns)
	c := r.conns[i]
	r.conns[i] = nil
	r.n--
	return c
}

// grant is what the pool gives a waiting Acquire: a connection (fresh: just
// opened) or an error.
type grant struct {
	c     *Conn
	err   error
	fresh bool
}

// waiterState is where a waiter stands; it changes under Pool.mu.
type waiterState int

const (
	waiterIdle       waiterState = iota // not waiting on the pool
	waiterQueued                        // in the queue
	waiterBackoff                       // waiting for the next connect attempt of a backing-off pool
	waiterConnecting                    // a connection is being opened for it
	waiterGranted                       // its grant is in ch
	waiterGone                          // gave up while connecting; never reused
)

// waiter is an Acquire that has to wait. Waiters are reused: its channel and
// timer cost nothing after the first wait.
type waiter struct {
	ch      chan grant  // buffered 1: at most one grant per wait
	timer   *time.Timer // the pool timeout, armed by getWaiter
	expired bool        // timer fired; owned by the waiting goroutine

	state      waiterState // under Pool.mu
	prev, next *waiter     // in the queue; under Pool.mu
}

// getWaiter returns an idle waiter with its timer armed for the pool timeout.
func (p *Pool) getWaiter() *waiter {
	if w, ok := p.waiters.Get().(*waiter); ok {
		w.expired = false
		w.timer.Reset(p.timeout)
		return w
	}
	return &waiter{ch: make(chan grant, 1), timer: time.NewTimer(p.timeout)}
}

// putWaiter keeps w for reuse when nothing else can refer to it: it got its
// grant or left the queue. nil is ignored.
func (p *Pool) putWaiter(w *waiter) {
	if w == nil || w.state == waiterGone {
		return
	}
	w.timer.Stop()
	w.state = waiterIdle
	p.waiters.Put(w)
}

// waitQueue is a FIFO of waiters, linked through them: push and remove are
// O(1) and allocate nothing.
type waitQueue struct {
	head, tail *waiter
}

func (q *waitQueue) push(w *waiter) {
	w.prev, w.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
}

func (q *waitQueue) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next = nil, nil
}
