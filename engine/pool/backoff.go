package pool

import (
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/redact"
)

// Backoff of connection attempts after failures (see the package comment).
const (
	// backoffBase is the delay before the first attempt after a failure.
	backoffBase = 50 * time.Millisecond
	// backoffMax caps the delay, and so does the pool timeout when shorter:
	// an Acquire waiting for the next attempt never waits a whole pool
	// timeout without one being made.
	backoffMax = time.Second
)

// MaxAttemptRate is the most connection attempts per second one pool with
// [Config.Timeout] timeout makes once its backoff delay is capped:
// 2/min(timeout, 1s), since attempts are then at least min(timeout, 1s)/2
// apart. Over an outage of T seconds a pool makes at most
// Size+MaxOverflow (the attempts under way when the server went) + 6 (while
// the delay doubles) + T·MaxAttemptRate attempts.
func MaxAttemptRate(timeout time.Duration) float64 {
	return 2 / min(timeout, backoffMax).Seconds()
}

// backingOff reports whether the pool is backing off after a failed
// connect, under p.mu.
func (p *Pool) backingOff() bool { return !p.downSince.IsZero() }

// connectFailed does the backoff's bookkeeping of a failed connect that
// started at start and ended at now, under p.mu, and returns the error the
// Acquire that asked for it gets. A failure while not backing off starts
// the backoff; each failed probe doubles its delay up to its cap. A failure
// of a connect that started before the success that ended the last backoff
// tells nothing new (it tried while the server was down): it is counted,
// nothing more.
//
// Connects overlap, so the outcome of one is news only against the pool's
// last change of mind: a failure after the backoff last ended (above), a
// success after it began (connectSucceeded), whatever other connects did
// meanwhile. Taking any success as the reference instead let the failures
// of the connects under way when the server went be ignored whenever one
// of them had succeeded after they started: each then freed its slot to a
// new connect instead of starting the backoff, up to twice
// Size+MaxOverflow attempts before the pool backed off.
func (p *Pool) connectFailed(err error, start, now time.Time, probe bool) error {
	p.lastConnectErr = err
	switch {
	case start.Before(p.recoveredAt):
	case !p.backingOff():
		p.downSince = now
		p.delay = backoffBase
		p.scheduleProbe(now)
	case probe:
		p.delay = min(2*p.delay, p.maxBackoff)
		p.scheduleProbe(now)
	}
	msg := "pool: open connection: " + redact.Secret(err.Error(), p.password)
	if p.backingOff() {
		msg = p.unreachable() + ": open connection: " + redact.Secret(err.Error(), p.password)
	}
	return &connectError{msg: msg, err: err}
}

// unreachable is the start of the errors of a backing-off pool, under p.mu:
// "pool: server unreachable since t=1.2s", t counted from the pool's
// creation (the engine creates one pool per scenario at its start, so t
// reads against the scenario's time series). It is the same for every
// error of one outage, so that they add up in a report rather than list.
func (p *Pool) unreachable() string {
	return "pool: server unreachable since t=" + humanize.Duration(p.downSince.Sub(p.created))
}

// scheduleProbe sets the next attempt a jittered delay after now: uniform
// in [delay/2, delay], so that attempts are at least delay/2 apart (the
// stated bound) and the pools of several replicas do not retry in step.
func (p *Pool) scheduleProbe(now time.Time) {
	half := p.delay / 2
	wait := half + time.Duration(mrand.Int64N(int64(p.delay-half)+1))
	p.nextProbe = now.Add(wait)
	if p.probeTimer == nil {
		p.probeTimer = time.AfterFunc(wait, p.probeDue)
		return
	}
	p.probeTimer.Reset(wait)
}

// probeDue runs when the next attempt is due.
func (p *Pool) probeDue() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probe()
	p.noteLevel()
}

// probe starts the next attempt, under p.mu, when the pool is backing off,
// no attempt is under way, it is due, a slot is free and an Acquire is
// waiting for it: the oldest such Acquire connects, the others keep waiting.
func (p *Pool) probe() {
	if p.closed || !p.backingOff() || p.probing || p.backoffQ.head == nil || p.open >= p.capacity || time.Now().Before(p.nextProbe) {
		return
	}
	w := p.backoffQ.head
	p.backoffQ.remove(w)
	p.open++
	p.probing = true
	p.startConnect(w, true)
}

// connectSucceeded ends the backoff on the success of a connect that
// started at start, after the backoff began, and ended at now, under p.mu:
// the Acquire calls waiting for an attempt connect at once, as many as
// there are free slots; the others queue for a connection like any Acquire
// of a busy pool. The success of a connect that started before the failure
// that began the backoff may have got through before the server went: the
// pool keeps backing off (its connection serves the waiters like any
// other), and the next attempt tells.
func (p *Pool) connectSucceeded(start, now time.Time) {
	if !p.backingOff() || start.Before(p.downSince) {
		return
	}
	p.recoveredAt = now
	p.downSince = time.Time{}
	p.delay = 0
	if p.probeTimer != nil {
		p.probeTimer.Stop()
	}
	for w := p.backoffQ.head; w != nil; w = p.backoffQ.head {
		p.backoffQ.remove(w)
		if p.closed {
			p.grant(w, grant{err: ErrClosed})
			continue
		}
		if p.open < p.capacity {
			p.open++
			p.startConnect(w, false)
			continue
		}
		p.enqueue(w)
	}
}

// waitForProbe puts w among the Acquire calls waiting for the next attempt,
// under p.mu.
func (p *Pool) waitForProbe(w *waiter) {
	w.state = waiterBackoff
	p.backoffQ.push(w)
}

// unreachableError is the error of an Acquire that waited the pool timeout
// for an attempt while the pool was backing off, under p.mu.
func (p *Pool) unreachableError() error {
	p.unreachableFailures++
	return &connectError{
		msg: fmt.Sprintf("%s: no connection within the pool timeout %s (connects back off after failures); last attempt: %s",
			p.unreachable(), humanize.Duration(p.timeout), redact.Secret(p.lastConnectErr.Error(), p.password)),
		err: p.lastConnectErr,
	}
}
