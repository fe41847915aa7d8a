package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/engine/servicewatch"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/selfwatch"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

// Timing of a scenario's edges.
const (
	// controlInterval is how often the ramp controller adjusts the user count.
	controlInterval = 10 * time.Millisecond
	// drainExtra is added to the pool timeout to bound how long the users may
	// take to finish their operations once the scenario's time is up; past it,
	// operations are cancelled (counted as errors_by.cancelled).
	drainExtra = 10 * time.Second
	// serverLeakGrace is how long the server's backend count may take to fall
	// back to the pool's level after the load stops.
	serverLeakGrace = 2 * time.Second
	// stopGrace bounds the wait for users once their operations were
	// cancelled and their sockets closed: a user still running after it is
	// left behind (reported), so a scenario always ends.
	stopGrace = 5 * time.Second
)

// scenarioRun is the state of one scenario while it runs.
type scenarioRun struct {
	sc       *scenario
	env      *runEnv
	replicas *replicaSet // the scenario's pools, one per replica
	col      *collector
	start    time.Time
	users    []*user // active users, in start order
	stopping []*user // removed users that may still finish an operation
	peak     int     // most users active at once
	nextID   int
	abort    *results.Outcome
	index    int              // the scenario's position in the run, from 1
	self     *selfwatch.Watch // the load generator watching itself
	open     *openRun         // an open model's dispatcher and workers (nil: closed model)
	// svc sends the HTTP operations; watcher watches the service's
	// backends; connStart is its proxy's counts at the scenario's start
	// (all nil/zero without target.service).
	svc       *serviceClient
	watcher   *servicewatch.Watcher
	connStart netproxy.ConnStats
	// foundChecked says that the watcher's Found was called; notFound is
	// its failure (no backend of the service seen by the end of the warm-up).
	foundChecked bool
	notFound     error
}

// runScenario runs one scenario with a fresh pool and returns its results.
// ctx cancellation (interrupt) stops it early; the results hold what was measured.
func (e *runEnv) runScenario(ctx context.Context, idx int, sc *scenario) results.Scenario {
	out := results.Scenario{
		Name: sc.Name, Mix: sc.Mix.Name, Status: results.StatusCompleted,
		HTTPOnly:      sc.Mix.httpOnly(),
		Planned:       sc.Shape.Duration(),
		ErrorsBy:      map[string]int64{},
		TimeScaleNote: sc.TimeScaleNote,
	}
	reps, err := e.newReplicaSet(ctx, sc)
	if err != nil {
		out.Status = results.StatusFailed
		out.ErrorSamples = map[string]string{results.ErrOther: e.explain(err)}
		return out
	}
	n := len(reps.pools)
	r := &scenarioRun{sc: sc, env: e, replicas: reps, col: newCollector(sc, e.capacity(), n), index: idx + 1}
	if e.svc != nil {
		stop, err := r.startServiceWatch(ctx)
		if err != nil {
			reps.close()
			out.Status = results.StatusFailed
			out.ErrorSamples = map[string]string{results.ErrOther: e.red.String(err.Error())}
			return out
		}
		defer stop()
	}

	opCtx, cancelOps := context.WithCancel(ctx)
	defer cancelOps()
	r.watchGenerator()
	r.start = time.Now()
	r.col.startLevels(r.start, reps.pools)
	out.StartedAt = r.start.UTC()
	if sc.Open != nil {
		e.logf("scenario %s: %.4g arrivals/s on average, max_in_flight %d, %s", sc.Name, sc.Open.meanRate(), sc.Open.MaxInFlight, humanize.Duration(out.Planned))
	} else {
		e.logf("scenario %s: %d users max, %s", sc.Name, sc.Shape.MaxUsers(), humanize.Duration(out.Planned))
	}

	faults := r.startFaults(ctx)
	r.startOpen(ctx, opCtx)
	r.drive(ctx, opCtx)
	out.Faults = faults.stop()
	r.env.afterRestart(out.Faults)
	r.stopOpen()
	elapsed := r.drain(ctx, cancelOps)
	out.Generator = r.generator(true)
	out.MaxUsers = r.peak
	out.Warmup = min(sc.Warmup, elapsed)

	// Final collection and pool accounting.
	r.col.collect()
	last := r.col.step(elapsed, 0, elapsed <= sc.Warmup)
	r.checkFound()
	r.fill(&out, elapsed)
	r.publishFinal(&out, last, elapsed)
	r.serverLeaks(&out)
	r.serviceDrained(&out)
	reps.close()
	r.fillConnections(&out, reps.stats())

	switch {
	case r.abort != nil:
		out.Status = results.StatusAborted
	case ctx.Err() != nil:
		out.Status = results.StatusInterrupted
	case r.notFound != nil:
		// The service's figures would be zeros that mean nothing: the
		// scenario could not measure what it is for.
		out.Status = results.StatusFailed
		if out.ErrorSamples == nil {
			out.ErrorSamples = map[string]string{}
		}
		out.ErrorSamples[results.ErrOther] = "service: " + r.notFound.Error()
	}
	return out
}

