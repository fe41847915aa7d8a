package engine

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/internal/httpop"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

// user is one closed-model virtual user: it loops think → acquire → run →
// hold → release until it is stopped. A stopped user finishes the operation
// it is in.
type user struct {
	id    int
	sc    *scenario
	pool  *pool.Pool
	rec   *recorder
	stop  chan struct{} // closed to remove the user (ramp-down, scenario end)
	done  chan struct{} // closed when the user has returned
	timer *time.Timer
	env   argEnv
	vm    vm.VM
	argv  [][]any // the current operation's args, by statement
	res   opResult
	// evalStart is when the args evaluation in progress started (see
	// clock), 0 when none, abandonedMark once the scenario's watchdog gave
	// up on it (see scenarioRun.watch): the user is then stuck in the expr
	// VM, which cannot be interrupted, and nobody waits for it any more.
	evalStart atomic.Int64
	// evalArg and evalOp are the expression being evaluated and its
	// operation. Written before evalStart; the watchdog reads them
	// only after it swapped evalStart to abandonedMark, after which the
	// user never writes them again.
	evalArg *argExpr
	evalOp  *operation
	// argTimeout is the time budget of one evaluation, for messages (the
	// scenario's watchdog enforces it).
	argTimeout time.Duration
	// held is the checkout the user is in (nil when none): read by the
	// scenario to find unreleased connections and, on a forced stop, to
	// break the statement it runs (see scenarioRun.abortStatements).
	held atomic.Pointer[checkout]
	// rng draws the user's operation picks and think times (see
	// scenario.rand); an open-model worker gets its operations handed.
	rng *mrand.Rand
	// jobs hands an open-model worker its arrivals (nil for a user).
	jobs chan arrival
	// argPCG is an open-model worker's args source, reseeded per arrival
	// (nil for a user, whose args draw from rng).
	argPCG *mrand.PCG
	// qctx is the context of statements: never cancelled, because pgx would
	// watch a cancellable one on every call; a forced stop closes the
	// connection instead.
	qctx context.Context
	// svc sends the HTTP operations (nil when the plan has no service).
	svc *serviceClient
}

// serviceClient is a scenario's way to the service under test: one HTTP
// client for all its users (keep-alive connections up to its concurrency).
type serviceClient struct {
	client *http.Client
	base   string
	red    *redact.Redactor
}

// request sends HTTP operation op with the args evalArgs left in u.argv and
// records it: its latency from start (an open model's scheduled start) to
// the end of the response body; no acquire and no hold (the service's pool
// is the service's); a failure's category from the outcome, and its first
// example.
func (u *user) request(ctx context.Context, op *operation, res *opResult, start time.Time) {
	var args []any
	if len(u.argv) > 0 {
		args = u.argv[0]
	}
	var o httpop.Outcome
	if u.svc == nil {
		o = httpop.Outcome{Category: results.ErrOther, Sample: "no service to send the request to"}
	} else {
		o = op.HTTP.Do(ctx, u.svc.client, u.svc.base, args, u.svc.red)
	}
	res.Total, res.Request = time.Since(start), true
	if o.Category != "" {
		res.Category = tally.Category(o.Category)
		u.rec.noteError(o.Category, "", op.Name+": "+o.Sample)
	}
	u.rec.add(res)
}

// checkout is one connection held by a user, from acquire to release. It is
// never changed once published, so a reader sees one consistent checkout.
type checkout struct {
	conn  *pool.Conn
	op    *operation
	since time.Time
}

func newUser(id int, sc *scenario, p *pool.Pool, rec *recorder, argTimeout time.Duration) *user {
	t := time.NewTimer(time.Hour)
	t.Stop()
	u := &user{
		id: id, sc: sc, pool: p, rec: rec,
		stop: make(chan struct{}), done: make(chan struct{}),
		timer:      t,
		env:        argEnv{User: id, Scenario: sc.Name},
		argTimeout: argTimeout,
		rng:        sc.rand(streamUser, id),
	}
	// A closed-model user's args draw from its own stream; an open-model
	// worker's are reseeded for each arrival (openRun.work).
	u.env.Rand = u.rng
	return u
}

// finished reports whether the user's loop has returned.
func (u *user) finished() bool {
	select {
	case <-u.done:
		return true
	default:
		return false
	}
}

// run is the user's loop. ctx ends the operations themselves (interrupt, or
// the end of the drain grace period).
func (u *user) run(ctx context.Context) {
	defer close(u.done)
	// Every call watches its context (pgx, the pool): a context of the user's
	// own keeps that bookkeeping off the lock of the scenario's shared one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.qctx = context.WithoutCancel(ctx)
	for {
		if !u.sleep(u.think(), u.stop) {
			return
		}
		select {
		case <-u.stop:
			return
		default:
		}
		if ctx.Err() != nil {
			return
		}
		if !u.operate(ctx, u.sc.Mix.pick(u.rng.Float64()), time.Time{}) {
			return // abandoned in an args expression
		}
	}
}

func (u *user) think() time.Duration {
	return uniform(u.sc.Think.Min, u.sc.Think.Max, u.rng.Uint64N, u.rng.Uint64)
}

// sleep waits d unless cancel is closed first; it reports whether it slept fully.
func (u *user) sleep(d time.Duration, cancel <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	u.timer.Reset(d)
	select {
	case <-u.timer.C:
		return true
	case <-cancel:
		u.timer.Stop()
		return false
	}
}

