package engine

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
	"github.com/planrun/planrun/tally"
)

// openModel is the load of an open-model scenario: arrivals at a rate,
// whatever the system does with them.
type openModel struct {
	// Profile is the rate over time, durations already scaled (--time-scale
	// scales durations, never rates).
	Profile []rateStage
	Arrival arrivalProcess
	// MaxInFlight bounds the unfinished operations; an arrival beyond it is
	// dropped and counted. Default schema.DefaultMaxInFlight.
	MaxInFlight int
}

// compileOpen returns the open model of s, nil when s is a closed model
// (users). A scenario with a rate, or with stages that give rates, is open;
// the schema refuses mixing users and rates, and should both come here the
// rate wins: an open model cannot be run as users.
func compileOpen(s *schema.Scenario, timeScale float64) *openModel {
	var prof []rateStage
	for _, st := range s.Stages {
		prof = append(prof, rateStage{Rate: float64(st.Rate), Ramp: scale(st.Ramp.D(), timeScale), Duration: scale(st.Duration.D(), timeScale)})
	}
	if !slices.ContainsFunc(prof, func(st rateStage) bool { return st.Rate > 0 }) {
		prof = nil
		if s.Rate > 0 && len(s.Stages) == 0 {
			prof = []rateStage{{Rate: float64(s.Rate), Ramp: scale(s.RampUp.D(), timeScale), Duration: scale(s.Duration.D(), timeScale)}}
		}
	}
	if prof == nil {
		return nil
	}
	m := &openModel{Profile: prof, MaxInFlight: s.MaxInFlight}
	if m.MaxInFlight <= 0 {
		m.MaxInFlight = schema.DefaultMaxInFlight
	}
	if s.Arrival == "uniform" {
		m.Arrival = arriveUniform
	}
	return m
}

// shape is the model's stages as a ramp of no users: Duration and StageEnd
// (recovery_after) then serve as for a closed model.
func (m *openModel) shape() ramp {
	out := make(ramp, len(m.Profile))
	for i, st := range m.Profile {
		out[i] = stage{Ramp: st.Ramp, Duration: st.Duration}
	}
	return out
}

// meanRate is the target rate averaged over the profile, in arrivals per second.
func (m *openModel) meanRate() float64 {
	d := m.shape().Duration()
	if d <= 0 {
		return 0
	}
	return newSchedule(m.Profile, arriveUniform, nil).expected() / d.Seconds()
}

// rateAt is the target rate at offset el.
func (m *openModel) rateAt(el time.Duration) float64 {
	prev := 0.0
	var start time.Duration
	for _, st := range m.Profile {
		if el < start+st.Duration {
			if in := el - start; st.Ramp > 0 && in < st.Ramp {
				return prev + (st.Rate-prev)*float64(in)/float64(st.Ramp)
			}
			return st.Rate
		}
		prev, start = st.Rate, start+st.Duration
	}
	return 0
}

// concurrency is how many operations of sc may run at once: its users, or
// an open model's max_in_flight. Recorders follow it.
func (sc *scenario) concurrency() int {
	if sc.Open != nil {
		return sc.Open.MaxInFlight
	}
	return sc.Shape.MaxUsers()
}

// Random streams of a scenario (see seededRand).
const (
	streamSchedule = iota + 1 // an open model's arrival times
	streamPicks               // an open model's operation picks, in arrival order
	streamUser                // a closed-model user's picks, think times and args (+ user id)
	streamArgs                // an open model's seed of each arrival's args, in arrival order
	streamBalance             // an open model's replica for each arrival (target.balance: random)
)

// planSeed is the plan's seed, or a random one.
func planSeed(plan *schema.Plan) int64 {
	if plan.Seed != nil {
		return *plan.Seed
	}
	return mrand.Int64()
}

// rand returns one random stream of sc, derived from the program's seed, the
// scenario's position in the plan and the stream's purpose (and a user's id),
// so that one seed replays the same arrivals and operation picks.
func (sc *scenario) rand(stream, id int) *mrand.Rand {
	return mrand.New(mrand.NewPCG(uint64(sc.seed), uint64(sc.index)<<48|uint64(stream)<<40|uint64(id)))
}

