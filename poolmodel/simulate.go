package poolmodel

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/results"
)

// The random streams of a simulation, one per kind of draw, all seeded by
// Options.Seed: pool sizes simulated with one seed see the same arrivals
// with the same holds.
const (
	streamArrival = 0x61727269766c // "arrivl"
	streamHold    = 0x686f6c64     // "hold"
	streamThink   = 0x7468696e6b   // "think"
)

// maxSpan bounds a simulation's clock, in nanoseconds (about 146 years):
// an instant up to it plus a hold or a think time (each at most
// maxDuration) never overflows int64.
const maxSpan = int64(1) << 62

// maxDuration bounds a hold and a think time (about 36 years).
const maxDuration = int64(1) << 60

// Simulate predicts the pool c under the workload w by a discrete-event
// simulation: opts.Warmup acquires from an idle pool, discarded, then
// opts.Acquires measured ones, each followed until it is served or times
// out. It is deterministic: the same inputs and opts.Seed give the same
// Prediction. It fails only on invalid inputs (see [Workload.Validate],
// [Config.Validate]) or a load whose acquires would span more than a
// century of simulated time.
//
// Ties are settled in this order: releases, then timeouts, then arrivals,
// so a connection released at the instant an acquire arrives serves it
// without a wait, and one released at a waiter's deadline serves it.
func Simulate(w Workload, c Config, opts Options) (Prediction, error) {
	if err := w.Validate(); err != nil {
		return Prediction{}, err
	}
	return simulate(w, newHoldSampler(w.Hold), c, opts)
}

// simulate is [Simulate] for a valid workload whose hold sampler is hs.
func simulate(w Workload, hs *holdSampler, c Config, opts Options) (Prediction, error) {
	if err := c.Validate(); err != nil {
		return Prediction{}, err
	}
	n, warmup, err := opts.resolve()
	if err != nil {
		return Prediction{}, err
	}
	s := &sim{
		conns:    c.Connections,
		idle:     c.Connections,
		timeout:  int64(c.Timeout),
		first:    int64(warmup),
		end:      int64(warmup) + int64(n),
		hold:     hs,
		holdRNG:  rand.New(rand.NewPCG(opts.Seed, streamHold)),
		releases: eventHeap{ev: make([]event, 0, min(c.Connections, 1<<16))},
		minWait:  math.MaxInt64,
	}
	p := Prediction{Connections: c.Connections, Stable: true, Acquires: n}
	if w.Users > 0 {
		s.runClosed(w, rand.New(rand.NewPCG(opts.Seed, streamThink)))
		if s.overrun {
			return Prediction{}, fmt.Errorf("simulate: %d acquires of %d users on %d connections span more than a century", s.end, w.Users, c.Connections)
		}
	} else {
		gap := 1e9 / w.Rate // ns
		if gap*float64(s.end+1) > float64(maxSpan) {
			return Prediction{}, fmt.Errorf("simulate: %d acquires at %g/s span more than a century", s.end, w.Rate)
		}
		s.runOpen(w.Arrival, gap, rand.New(rand.NewPCG(opts.Seed, streamArrival)))
		if s.overrun {
			return Prediction{}, fmt.Errorf("simulate: %d acquires at %g/s on %d connections span more than a century", s.end, w.Rate, c.Connections)
		}
		p.Offered = w.Rate * hs.mean / 1e9
		p.Stable = c.Timeout > 0 || p.Offered < float64(c.Connections)
	}
	p.Wait = s.latency()
	total := float64(n)
	p.PWait = float64(s.waited) / total
	p.TimeoutRate = float64(s.timeouts) / total
	if span := float64(s.t1 - s.t0); span > 0 {
		p.Utilization = (s.area1 - s.area0) / span / float64(c.Connections)
		p.Throughput = float64(s.served) / (span / 1e9)
	}
	return p, nil
}

