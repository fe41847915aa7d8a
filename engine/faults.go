package engine

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/measure"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// fault is a compiled scheduled fault: schema.Fault with At and For scaled
// by --time-scale (Add, a latency, is not a span of the schedule and is not
// scaled).
type fault struct {
	Index int    // position in the scenario's faults, from 0
	Kind  string // one of schema.FaultKinds
	// What describes the fault as planned (results.Fault.What).
	What    string
	At, For time.Duration
	Add     time.Duration
	Share   float64 // terminate_backends: the fraction of the pool's backends
	Table   string  // lock: the table, as written (may be schema-qualified)
}

// lasts reports whether the fault has a duration: while it lasts, the pool
// counts as stressed for its recovery measure.
func (f *fault) lasts() bool { return f.For > 0 }

func compileFaults(in []schema.Fault, timeScale float64) []*fault {
	out := make([]*fault, 0, len(in))
	for i, sf := range in {
		f := &fault{
			Index: i, Kind: sf.Fault,
			At: scale(sf.At.D(), timeScale), For: scale(sf.For.D(), timeScale),
			Add: sf.Add.D(), Share: float64(sf.Share), Table: sf.Table,
		}
		f.What = describeFault(f)
		out = append(out, f)
	}
	return out
}

// describeFault says what f will do, e.g. "stall for 2s".
func describeFault(f *fault) string {
	d := humanize.Duration
	switch f.Kind {
	case schema.FaultStall:
		return "stall for " + d(f.For)
	case schema.FaultLatency:
		return fmt.Sprintf("latency +%s for %s", d(f.Add), d(f.For))
	case schema.FaultReset:
		return "reset every pool connection"
	case schema.FaultTerminateBackends:
		return fmt.Sprintf("terminate %s of the pool's backends", humanize.Percent(f.Share))
	case schema.FaultLock:
		return fmt.Sprintf("lock %s (ACCESS EXCLUSIVE) for %s", f.Table, d(f.For))
	case schema.FaultRestart:
		return "restart the server, down " + d(f.For)
	}
	return f.Kind
}

// faultState is when a fault started and ended, as offsets from the
// scenario's start in nanoseconds, -1 until then. The goroutine applying
// the fault writes it; the collector reads it at each pool sample.
type faultState struct {
	started, ended atomic.Int64
}

func newFaultState() *faultState {
	s := &faultState{}
	s.started.Store(-1)
	s.ended.Store(-1)
	return s
}

// faultWatch measures the recovery after one fault.
type faultWatch struct {
	f     *fault
	state *faultState
	rec   *measure.Recovery
}

// sample feeds one pool sample interval ending at offset at to the
// recovery measure. Before the fault starts nothing is measured; while a
// lasting fault is under way (and in the interval it ends in) the pool
// counts as stressed, so its recovery runs from the fault's end.
func (w *faultWatch) sample(at time.Duration, exhausted bool, t measure.Tick) {
	started := time.Duration(w.state.started.Load())
	if started < 0 {
		return
	}
	ended := time.Duration(w.state.ended.Load())
	w.rec.Start, w.rec.End = started, ended
	if ended < 0 {
		w.rec.End = math.MaxInt64
	}
	active := w.f.lasts() && at > started && (ended < 0 || at-sampleInterval < ended)
	w.rec.Add(at, exhausted || active, t)
}

// finish returns the recovery after the fault.
func (w *faultWatch) finish() *results.Recovery {
	var r *results.Recovery
	if w.state.started.Load() < 0 {
		r = &results.Recovery{Status: results.RecoveryNotReached, Settle: w.rec.Settle}
	} else {
		r = w.rec.Finish()
	}
	r.AfterFault = w.f.Index + 1
	return r
}

// faultRunner applies a scenario's faults on their schedule, each in its
// own goroutine (faults of different kinds may overlap).
type faultRunner struct {
	r      *scenarioRun
	out    []results.Fault // out[i] is written by fault i's goroutine only
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startFaults schedules the scenario's faults from r.start on. ctx ending
// (an interrupt) or stopFaults ends every fault under way at once and
// leaves those not started as not reached.
func (r *scenarioRun) startFaults(ctx context.Context) *faultRunner {
	ctx, cancel := context.WithCancel(ctx)
	fr := &faultRunner{r: r, cancel: cancel, out: make([]results.Fault, len(r.sc.Faults))}
	for i, f := range r.sc.Faults {
		fr.out[i] = results.Fault{Kind: f.Kind, What: f.What, At: f.At, For: f.For, Status: results.FaultNotReached}
		fr.wg.Add(1)
		go fr.run(ctx, f, r.col.faults[i].state)
	}
	return fr
}

// stop ends the faults under way (a lasting fault is cut short), waits for
// them, and returns what each did.
func (fr *faultRunner) stop() []results.Fault {
	fr.cancel()
	fr.wg.Wait()
	if len(fr.out) == 0 {
		return nil
	}
	return fr.out
}

func (fr *faultRunner) run(ctx context.Context, f *fault, state *faultState) {
	defer fr.wg.Done()
	r := fr.r
	timer := time.NewTimer(time.Until(r.start.Add(f.At)))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return
	case <-timer.C:
	}
	out := &fr.out[f.Index]
	out.Started = time.Since(r.start)
	state.started.Store(int64(out.Started))
	effect, err := r.env.applyFault(ctx, f)
	out.Ended = time.Since(r.start)
	state.ended.Store(int64(out.Ended))
	out.Status, out.Effect = results.FaultApplied, effect
	if err != nil {
		out.Status, out.Effect = results.FaultFailed, errorSample(err, "")
	}
	r.env.logf("scenario %s: fault %d (%s) at %s: %s: %s", r.sc.Name, f.Index+1, f.What, humanize.Duration(out.Started), out.Status, out.Effect)
}

