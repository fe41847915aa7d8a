// Package poolmodel predicts what a connection pool of a given size does
// under a load that a scenario measured: the acquire waits, the share of
// acquires that wait or time out, and the pool's utilization, so that a
// report can recommend a pool size.
//
// The pool is SQLAlchemy's QueuePool as planrun emulates it: up to
// Connections (size + max_overflow) connections are checked out at once; an
// acquire that finds them all busy waits in FIFO order; a waiter that has
// waited Timeout gives up (a timeout: it is never served and leaves the
// queue). Each checkout keeps its connection for a hold time drawn from the
// measured hold-time histogram.
//
// [Simulate] runs a deterministic discrete-event simulation of that queue (a
// G/G/c queue with impatience: M/G/c for Poisson arrivals); [ErlangC] is the
// closed form of the M/M/c case, a cross-check and a fallback where it is
// exact; [Smallest] finds the smallest pool that meets a target.
// docs/model.md states what is modelled and what is not.
package poolmodel

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/results"
)

// Arrival is how an open model spreads its acquires; the values are those
// of a plan's `arrival` (schema.ArrivalPoisson, schema.ArrivalUniform).
type Arrival string

// The arrival processes of an open model.
const (
	// Poisson: independent clients, exponential gaps with mean 1/Rate; the
	// first arrival one gap after the start. The default ("").
	Poisson Arrival = "poisson"
	// Uniform: fixed gaps of 1/Rate, the first arrival at the start.
	Uniform Arrival = "uniform"
)

// Workload is a scenario's load as measured. It is either an open model
// (Rate > 0) or a closed one (Users > 0), never both.
type Workload struct {
	// Rate is the open model's acquires per second. An open model's
	// arrivals do not depend on the pool's state: a slow pool does not slow
	// them down.
	Rate float64
	// Arrival is the open model's arrival process; "" is Poisson. Only
	// with Rate.
	Arrival Arrival

	// Users is the closed model's number of users: each loops think →
	// acquire → hold → release (a user whose acquire timed out thinks and
	// tries again).
	Users int
	// ThinkMin and ThinkMax bound a closed model's think time, drawn
	// uniformly from [ThinkMin, ThinkMax] (nanosecond steps) before every
	// acquire, the first included; both 0 (the default): no think time.
	ThinkMin, ThinkMax time.Duration

	// Hold is the measured hold-time distribution (acquire to release), an
	// HdrHistogram of nanoseconds as planrun records it (results.Scenario's
	// Hold carries it encoded; internal/hdr.Decode returns it). Each
	// checkout's hold is drawn from its recorded buckets, each bucket
	// standing for its median equivalent value (the value the histogram's
	// own Mean uses), in proportion to its count. Required, with at least
	// one value; it is only read.
	Hold *hdrhistogram.Histogram
}

// Config is the pool to predict.
type Config struct {
	// Connections is the number of connections that may be checked out at
	// once: size + max_overflow. At least 1.
	Connections int
	// Timeout is how long an acquire waits before it gives up; 0 (the
	// default): it waits forever.
	Timeout time.Duration
}

// Options tune a simulation. The zero value is the default.
type Options struct {
	// Acquires is the number of acquires measured, after the warm-up;
	// 0: [DefaultAcquires].
	Acquires int
	// Warmup is the number of acquires simulated first and discarded (the
	// simulation starts with an idle pool and an empty queue); 0: a tenth
	// of Acquires; negative: none.
	Warmup int
	// Seed seeds the random streams (arrival gaps, hold times and think
	// times each have their own, so that two pool sizes simulated with the
	// same seed see the same acquires with the same holds). The same
	// inputs and seed give the same Prediction. Default 0, a valid seed.
	Seed uint64
}

// DefaultAcquires is the number of acquires a simulation measures when
// Options.Acquires is 0.
const DefaultAcquires = 200_000

// Prediction is what a simulation predicts for one pool.
type Prediction struct {
	// Connections is the pool simulated (Config.Connections).
	Connections int
	// Wait is the acquire wait over every measured acquire, timeouts
	// included at their wait (Config.Timeout) like planrun's measured
	// acquire figures, so the two compare directly. Every figure is exact
	// (the percentiles by nearest rank, ranked as HdrHistogram ranks
	// them; a measured percentile is its bucket's upper end, up to 0.1 %
	// above); Histogram is empty.
	Wait results.Latency
	// PWait is the share of acquires that waited at all (timeouts
	// included), 0..1.
	PWait float64
	// TimeoutRate is the share of acquires that timed out, 0..1.
	TimeoutRate float64
	// Utilization is the mean number of checked-out connections over the
	// measured span divided by Connections, 0..1.
	Utilization float64
	// Throughput is served acquires per second over the measured span
	// (the span from the first measured acquire's arrival to the arrival
	// of the first acquire after them).
	Throughput float64
	// Offered is an open model's offered load in connections (erlangs):
	// Rate × the mean hold. 0 for a closed model.
	Offered float64
	// Stable is false when the queue grows without bound: an open model
	// without a timeout whose Offered is at least Connections. Its waits
	// then grow with the number of acquires simulated and describe only
	// the simulated span.
	Stable bool
	// Acquires is the number of acquires measured (after the warm-up).
	Acquires int
}

