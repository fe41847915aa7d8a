package engine

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/results"
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
	args  []any
	res   opResult
	// held is the checkout the user is in (nil when none): read by the
	// scenario to find unreleased connections and, on a forced stop, to
	// break the statement it runs (see scenarioRun.abortStatements).
	held atomic.Pointer[checkout]
	// qctx is the context of statements: never cancelled, because pgx would
	// watch a cancellable one on every call; a forced stop closes the
	// connection instead.
	qctx context.Context
}

// checkout is one connection held by a user, from acquire to release. It is
// never changed once published, so a reader sees one consistent checkout.
type checkout struct {
	conn  *pool.Conn
	op    *operation
	since time.Time
}

func newUser(id int, sc *scenario, p *pool.Pool, rec *recorder) *user {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &user{
		id: id, sc: sc, pool: p, rec: rec,
		stop: make(chan struct{}), done: make(chan struct{}),
		timer: t,
		env:   argEnv{User: id, Scenario: sc.Name},
	}
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
		u.operate(ctx, u.sc.Mix.pick(mrand.Float64()))
	}
}

func (u *user) think() time.Duration { return thinkTime(u.sc.Think) }

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

// operate runs one operation and records it.
func (u *user) operate(ctx context.Context, op *operation) {
	u.env.Iteration++
	res := &u.res
	*res = opResult{op: op.Index, category: -1}
	start := time.Now()
	err := u.execute(ctx, op, res, start)
	res.total = time.Since(start)
	if err != nil {
		cat, state := classify(err)
		if ctx.Err() != nil {
			cat = results.ErrCancelled
		}
		res.category = categoryIndex[cat]
		u.rec.noteError(cat, state, fmt.Sprintf("%s: %s", op.Name, errorSample(err, state)))
	}
	u.rec.add(res)
	if res.acquired && res.hold > u.sc.LeakThreshold {
		u.rec.noteLeak(results.Leak{Operation: op.Name, User: u.id, Held: res.hold, Kind: "held"})
	}
}

func (u *user) execute(ctx context.Context, op *operation, res *opResult, start time.Time) error {
	conn, err := u.pool.Acquire(ctx)
	acquired := time.Now()
	res.acquire = acquired.Sub(start)
	if err != nil {
		return err
	}
	res.acquired = true
	u.held.Store(&checkout{conn: conn, op: op, since: acquired})
	defer func() {
		u.held.Store(nil)
		u.pool.Release(conn)
		res.hold = time.Since(acquired)
	}()

	pg := conn.PgConn()
	if op.Transaction {
		if _, err := pg.Exec(u.qctx, "BEGIN"); err != nil {
			return err
		}
	}
	for i := range op.Statements {
		st := &op.Statements[i]
		args, err := u.evalArgs(st)
		if err != nil {
			if op.Transaction {
				_, _ = pg.Exec(u.qctx, "ROLLBACK")
			}
			return err
		}
		t := time.Now()
		_, err = pg.Exec(u.qctx, st.SQL, args...)
		d := time.Since(t)
		if res.nQueries < len(res.queries) {
			res.queries[res.nQueries] = d
			res.nQueries++
		} else {
			u.rec.addQuery(op.Index, d)
		}
		if err != nil {
			if op.Transaction && !pg.IsClosed() {
				_, _ = pg.Exec(u.qctx, "ROLLBACK")
			}
			return err
		}
	}
	if op.Transaction {
		if _, err := pg.Exec(u.qctx, "COMMIT"); err != nil {
			return err
		}
	}
	if op.Hold > 0 {
		if !u.sleep(op.Hold, ctx.Done()) {
			return ctx.Err()
		}
	}
	return nil
}

func (u *user) evalArgs(st *statement) ([]any, error) {
	if len(st.Args) == 0 {
		return nil, nil
	}
	u.args = u.args[:0]
	for _, p := range st.Args {
		v, err := u.vm.Run(p, &u.env)
		if err != nil {
			return nil, fmt.Errorf("%w: %s", errArgs, err)
		}
		u.args = append(u.args, v)
	}
	return u.args, nil
}