// arrivalStream is a scenario's arrivals in order: when each is scheduled
// and which operation it runs. It is a pure function of the scenario and
// the program's seed, so one seed replays the same arrivals and picks.
type arrivalStream struct {
	sched *schedule
	picks *mrand.Rand
	args  *mrand.Rand // one seed per arrival for its args
	mix   *mix
}

func newArrivalStream(sc *scenario) *arrivalStream {
	return &arrivalStream{
		sched: newSchedule(sc.Open.Profile, sc.Open.Arrival, sc.rand(streamSchedule, 0)),
		picks: sc.rand(streamPicks, 0),
		args:  sc.rand(streamArgs, 0),
		mix:   sc.Mix,
	}
}

// Next returns the next arrival's offset from the scenario's start and its
// operation, and false once the profile has ended.
func (s *arrivalStream) Next() (time.Duration, *operation, bool) {
	off, ok := s.sched.Next()
	if !ok {
		return 0, nil, false
	}
	return off, s.mix.pick(s.picks.Float64()), true
}

// arrival is one operation handed to a worker: what to run and when it was
// scheduled to start.
type arrival struct {
	op        *operation
	scheduled time.Time
	argSeed   uint64     // seeds the args of this arrival, whichever worker runs it
	pool      *pool.Pool // the pool of the replica the arrival was sent to
}

// openRun runs an open model: a dispatcher goroutine walks the schedule and
// hands each arrival, at its scheduled time, to an idle worker. Workers are
// users that wait for arrivals instead of thinking; they are reused, since a
// parked goroutine with its VM, args buffers and timer ready is cheaper to
// wake than a new one is to start (BenchmarkDispatch). A new worker starts
// only when none is idle and fewer than max_in_flight exist; otherwise the
// arrival is dropped and counted.
type openRun struct {
	r      *scenarioRun
	model  *openModel
	stream *arrivalStream
	rec    *recorder // the dispatcher's: arrivals and drops
	ctx    context.Context
	stop   context.CancelFunc
	done   chan struct{} // closed when the dispatcher returned

	mu      sync.Mutex
	idle    []*user // a stack: the most recently used worker is warmest
	workers []*user // every live worker, in start order
	nextID  int

	inFlight atomic.Int64 // operations handed out and not finished
	peak     atomic.Int64 // most at once
}

// startOpen starts the dispatcher of an open-model scenario (nothing for a
// closed one); opCtx ends the operations themselves, ctx the run.
func (r *scenarioRun) startOpen(ctx, opCtx context.Context) {
	m := r.sc.Open
	if m == nil {
		return
	}
	o := &openRun{
		r: r, model: m,
		stream: newArrivalStream(r.sc),
		rec:    r.col.recorderFor(0),
		done:   make(chan struct{}),
	}
	o.ctx, o.stop = context.WithCancel(ctx)
	r.open = o
	go o.dispatch(opCtx, r.start)
}

// stopOpen stops the dispatcher and hands every worker to the drain.
func (r *scenarioRun) stopOpen() {
	o := r.open
	if o == nil {
		return
	}
	o.stop()
	<-o.done
	o.mu.Lock()
	r.users = slices.Clone(o.workers)
	o.mu.Unlock()
}

// dispatch walks the schedule from start: it waits for each arrival's
// scheduled time and hands it out. Behind schedule it never sleeps: a late
// arrival is handed out at once and its lateness is measured as lag.
func (o *openRun) dispatch(opCtx context.Context, start time.Time) {
	defer close(o.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	timer.Stop()
	for {
		off, op, ok := o.stream.Next()
		if !ok {
			return
		}
		at := start.Add(off)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-o.ctx.Done():
				return
			case <-timer.C:
			}
		} else if o.ctx.Err() != nil {
			return
		}
		o.arrive(opCtx, arrival{op: op, scheduled: at, argSeed: o.stream.args.Uint64(), pool: o.r.replicas.forArrival()})
	}
}