// Validate reports what is wrong with w, every problem at once.
func (w Workload) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case w.Rate > 0 && w.Users > 0:
		bad("workload: both a rate (%g/s) and users (%d); an open model has a rate, a closed one users", w.Rate, w.Users)
	case w.Users < 0 || w.Users > math.MaxInt32:
		bad("workload: users %d: want 1 to %d", w.Users, math.MaxInt32)
	case w.Users == 0 && !(w.Rate > 0 && !math.IsInf(w.Rate, 1)):
		bad("workload: no load: a rate (acquires per second, > 0 and finite) or users (> 0) is needed, got rate %g", w.Rate)
	}
	switch w.Arrival {
	case "", Poisson:
	case Uniform:
		if w.Users > 0 {
			bad("workload: arrival %q is for an open model (a rate), not users", w.Arrival)
		}
	default:
		bad("workload: arrival %q is neither %q nor %q", w.Arrival, Poisson, Uniform)
	}
	if w.ThinkMin < 0 || w.ThinkMax < w.ThinkMin || int64(w.ThinkMax) > maxDuration {
		bad("workload: think %v..%v: want 0 ≤ min ≤ max ≤ %v", w.ThinkMin, w.ThinkMax, time.Duration(maxDuration))
	}
	if w.ThinkMax > 0 && w.Users == 0 {
		bad("workload: think time is for a closed model (users), not a rate")
	}
	switch {
	case w.Hold == nil || w.Hold.TotalCount() == 0:
		bad("workload: no hold times: the hold histogram is empty")
	case w.Hold.Max() > maxDuration:
		bad("workload: hold times up to %v: at most %v", time.Duration(w.Hold.Max()), time.Duration(maxDuration))
	}
	return errors.Join(errs...)
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if c.Connections < 1 {
		errs = append(errs, fmt.Errorf("pool: connections %d: at least 1", c.Connections))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("pool: timeout %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// resolve returns the number of acquires measured and warmed up with.
func (o Options) resolve() (n, warmup int, err error) {
	n = o.Acquires
	switch {
	case n < 0:
		return 0, 0, fmt.Errorf("options: acquires %d is negative", n)
	case n == 0:
		n = DefaultAcquires
	}
	warmup = o.Warmup
	switch {
	case warmup < 0:
		warmup = 0
	case warmup == 0:
		warmup = n / 10
	}
	return n, warmup, nil
}

// ErlangC returns the M/M/c queue's probability that an arrival waits and
// its mean wait (the mean over all arrivals, those that do not wait
// included): Poisson arrivals of lambda per second, exponential service
// times of mean meanHold, c servers, FIFO, no timeouts. It is the exact
// closed form (Erlang B by its stable recursion, then C = B / (1 − ρ(1 − B))
// and mean wait = C · meanHold / (c(1 − ρ)), with ρ = lambda·meanHold/c).
// ok is false when the queue is unstable (ρ ≥ 1: pWait 1 and meanWait
// math.MaxInt64) or the inputs are invalid (c < 1, lambda < 0, meanHold < 0,
// NaN: pWait and meanWait 0).
func ErlangC(lambda float64, meanHold time.Duration, c int) (pWait float64, meanWait time.Duration, ok bool) {
	if c < 1 || !(lambda >= 0) || math.IsInf(lambda, 1) || meanHold < 0 {
		return 0, 0, false
	}
	s := meanHold.Seconds()
	a := lambda * s // offered load, erlangs
	if a == 0 {
		return 0, 0, true
	}
	rho := a / float64(c)
	if rho >= 1 {
		return 1, time.Duration(math.MaxInt64), false
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	pWait = b / (1 - rho*(1-b))
	w := pWait * s / (float64(c) * (1 - rho)) // seconds
	return pWait, time.Duration(math.Round(w * 1e9)), true
}

// Smallest returns the smallest Connections in [lo, hi] whose prediction
// meets the target (meets returns true), with that prediction and true;
// or hi, its prediction and false when even hi does not meet it. It fails
// on invalid inputs, lo < 1 or hi < lo included, and on a simulation that
// fails ([Simulate]).
//
// Every candidate is simulated with the same opts and so the same seed:
// each sees the same acquires with the same hold times (common random
// numbers), so for an open model without timeouts the waits are pathwise
// non-increasing in Connections and any target on them is monotone. With
// timeouts or a closed model the predictions are monotone up to
// simulation noise. The search is a bisection that assumes monotonicity:
// it returns a c that meets the target while c−1 does not (or c = lo); a
// smaller c that meets it by noise alone is not searched for. It simulates
// about log₂(hi−lo+1) + 1 sizes.
func Smallest(w Workload, timeout time.Duration, lo, hi int, meets func(Prediction) bool, opts Options) (int, Prediction, bool, error) {
	if lo < 1 || hi < lo {
		return 0, Prediction{}, false, fmt.Errorf("smallest pool: the range %d..%d: want 1 ≤ lo ≤ hi", lo, hi)
	}
	if meets == nil {
		return 0, Prediction{}, false, errors.New("smallest pool: no target")
	}
	if err := w.Validate(); err != nil {
		return 0, Prediction{}, false, err
	}
	hs := newHoldSampler(w.Hold) // built once for every candidate
	predict := func(c int) (Prediction, bool, error) {
		p, err := simulate(w, hs, Config{Connections: c, Timeout: timeout}, opts)
		if err != nil {
			return Prediction{}, false, fmt.Errorf("smallest pool: %d connections: %w", c, err)
		}
		return p, meets(p), nil
	}
	best, ok, err := predict(hi)
	if err != nil || !ok {
		return hi, best, false, err
	}
	// hi meets the target (best is its prediction); below lo no size does.
	for lo < hi {
		mid := lo + (hi-lo)/2
		p, ok, err := predict(mid)
		switch {
		case err != nil:
			return 0, Prediction{}, false, err
		case ok:
			hi, best = mid, p
		default:
			lo = mid + 1
		}
	}
	return hi, best, true, nil
}