// operate runs one operation and records it. It returns false when the
// user was abandoned in an args expression: the watchdog recorded the
// operation, and the user must stop. An open model's operation has a
// scheduled start: its latency runs from then, so a late start keeps its
// whole delay (coordinated omission), and the delay is its lag.
func (u *user) operate(ctx context.Context, op *operation, scheduled time.Time) bool {
	u.env.Iteration++
	res := &u.res
	*res = opResult{Op: op.Index, Category: -1}
	start := time.Now()
	if !scheduled.IsZero() {
		res.Scheduled, res.Lag = true, max(start.Sub(scheduled), 0)
		start = scheduled
	}
	err := u.evalArgs(op)
	if err == nil && op.HTTP != nil {
		u.request(ctx, op, res, start)
		return true
	}
	if err == nil {
		err = u.execute(ctx, op, res, time.Now())
	}
	if errors.Is(err, errAbandoned) {
		return false
	}
	res.Total = time.Since(start)
	if err != nil {
		cat, state := classify(err)
		if ctx.Err() != nil {
			cat = results.ErrCancelled
		}
		res.Category = tally.Category(cat)
		u.rec.noteError(cat, state, fmt.Sprintf("%s: %s", op.Name, errorSample(err, state)))
	}
	u.rec.add(res)
	if res.Acquired && res.Hold > u.sc.LeakThreshold {
		u.rec.noteLeak(results.Leak{Operation: op.Name, User: u.id, Held: res.Hold, Kind: "held"})
	}
	return true
}

// execute acquires a connection at start and runs op's statements with the
// args evalArgs left in u.argv, as SQLAlchemy's async engine over asyncpg
// does (see package pool): a plain operation is `async with
// engine.connect()`: its first statement begins the checkout's transaction
// (unless the pool runs autocommit) and the pool resets it on release
// (ROLLBACK by default); a transaction operation is `async with
// engine.begin()`: BEGIN … COMMIT (ROLLBACK on an error), so nothing is
// left to reset. The acquire wait ends when the pool hands the connection
// over; the hold runs from then, its pre-ping included, until the release
// (and its reset) is done.
func (u *user) execute(ctx context.Context, op *operation, res *opResult, start time.Time) error {
	conn, err := u.pool.Acquire(ctx)
	if err != nil {
		res.Acquire = time.Since(start)
		return err
	}
	acquired := conn.CheckedOut()
	res.Acquire = acquired.Sub(start)
	res.Acquired = true
	u.held.Store(&checkout{conn: conn, op: op, since: acquired})
	defer func() {
		u.pool.Release(conn) // held meanwhile: a forced stop breaks a reset that hangs
		u.held.Store(nil)
		res.Hold = time.Since(acquired)
	}()

	// The BEGIN is the checkout's, not its first statement's: it counts in
	// the hold, not in a query latency.
	begin := conn.Autobegin
	if op.Transaction {
		begin = conn.Begin
	}
	if err := begin(u.qctx); err != nil {
		return err
	}
	for i := range op.Statements {
		st := &op.Statements[i]
		t := time.Now()
		err := conn.Exec(u.qctx, st.SQL, u.argv[i]...)
		d := time.Since(t)
		if res.NQueries < len(res.Queries) {
			res.Queries[res.NQueries] = d
			res.NQueries++
		} else {
			u.rec.addQuery(op.Index, d)
		}
		if err != nil {
			if op.Transaction && !conn.PgConn().IsClosed() {
				_ = conn.Rollback(u.qctx)
			}
			return err
		}
	}
	if op.Transaction {
		if err := conn.Commit(u.qctx); err != nil {
			return err
		}
	}
	if hold := op.hold(u.env.Rand); hold > 0 {
		if !u.sleep(hold, ctx.Done()) {
			return ctx.Err()
		}
	}
	return nil
}

// evalArgs evaluates the args of every statement of op into u.argv, before
// the operation acquires its connection: the generator's work is not the
// pool's, and a user stuck in an expression holds no connection.
func (u *user) evalArgs(op *operation) error {
	u.argv = slices.Grow(u.argv[:0], len(op.Statements))[:len(op.Statements)]
	for i := range op.Statements {
		vals := u.argv[i][:0]
		for _, a := range op.Statements[i].Args {
			v, err := u.eval(a, op)
			if err != nil {
				return err
			}
			vals = append(vals, v)
		}
		u.argv[i] = vals
	}
	return nil
}

// errAbandoned is returned by an evaluation the watchdog gave up on.
var errAbandoned = errors.New("abandoned in an args expression")

// abandonedMark is evalStart's value once the watchdog gave up on the
// evaluation.
const abandonedMark = -1

// eval evaluates one args expression of operation op, noting its start for
// the watchdog: an atomic store and a compare-and-swap around the run,
// nothing else on the hot path.
func (u *user) eval(a *argExpr, op *operation) (any, error) {
	if a.overrun.Load() {
		return nil, a.errOverrun(u.argTimeout)
	}
	u.evalArg, u.evalOp = a, op
	start := clock()
	u.evalStart.Store(start)
	v, err := u.vm.Run(a.program, &u.env)
	if !u.evalStart.CompareAndSwap(start, 0) {
		return nil, errAbandoned
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", errArgs, err)
	}
	return v, nil
}

// clockBase is the origin of clock.
var clockBase = time.Now()

// clock returns the nanoseconds since clockBase on the monotonic clock,
// never 0 (evalStart's "no evaluation").
func clock() int64 { return int64(time.Since(clockBase)) + 1 }