// drive runs the load shape: it adds and removes users, samples the pool and
// closes series steps until the scenario's time is up, the run is
// interrupted, or a live assertion aborts it.
func (r *scenarioRun) drive(ctx, opCtx context.Context) {
	control := time.NewTicker(controlInterval)
	defer control.Stop()
	sample := time.NewTicker(sampleInterval)
	defer sample.Stop()
	planned := r.sc.Shape.Duration()
	nextStep := r.nextStep(0)
	warm := r.sc.Warmup > 0
	r.adjust(opCtx, 0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-control.C:
			el := time.Since(r.start)
			if el >= planned {
				return
			}
			r.adjust(opCtx, el)
		case <-sample.C:
			el := time.Since(r.start)
			if warm && el >= r.sc.Warmup {
				warm = false
				r.replicas.restartExhaustion()
				r.col.endWarmup(r.replicas.stats())
			}
			r.col.sample(el, r.replicas.stats())
			r.col.levels.Take(el, r.replicas.pools)
			r.watch(false)
			if r.foundDue(el) && !r.checkFound() {
				return // the service's backends cannot be found: the scenario fails
			}
			if el >= nextStep {
				p := r.col.step(el, r.level(), nextStep <= r.sc.Warmup)
				nextStep = r.nextStep(nextStep)
				if r.secondDone(p, el) {
					return
				}
			}
		}
	}
}

// nextStep returns the end of the series step after the one ending at prev:
// a second later, or the end of the warm-up when that comes first, so that
// no step straddles it.
func (r *scenarioRun) nextStep(prev time.Duration) time.Duration {
	next := prev + seriesInterval
	if w := r.sc.Warmup; prev < w && w < next {
		return w
	}
	return next
}

// level is the load's level now, for the series: active users, or an
// open model's operations in flight.
func (r *scenarioRun) level() int {
	if r.open != nil {
		return int(r.open.inFlight.Load())
	}
	return len(r.users)
}

// adjust starts or stops users to match the shape at el (an open model's
// dispatcher starts its own workers: see openRun.adjust).
func (r *scenarioRun) adjust(opCtx context.Context, el time.Duration) {
	if r.open != nil {
		r.open.adjust(el)
		return
	}
	want := r.sc.Shape.Users(el)
	for len(r.users) < want {
		r.nextID++
		u := newUser(r.nextID, r.sc, r.replicas.forUser(r.nextID), r.col.recorderFor(r.nextID), r.env.prog.argTimeout())
		u.svc = r.svc
		r.users = append(r.users, u)
		go u.run(opCtx)
	}
	r.peak = max(r.peak, len(r.users))
	if len(r.users) > want {
		r.stopping = slices.DeleteFunc(r.stopping, (*user).finished)
	}
	for len(r.users) > want {
		last := r.users[len(r.users)-1]
		close(last.stop) // it finishes its current operation
		r.users = r.users[:len(r.users)-1]
		r.stopping = append(r.stopping, last)
	}
}

// drain stops every user and waits for them to finish their operations, up
// to the pool timeout plus drainExtra; then it cancels what is left, breaks
// the statements still running, and waits at most stopGrace more. Once
// operations are cancelled (at once after an interrupt), a user inside an
// args expression is abandoned without waiting (see watch). It returns the
// scenario's elapsed time at the end of the drain.
func (r *scenarioRun) drain(ctx context.Context, cancelOps context.CancelFunc) time.Duration {
	for _, u := range r.users {
		close(u.stop)
	}
	r.stopping = append(r.stopping, r.users...)
	r.users = nil
	cancelled := ctx.Err() != nil
	if cancelled { // interrupted: stop operations now
		cancelOps()
		r.abortStatements()
	}
	if !r.wait(r.env.prog.Pool.Timeout+drainExtra, cancelled) {
		r.unreleased()
		cancelOps()
		r.abortStatements()
		if !r.wait(stopGrace, true) {
			n := len(slices.DeleteFunc(slices.Clone(r.stopping), (*user).finished))
			r.env.logf("scenario %s: %d user(s) still running %s after being stopped; left behind", r.sc.Name, n, humanize.Duration(stopGrace))
		}
	}
	return time.Since(r.start)
}

// wait waits until every stopping user has returned or been abandoned, at
// most d, watching args evaluations meanwhile (see watch; cancelled: the
// operations were cancelled). It reports whether they all did.
func (r *scenarioRun) wait(d time.Duration, cancelled bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	r.watch(cancelled)
	for len(r.stopping) > 0 {
		u := r.stopping[0]
		select {
		case <-u.done:
			r.stopping = r.stopping[1:]
		case <-tick.C:
			r.watch(cancelled)
		case <-deadline.C:
			return false
		}
	}
	return true
}