// sim is the state of one simulation. Times are nanoseconds since its
// start.
type sim struct {
	conns   int   // Connections
	idle    int   // connections not checked out
	timeout int64 // ns; 0: none
	hold    *holdSampler
	holdRNG *rand.Rand

	releases eventHeap // checked-out connections by release time
	queue    queue     // waiters, FIFO

	// Acquires are numbered from 0 in arrival order; [first, end) are
	// measured.
	next       int64 // number of the next arrival
	first, end int64
	pending    int // measured acquires neither served nor timed out

	// The busy-connection integral (ns × connections) at the clock now,
	// and at the arrivals of acquire first (t0) and end (t1). overrun: the
	// clock passed maxSpan, the simulation stopped.
	now, last    int64
	overrun      bool
	area         float64
	t0, t1       int64
	area0, area1 float64

	served, timeouts, waited int64
	sumWait                  float64 // ns
	minWait, maxWait         int64
	waits                    []int64 // the measured waits above 0, ns
}

// advance moves the clock to t, integrating the busy connections; past
// maxSpan it marks the simulation overrun.
func (s *sim) advance(t int64) {
	s.area += float64(s.conns-s.idle) * float64(t-s.last)
	s.last, s.now = t, t
	s.overrun = t > maxSpan
}

// arrive handles the arrival of an acquire now, by user (-1 in an open
// model); it reports false once the measured acquires have all arrived
// (acquire end is not admitted: it only marks the end of the span).
func (s *sim) arrive(user int32) bool {
	k := s.next
	s.next++
	switch k {
	case s.first:
		s.t0, s.area0 = s.now, s.area
	case s.end:
		s.t1, s.area1 = s.now, s.area
		return false
	}
	measured := k >= s.first
	if measured {
		s.pending++
	}
	h := s.hold.sample(s.holdRNG)
	if s.idle > 0 {
		s.idle--
		s.releases.push(event{t: s.now + h, id: user})
		if measured {
			s.record(0, false)
		}
		return true
	}
	s.queue.push(waiter{arrived: s.now, hold: h, user: user, measured: measured})
	return true
}

// release returns the connection whose hold ends now (the heap's top):
// the queue's head gets it, or it goes idle. It returns the user who
// released it.
func (s *sim) release() int32 {
	if s.queue.len() == 0 {
		s.idle++
		return s.releases.pop().id
	}
	w := s.queue.pop()
	e := s.releases.replaceTop(event{t: s.now + w.hold, id: w.user})
	if w.measured {
		s.record(s.now-w.arrived, false)
	}
	return e.id
}

// expire times out the queue's head, whose deadline is now, and returns
// its user.
func (s *sim) expire() int32 {
	w := s.queue.pop()
	if w.measured {
		s.record(s.timeout, true)
	}
	return w.user
}

// record counts a measured acquire resolved after waiting wait ns: served,
// or timed out.
func (s *sim) record(wait int64, timedOut bool) {
	s.pending--
	if timedOut {
		s.timeouts++
	} else {
		s.served++
	}
	if wait == 0 {
		s.minWait = 0
		return // counted into the histogram at the end (latency)
	}
	s.waited++
	s.sumWait += float64(wait)
	s.minWait = min(s.minWait, wait)
	s.maxWait = max(s.maxWait, wait)
	s.waits = append(s.waits, wait)
}

// deadline is the queue head's timeout instant, or MaxInt64 when nobody
// waits or acquires wait forever.
func (s *sim) deadline() int64 {
	if s.timeout == 0 || s.queue.len() == 0 {
		return math.MaxInt64
	}
	if at := s.queue.head().arrived; s.timeout < math.MaxInt64-at {
		return at + s.timeout
	}
	return math.MaxInt64
}

// nextRelease is the earliest release instant, or MaxInt64.
func (s *sim) nextRelease() int64 {
	if s.releases.len() == 0 {
		return math.MaxInt64
	}
	return s.releases.top()
}

// runOpen simulates arrivals spaced gap ns apart on average.
func (s *sim) runOpen(arrival Arrival, gap float64, rng *rand.Rand) {
	at := func(k int64) int64 { return int64(math.Round(float64(k) * gap)) }
	var next int64 // next arrival instant
	if arrival != Uniform {
		next = int64(math.Round(rng.ExpFloat64() * gap))
	}
	admitting := true
	for (admitting || s.pending > 0) && !s.overrun {
		tr, td := s.nextRelease(), s.deadline()
		ta := int64(math.MaxInt64)
		if admitting {
			ta = next
		}
		switch {
		case tr <= td && tr <= ta:
			s.advance(tr)
			s.release()
		case td <= ta:
			s.advance(td)
			s.expire()
		default:
			s.advance(ta)
			admitting = s.arrive(-1)
			if arrival == Uniform {
				next = at(s.next)
			} else {
				next += int64(math.Round(rng.ExpFloat64() * gap))
			}
		}
	}
}

