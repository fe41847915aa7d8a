package pool

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// attempt is the context of one [Pool.Acquire]: the caller's context bounded
// by [Config.Timeout], whose end on timeout has the pool's timeout error as
// its cause (like context.WithTimeoutCause). It is its own type for two
// reasons:
//
//   - pgxpool passes a context's values (not its cancellation) to the
//     connection hooks, so a connection opened for this Acquire is linked to
//     it: state tells whether the Acquire took the new connection or had
//     given up before it was ready.
//   - it is reused (sync.Pool) with its timer and channel when nothing can
//     refer to it any more: context.WithTimeoutCause cost 4 allocations and
//     about 40% of the CPU time of an uncontended acquire and release.
type attempt struct {
	pool     *Pool
	parent   context.Context
	deadline time.Time
	done     chan struct{} // closed when the attempt ends; then never reused
	timer    *time.Timer   // runs expire after Config.Timeout
	// stopParent unregisters parentDone from a cancellable parent; nil when
	// the parent cannot be cancelled.
	stopParent func() bool

	mu       sync.Mutex
	err, why error // Err and cause, set once when done is closed

	state        atomic.Int32
	connectStart time.Time // written and read by the connecting goroutine only
}

const (
	attemptWaiting     = iota // no connection opened for this call (yet)
	attemptAbandoned          // the call returned an error
	attemptConstructed        // a connection was opened for this call
)

type attemptKey struct{}

// startAttempt returns an armed attempt for parent.
func (p *Pool) startAttempt(parent context.Context) *attempt {
	a, _ := p.attempts.Get().(*attempt)
	if a == nil {
		a = &attempt{pool: p, done: make(chan struct{})}
		a.parent = parent
		a.deadline = time.Now().Add(p.timeout)
		a.timer = time.AfterFunc(p.timeout, a.expire)
	} else {
		a.parent = parent
		a.deadline = time.Now().Add(p.timeout)
		a.timer.Reset(p.timeout)
	}
	if parent.Done() != nil {
		a.stopParent = context.AfterFunc(parent, a.parentDone)
	}
	return a
}

// endAttempt disarms a and keeps it for reuse when reusable is true and
// neither its timer nor its parent has fired.
func (p *Pool) endAttempt(a *attempt, reusable bool) {
	if !a.timer.Stop() {
		reusable = false
	}
	if a.stopParent != nil && !a.stopParent() {
		reusable = false
	}
	if !reusable || a.Err() != nil {
		return
	}
	a.parent, a.stopParent = nil, nil
	a.state.Store(attemptWaiting)
	p.attempts.Put(a)
}

func (a *attempt) expire()     { a.end(context.DeadlineExceeded, a.pool.errTimeout) }
func (a *attempt) parentDone() { a.end(a.parent.Err(), context.Cause(a.parent)) }

func (a *attempt) end(err, why error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return
	}
	a.err, a.why = err, why
	close(a.done)
}

// cause is context.Cause of the attempt: the pool's timeout error when the
// pool timeout ended it, else the parent's cause; nil while it runs.
func (a *attempt) cause() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.why
}

func (a *attempt) Deadline() (time.Time, bool) {
	if d, ok := a.parent.Deadline(); ok && d.Before(a.deadline) {
		return d, true
	}
	return a.deadline, true
}

func (a *attempt) Done() <-chan struct{} { return a.done }

func (a *attempt) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

func (a *attempt) Value(key any) any {
	if _, ok := key.(attemptKey); ok {
		return a
	}
	return a.parent.Value(key)
}

func attemptOf(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	return a
}