// arrive counts one arrival and hands it to an idle worker, a new one, or
// drops it.
func (o *openRun) arrive(opCtx context.Context, a arrival) {
	o.rec.addArrival()
	o.mu.Lock()
	var w *user
	if n := len(o.idle); n > 0 {
		w = o.idle[n-1]
		o.idle = o.idle[:n-1]
	} else if len(o.workers) < o.model.MaxInFlight {
		o.nextID++
		w = newUser(o.nextID, o.r.sc, nil, o.r.col.recorderFor(o.nextID), o.r.env.prog.argTimeout())
		w.jobs = make(chan arrival, 1)
		w.svc = o.r.svc
		w.argPCG = mrand.NewPCG(0, 0)
		w.env.Rand = mrand.New(w.argPCG)
		o.workers = append(o.workers, w)
		go w.serve(opCtx, o)
	}
	o.mu.Unlock()
	if w == nil {
		o.drop(a)
		return
	}
	if n := o.inFlight.Add(1); n > o.peak.Load() {
		o.peak.Store(n) // only the dispatcher writes peak
	}
	w.jobs <- a // buffered: never blocks, the worker was idle
}

// drop records an arrival that was not run: a failed operation of category
// dropped, with no latency.
func (o *openRun) drop(a arrival) {
	o.rec.add(&opResult{Op: a.op.Index, Category: tally.Dropped})
	o.rec.noteError(results.ErrDropped, "", fmt.Sprintf("%s: not run: %d operations were unfinished (max_in_flight)", a.op.Name, o.model.MaxInFlight))
}

// finished returns worker w to the idle stack after an operation.
func (o *openRun) finished(w *user) {
	o.mu.Lock()
	o.idle = append(o.idle, w)
	o.mu.Unlock()
	o.inFlight.Add(-1)
}

// forget removes worker w, abandoned by the watchdog in an args
// expression: it is stuck in the VM and never returns to the idle stack, so
// its place (and its operation's) is freed for a new worker.
func (o *openRun) forget(w *user) {
	o.mu.Lock()
	o.workers = slices.DeleteFunc(o.workers, func(x *user) bool { return x == w })
	o.mu.Unlock()
	o.inFlight.Add(-1)
}

// serve is a worker's loop: run each arrival handed to it until stopped. An
// arrival already handed over is run even when the stop comes at the same
// time, so that none is counted and lost.
func (u *user) serve(ctx context.Context, o *openRun) {
	defer close(u.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.qctx = context.WithoutCancel(ctx)
	for {
		var a arrival
		select {
		case a = <-u.jobs:
		default:
			select {
			case a = <-u.jobs:
			case <-u.stop:
				return
			}
		}
		u.argPCG.Seed(a.argSeed, 0)
		u.pool = a.pool
		if !u.operate(ctx, a.op, a.scheduled) {
			return // abandoned in an args expression
		}
		o.finished(u)
	}
}

// adjustOpen is the open model's part of the scenario's control tick: the
// workers as the scenario's users (for the watchdog), peak in flight, and
// one in-flight sample.
func (o *openRun) adjust(el time.Duration) {
	o.mu.Lock()
	o.r.users = append(o.r.users[:0], o.workers...)
	o.mu.Unlock()
	o.r.peak = int(o.peak.Load())
	o.r.col.sampleInFlight(el, int(o.inFlight.Load()))
}

// fill writes the open model's figures into out.
func (o *openRun) fill(out *results.Scenario) {
	out.Model = results.ModelOpen
	out.Rate = o.model.meanRate()
	out.InFlight = o.r.col.inFlight()
	out.MaxUsers = max(out.MaxUsers, int(o.peak.Load()))
}

// sampleInFlight takes one sample of the operations in flight at el.
func (c *collector) sampleInFlight(el time.Duration, n int) {
	c.stepInFlight = max(c.stepInFlight, n)
	if el <= c.warmup {
		return
	}
	c.inFlightSum += int64(n)
	c.inFlightN++
	c.inFlightMax = max(c.inFlightMax, n)
}

// inFlight summarises the in-flight samples after the warm-up.
func (c *collector) inFlight() results.InFlight {
	if c.inFlightN == 0 {
		return results.InFlight{}
	}
	return results.InFlight{Mean: float64(c.inFlightSum) / float64(c.inFlightN), Max: c.inFlightMax}
}

// addArrival counts one scheduled arrival.
func (r *recorder) addArrival() {
	r.mu.Lock()
	r.cur.AddArrival()
	r.mu.Unlock()
}