// watchInterval is how often a drain looks for users stuck in an args
// expression (the scenario's sampler does while it runs).
const watchInterval = 50 * time.Millisecond

// watch is the watchdog of args evaluations, run by the scenario's
// goroutine (sampler tick, drain). A user whose evaluation has run longer
// than the time budget is abandoned: the expr VM cannot be interrupted, so
// its goroutine is left to finish on its own, nobody waits for it, and the
// operation counts as an args error; the expression is not evaluated again
// (argExpr.overrun), so no other user gets stuck in it. The shape starts a
// new user in its place. When the operations were cancelled (an interrupt,
// the end of the drain) every evaluation in progress is abandoned at once
// and its operation counts as cancelled.
func (r *scenarioRun) watch(cancelled bool) {
	budget := r.env.prog.argTimeout()
	if cancelled {
		budget = 0
	}
	now := clock()
	var first string // the first abandoned user's message
	n := 0
	abandoned := func(u *user) bool {
		s := u.evalStart.Load()
		if s <= 0 || time.Duration(now-s) < budget || !u.evalStart.CompareAndSwap(s, abandonedMark) {
			return false
		}
		msg := r.abandon(u, time.Duration(now-s), cancelled)
		if r.open != nil {
			r.open.forget(u)
		}
		if n == 0 {
			first = msg
		}
		n++
		return true
	}
	r.users = slices.DeleteFunc(r.users, abandoned)
	r.stopping = slices.DeleteFunc(r.stopping, abandoned)
	if n > 1 {
		first += fmt.Sprintf(" (and %d more user(s))", n-1)
	}
	if n > 0 {
		r.env.logf("scenario %s: %s", r.sc.Name, first)
	}
}

// abandon records the operation of a user the watchdog gave up on after it
// evaluated an args expression for d, and returns what happened, for the log.
func (r *scenarioRun) abandon(u *user, d time.Duration, cancelled bool) string {
	a, op := u.evalArg, u.evalOp
	res := &opResult{Op: op.Index, Total: d, Category: tally.Cancelled}
	if cancelled {
		u.rec.add(res)
		return fmt.Sprintf("user %d abandoned in args expression %q (%s) after %s: the run was stopping and expressions cannot be interrupted",
			u.id, a.src, a.pos, humanize.Duration(d))
	}
	a.overrun.Store(true)
	res.Category = tally.Category(results.ErrArgs)
	msg := fmt.Sprintf("args expression %q (%s) ran %s, past its time budget of %s: the user was abandoned (expressions cannot be interrupted) and the expression is not evaluated again in this run; make it cheaper",
		a.src, a.pos, humanize.Duration(d), humanize.Duration(r.env.prog.argTimeout()))
	u.rec.noteError(results.ErrArgs, "", op.Name+": "+msg)
	u.rec.add(res)
	return fmt.Sprintf("user %d: %s", u.id, msg)
}

// abortStatements breaks the statements still running by closing their
// connections' sockets (statements run with a context that is never
// cancelled; see user.qctx). The connections are then destroyed on release.
func (r *scenarioRun) abortStatements() {
	for _, u := range r.stopping {
		if co := u.held.Load(); co != nil {
			_ = co.conn.PgConn().PgConn().Conn().Close()
		}
	}
}

// unreleased records the users that still hold a connection as leaks.
func (r *scenarioRun) unreleased() {
	for _, u := range r.stopping {
		if co := u.held.Load(); co != nil {
			u.rec.noteLeak(results.Leak{Operation: co.op.Name, User: u.id, Held: time.Since(co.since), Kind: "unreleased"})
		}
	}
}