// runClosed simulates w.Users users looping think → acquire → hold.
func (s *sim) runClosed(w Workload, rng *rand.Rand) {
	lo, span := int64(w.ThinkMin), int64(w.ThinkMax-w.ThinkMin)
	think := func() int64 {
		if span == 0 {
			return lo
		}
		return lo + rng.Int64N(span+1)
	}
	thinking := eventHeap{ev: make([]event, 0, w.Users)}
	for u := range w.Users {
		thinking.push(event{t: think(), id: int32(u)})
	}
	admitting := true
	for (admitting || s.pending > 0) && !s.overrun {
		tr, td := s.nextRelease(), s.deadline()
		ta := int64(math.MaxInt64)
		if admitting && thinking.len() > 0 {
			ta = thinking.top()
		}
		switch {
		case tr == math.MaxInt64 && td == math.MaxInt64 && ta == math.MaxInt64:
			return // unreachable: a measured acquire is pending, so it waits or holds
		case tr <= td && tr <= ta:
			s.advance(tr)
			u := s.release()
			thinking.push(event{t: s.now + think(), id: u})
		case td <= ta:
			s.advance(td)
			u := s.expire()
			thinking.push(event{t: s.now + think(), id: u})
		default:
			s.advance(ta)
			e := thinking.pop()
			admitting = s.arrive(e.id)
		}
	}
}

// latency summarises the measured waits. The percentiles are exact, by
// nearest rank as HdrHistogram ranks them (rank ⌊p/100·count + ½⌋, at
// least 1): the waits of 0 are the lowest ranks, the others are selected
// (highest percentile first, each selection narrowing the next).
func (s *sim) latency() results.Latency {
	count := s.served + s.timeouts
	if count == 0 {
		return results.Latency{}
	}
	zeros := count - int64(len(s.waits))
	hi := len(s.waits) // waits[:hi] are at most the last one selected
	at := func(p float64) time.Duration {
		rank := min(max(int64(p/100*float64(count)+0.5), 1), count)
		if rank <= zeros {
			return 0
		}
		k := int(rank - zeros - 1)
		v := nth(s.waits[:hi], k)
		hi = k + 1
		return time.Duration(v)
	}
	l := results.Latency{
		Count: count,
		Min:   time.Duration(s.minWait),
		Mean:  time.Duration(math.Round(s.sumWait / float64(count))),
		Max:   time.Duration(s.maxWait),
	}
	l.P99 = at(99)
	l.P95 = at(95)
	l.P90 = at(90)
	l.P50 = at(50)
	return l
}