// applyFault does f and returns what it did. A lasting fault returns when
// it has lasted f.For, or at once when ctx ends (its effect then says it
// was cut short).
func (e *runEnv) applyFault(ctx context.Context, f *fault) (string, error) {
	// The pool's proxy (target.network) and the service's (target.service)
	// both carry the fault.
	proxies := e.proxies()
	switch f.Kind {
	case schema.FaultStall, schema.FaultLatency, schema.FaultReset:
		if len(proxies) == 0 { // the schema requires target.network for these
			return "", fmt.Errorf("%s needs target.network", f.Kind)
		}
	}
	switch f.Kind {
	case schema.FaultStall:
		n := 0
		for _, p := range proxies {
			n += p.Conns()
			p.SetStalled(true)
		}
		lasted := sleep(ctx, f.For)
		for _, p := range proxies {
			p.SetStalled(false)
		}
		return fmt.Sprintf("held every byte of %d connection(s), and new connects, for %s%s", n, humanize.Duration(lasted), cutShort(ctx)), nil
	case schema.FaultLatency:
		for _, p := range proxies {
			p.SetExtraLatency(f.Add)
		}
		lasted := sleep(ctx, f.For)
		for _, p := range proxies {
			p.SetExtraLatency(0)
		}
		return fmt.Sprintf("+%s on every round trip for %s%s", humanize.Duration(f.Add), humanize.Duration(lasted), cutShort(ctx)), nil
	case schema.FaultReset:
		n := 0
		for _, p := range proxies {
			n += p.Reset()
		}
		return fmt.Sprintf("reset %d connection(s)", n), nil
	case schema.FaultTerminateBackends:
		return e.terminateBackends(ctx, f.Share)
	case schema.FaultLock:
		if seg := e.prog.Segment; seg != nil && seg.Index > 1 {
			// One lock on the shared server: segment 1 takes it, the
			// others live through it.
			lasted := sleep(ctx, f.For)
			return fmt.Sprintf("segment 1 holds ACCESS EXCLUSIVE on %s; this segment ran through it for %s%s", f.Table, humanize.Duration(lasted), cutShort(ctx)), nil
		}
		return e.lockTable(ctx, f.Table, f.For)
	case schema.FaultRestart:
		if e.server == nil {
			return "", fmt.Errorf("restart needs the embedded server")
		}
		down, err := e.server.Restart(ctx, f.For)
		if err != nil {
			return "", fmt.Errorf("restart: %w", err)
		}
		return fmt.Sprintf("server down %s (shutdown to ready), back on port %d", humanize.Duration(down), e.server.Port()), nil
	}
	return "", fmt.Errorf("unknown fault %q", f.Kind)
}

// sleep waits d or until ctx ends, and returns how long it waited.
func sleep(ctx context.Context, d time.Duration) time.Duration {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return time.Since(start)
}

// cutShort is the note an effect gets when ctx ended the fault early.
func cutShort(ctx context.Context) string {
	if ctx.Err() != nil {
		return " (cut short: the scenario stopped)"
	}
	return ""
}

// faultConn opens a direct connection for a fault (never through the
// simulated network), named like the monitor so that it is not counted
// among the pool's backends.
func (e *runEnv) faultConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := connectMonitor(ctx, e.dsn, e.prog.Pool.ConnectTimeout)
	if err != nil {
		return nil, fmt.Errorf("connect: %s", e.explain(err))
	}
	return conn, nil
}

// terminateBackends calls pg_terminate_backend on share of the backends
// with the pool's application_name (at least one when there are any).
func (e *runEnv) terminateBackends(ctx context.Context, share float64) (string, error) {
	conn, err := e.faultConn(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var total, terminated int
	err = conn.QueryRow(ctx, `
WITH pool AS (
  SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()
), picked AS (
  SELECT pid FROM pool ORDER BY random() LIMIT ceil($2::float8 * (SELECT count(*) FROM pool))
)
SELECT (SELECT count(*) FROM pool), count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM picked`,
		e.poolAppName(), share).Scan(&total, &terminated)
	if err != nil {
		return "", fmt.Errorf("pg_terminate_backend: %w (the target's role needs to own the backends or be a member of pg_signal_backend)", err)
	}
	return fmt.Sprintf("terminated %d of %d backends", terminated, total), nil
}

// lockTable holds ACCESS EXCLUSIVE on table for d in a transaction of its
// own, then rolls back. Taking the lock waits for the transactions that hold
// the table, as a migration's would; d counts from the moment it is granted.
func (e *runEnv) lockTable(ctx context.Context, table string, d time.Duration) (string, error) {
	conn, err := e.faultConn(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	asked := time.Now()
	// The schema checked that table is one or two identifiers, as SQL reads them.
	if _, err := tx.Exec(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		return "", fmt.Errorf("lock %s: %w", table, err)
	}
	waited := time.Since(asked)
	held := sleep(ctx, d)
	return fmt.Sprintf("held ACCESS EXCLUSIVE on %s for %s (granted after %s)%s", table, humanize.Duration(held), humanize.Duration(waited), cutShort(ctx)), nil
}

// afterRestart follows a restart fault that ran: the monitor connection
// is closed (the server it was connected to is gone; the next use opens a
// fresh one, see reconnectMonitor), and the next scenarios watch the new
// postmaster's CPU.
func (e *runEnv) afterRestart(faults []results.Fault) {
	for _, f := range faults {
		if f.Kind == schema.FaultRestart && f.Status != results.FaultNotReached {
			if e.monitor != nil {
				_ = e.monitor.Close(context.Background())
			}
			if e.server != nil {
				e.serverPID = e.server.PID()
			}
			return
		}
	}
}