// fill writes the measurements so far into out.
func (r *scenarioRun) fill(out *results.Scenario, elapsed time.Duration) {
	c := r.col
	out.Elapsed = elapsed
	final := out.Status != "" // a live partial has no status
	c.total.Summary(out, elapsed-min(r.sc.Warmup, elapsed), final)
	if len(c.rare.samples) > 0 {
		out.ErrorSamples = c.rare.samples
	}
	if len(c.rare.sqlstates) > 0 {
		out.SQLStates = c.rare.sqlstates
	}
	sts := r.replicas.stats()
	var each []results.Exhaustion
	c.levels.Take(elapsed, r.replicas.pools)
	out.Utilization = c.levels.Utilization(elapsed)
	out.Exhaustion, each = c.exhaustion(sts)
	measured := elapsed - out.Warmup
	out.Exhaustion.Share = results.ExhaustionShare(out.Exhaustion.Total, measured, len(sts))
	out.Replicas = out.Replicas[:0]
	for i, st := range sts {
		rep := results.Replica{
			Index: r.replicas.numbers[i], Acquires: st.Acquires, MaxOpen: c.replicas[i].maxOpen,
			Utilization: c.levels.Replica(i, elapsed), Exhaustion: each[i],
		}
		rep.Exhaustion.Share = results.ExhaustionShare(rep.Exhaustion.Total, measured, 1)
		out.Replicas = append(out.Replicas, rep)
	}
	out.Leaks = c.rare.leakCount
	out.LeakDetails = c.rare.leaks
	if c.rec != nil {
		out.Recovery = c.rec.Finish()
		out.Recovery.AfterStage = r.sc.RecoveryAfter
	}
	if final {
		r.fillFaults(out)
	}
	out.Model = results.ModelClosed
	out.Think = (r.sc.Think.Min + r.sc.Think.Max) / 2
	if r.open != nil {
		out.Think = 0
		r.open.fill(out)
	}
	if final {
		out.Series = c.series.Flush()
		out.SeriesStep = c.series.Step()
	}
	if r.watcher != nil { // the service so far; serviceDrained writes the final one
		out.Service = r.serviceSummary()
	}
}

func (r *scenarioRun) fillConnections(out *results.Scenario, sts []pool.Stats) {
	st := sumStats(sts)
	var maxOpen int
	for i, s := range sts {
		maxOpen += max(s.MaxOpen, r.col.replicas[i].maxOpen)
	}
	c := results.Connections{
		Opened: st.Opened,
		Closed: st.ClosedRecycled + st.ClosedOverflow + st.ClosedBroken + st.ClosedEnd,
		ClosedBy: map[string]int64{
			results.CloseRecycled: st.ClosedRecycled,
			results.CloseOverflow: st.ClosedOverflow,
			results.CloseBroken:   st.ClosedBroken,
			results.CloseEnd:      st.ClosedEnd,
		},
		MaxOpen: maxOpen,
	}
	if st.Acquires > 0 {
		c.Reuse = 1 - float64(st.Opened)/float64(st.Acquires)
	}
	out.Connections = c
	out.Connect = hdr.Summarize(r.replicas.connectLatency())
}

// serverLeaks checks that the server's backends for the plan's
// application_name fall back to what the pool holds once the load stopped.
// When the monitor connection cannot make the check, out records it as not
// made (results.CheckServerLeaks), so that leaks is not judged as complete.
func (r *scenarioRun) serverLeaks(out *results.Scenario) {
	if r.env.monitor == nil {
		return
	}
	notChecked := func(err error) {
		reason := "the monitor connection could not count the server's backends: " + errorSample(err, "")
		r.env.logf("scenario %s: server leak check not made: %s", r.sc.Name, reason)
		out.NotChecked = append(out.NotChecked, results.NotChecked{Check: results.CheckServerLeaks, Figures: []string{"leaks"}, Reason: reason})
	}
	ctx, cancel := context.WithTimeout(context.Background(), serverLeakGrace+time.Second)
	defer cancel()
	mon, err := r.env.reconnectMonitor(ctx) // a restart fault closed it
	if err != nil {
		notChecked(err)
		return
	}
	deadline := time.Now().Add(serverLeakGrace)
	var extra int
	for {
		var n int
		err = mon.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`, r.env.poolAppName()).Scan(&n)
		if err != nil {
			notChecked(err)
			return
		}
		extra = n - sumStats(r.replicas.stats()).Total
		if extra <= 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if extra > 0 {
		out.Leaks += extra
		if len(out.LeakDetails) < maxLeakDetails {
			out.LeakDetails = append(out.LeakDetails, results.Leak{Operation: fmt.Sprintf("%d backend(s) with application_name %q beyond the pool's connections", extra, r.env.poolAppName()), Kind: "server"})
		}
	}
}

// fillFaults records what each fault did and the recovery after it. The
// scenario's Recovery becomes the worst of the stage's and the faults'. A
// fault that could not be applied leaves the recovery figures unchecked.
func (r *scenarioRun) fillFaults(out *results.Scenario) {
	if len(out.Faults) == 0 {
		return
	}
	recs := []*results.Recovery{out.Recovery}
	for i, w := range r.col.faults {
		f := &out.Faults[i]
		if f.Status == results.FaultFailed {
			out.NotChecked = append(out.NotChecked, results.NotChecked{Check: results.CheckFault,
				Figures: []string{"recovery", "recovered", "faults"},
				Reason:  fmt.Sprintf("fault %d (%s) could not be applied: %s", i+1, f.What, f.Effect)})
			continue
		}
		f.Recovery = w.finish()
		recs = append(recs, f.Recovery)
	}
	out.Recovery = results.WorstRecovery(recs...)
}