// nth reorders a so that a[k] is its k-th smallest value (0-based), no
// value before it larger and none after it smaller, and returns a[k]:
// quickselect on the median of three, falling back to sorting the part
// left after 2·log₂(len) rounds.
func nth(a []int64, k int) int64 {
	lo, hi := 0, len(a) // a[lo:hi] holds the k-th
	for budget := 2 * bits.Len(uint(len(a))); hi-lo > 16; budget-- {
		if budget == 0 {
			slices.Sort(a[lo:hi])
			return a[k]
		}
		// Median of three as the pivot, then Hoare's partition.
		m := lo + (hi-lo)/2
		x, y, z := a[lo], a[m], a[hi-1]
		pivot := max(min(x, y), min(max(x, y), z))
		i, j := lo, hi-1
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Now a[lo:j+1] ≤ pivot ≤ a[i:hi], and a[j+1:i] = pivot.
		switch {
		case k <= j:
			hi = j + 1
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	slices.Sort(a[lo:hi])
	return a[k]
}

// holdSampler draws hold times from a histogram's recorded buckets, each
// standing for its median equivalent value, with the probability of its
// share of the count: inverse-CDF sampling in O(1) by Walker's alias
// method (Vose's construction). One 64-bit draw picks a column (its high
// product with the number of columns) and decides between the column's
// bucket and its alias (the low product, a uniform fraction).
type holdSampler struct {
	cols []aliasCol
	mean float64 // ns, the mean of the draws' distribution
}

// aliasCol is a column of the alias table: its own value drawn when the
// fraction is below keep, its alias's otherwise.
type aliasCol struct {
	keep       uint64 // probability × 2^64, saturated
	value, alt int64  // ns
}

// newHoldSampler builds the sampler of a histogram with at least one
// value.
func newHoldSampler(h *hdrhistogram.Histogram) *holdSampler {
	hs := &holdSampler{}
	var values []int64
	var counts []float64
	var total, sum float64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := b.From + (b.To-b.From+1)/2 // median equivalent value
		values = append(values, v)
		counts = append(counts, float64(b.Count))
		total += float64(b.Count)
		sum += float64(v) * float64(b.Count)
	}
	hs.mean = sum / total
	n := len(values)
	// Vose: scale each probability by n; columns below 1 are topped up by
	// columns above 1, in a fixed order (deterministic).
	p := make([]float64, n)
	var small, large []int
	for i, c := range counts {
		p[i] = c * float64(n) / total
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	hs.cols = make([]aliasCol, n)
	for i, v := range values {
		hs.cols[i] = aliasCol{keep: math.MaxUint64, value: v, alt: v}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		hs.cols[s].keep = uint64(p[s] * (1 << 64))
		hs.cols[s].alt = values[l]
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left is 1 up to rounding: those columns keep their value.
	return hs
}

// sample draws a hold time, in ns.
func (hs *holdSampler) sample(rng *rand.Rand) int64 {
	if len(hs.cols) == 1 {
		return hs.cols[0].value
	}
	i, frac := bits.Mul64(rng.Uint64(), uint64(len(hs.cols)))
	if c := &hs.cols[i]; frac < c.keep {
		return c.value
	} else {
		return c.alt
	}
}

// event is a release (a connection's hold ends) or, in a closed model, a
// user's think time ending; id is the user, -1 in an open model. Events
// of the same instant come out in the order they were pushed (seq).
type event struct {
	t   int64
	seq uint64
	id  int32
}

// eventHeap is a binary min-heap of events by (t, seq); push numbers the
// events.
type eventHeap struct {
	ev  []event
	seq uint64
}

func (e event) before(f event) bool {
	return e.t < f.t || (e.t == f.t && e.seq < f.seq)
}

func (h *eventHeap) len() int { return len(h.ev) }

// top is the earliest event's instant; the heap must not be empty.
func (h *eventHeap) top() int64 { return h.ev[0].t }

func (h *eventHeap) push(e event) {
	h.seq++
	e.seq = h.seq
	q := append(h.ev, e)
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !e.before(q[p]) {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = e
	h.ev = q
}

// pop removes the earliest event and returns it.
func (h *eventHeap) pop() event {
	top := h.ev[0]
	n := len(h.ev) - 1
	h.ev[0] = h.ev[n]
	h.ev = h.ev[:n]
	h.down()
	return top
}

// replaceTop replaces the earliest event by e (a pop then a push in one
// sift) and returns it.
func (h *eventHeap) replaceTop(e event) event {
	h.seq++
	e.seq = h.seq
	top := h.ev[0]
	h.ev[0] = e
	h.down()
	return top
}

// down restores the heap order from the root down.
func (h *eventHeap) down() {
	q := h.ev
	n := len(q)
	if n == 0 {
		return
	}
	e := q[0]
	i := 0
	for {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && q[r].before(q[m]) {
			m = r
		}
		if !q[m].before(e) {
			break
		}
		q[i] = q[m]
		i = m
	}
	q[i] = e
}

// waiter is an acquire waiting for a connection.
type waiter struct {
	arrived  int64 // ns
	hold     int64 // ns, drawn at arrival
	user     int32
	measured bool
}

// queue is a FIFO ring buffer of waiters that grows as needed.
type queue struct {
	buf         []waiter // len is a power of two
	first, size int
}

func (q *queue) len() int { return q.size }

func (q *queue) head() *waiter { return &q.buf[q.first] }

func (q *queue) push(w waiter) {
	if q.size == len(q.buf) {
		grown := make([]waiter, max(16, 2*len(q.buf)))
		for i := range q.size {
			grown[i] = q.buf[(q.first+i)&(len(q.buf)-1)]
		}
		q.buf, q.first = grown, 0
	}
	q.buf[(q.first+q.size)&(len(q.buf)-1)] = w
	q.size++
}

func (q *queue) pop() waiter {
	w := q.buf[q.first]
	q.first = (q.first + 1) & (len(q.buf) - 1)
	q.size--
	return w
}
