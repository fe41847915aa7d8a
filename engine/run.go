// Package engine compiles a plan into a stage pipeline (preflight → setup →
// scenarios → teardown) and runs it against PostgreSQL, measuring every
// acquire, statement and operation. It knows nothing of assertions or
// reports: it returns plain results (package results).
package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/engine/pool"
	"github.com/planrun/planrun/engine/preflight"
	"github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// Driver names the database driver in results (`driver` in assertions).
const Driver = "pgx"

// MonitorApplicationName is the application_name of planrun's own
// connection (setup, teardown, server-side checks), so it is never counted
// among the pool's backends.
const MonitorApplicationName = "planrun-monitor"

// teardownTimeout bounds the teardown (all statements), which also runs after an interrupt.
const teardownTimeout = time.Minute

// RunOptions are the hooks of a run. All are optional.
type RunOptions struct {
	// Live are the sinks of the live stream: each receives every scenario's
	// snapshot once a second and once more when it ends, in this order
	// (see [live.Sink]; the progress line, --metrics-addr and abort_on_fail
	// assertions). Nil entries are skipped. Default none: no live work.
	Live []live.Sink
	// Logf receives one line per pipeline step (stderr in the CLI).
	Logf func(format string, args ...any)
	// Version is planrun's version, recorded in the results.
	Version string
	// Teardown, when set, bounds the teardown: once it is cancelled (the
	// CLI's second stop signal), the statement running is cancelled, no
	// further statement runs, and the run's TeardownError lists those that
	// did not run. Default nil: only teardownTimeout (1 minute) bounds it.
	// Run's own context never stops the teardown, so that the first stop
	// signal ends the load and still cleans up.
	Teardown context.Context
	// OutDir is where the reports go (--out): the log of a service
	// planrun starts (target.service) is written there, as
	// <ReportName>.service.log. Default "": a new file in the temp directory.
	OutDir string
	// ReportName is the base name of the run's report files in OutDir
	// (report.FileBase: <plan>_<YYYYMMDD_HHMMSS_mmm>), so that each report
	// and its service's log share it. Default "": the log is
	// OutDir/service.log.
	ReportName string
}

// Failure is a run that could not go on: the target was unreachable, a
// critical preflight check failed, or setup failed. The results still hold
// everything measured up to it.
type Failure struct {
	Stage string // "target", "preflight", "setup"
	Err   error
	Hint  string
}

func (f *Failure) Error() string {
	s := fmt.Sprintf("%s failed: %v", f.Stage, f.Err)
	if f.Hint != "" {
		s += "\n  hint: " + f.Hint
	}
	return s
}

func (f *Failure) Unwrap() error { return f.Err }

// runEnv is what every step of one run shares.
type runEnv struct {
	prog    *Program
	opts    RunOptions
	run     *results.Run // the run being recorded (live.Snapshot.Run)
	dsn     string
	monitor *pgx.Conn
	// serverPID is the embedded server's postmaster, whose process tree's
	// CPU the scenarios' selfwatch measures; 0 for an external target.
	serverPID int
	// server is the embedded server (nil for a URL target): the restart fault restarts it.
	server *localpg.Server
	// proxy is the simulated network the pool's connections go through
	// (nil without target.network).
	proxy *netproxy.Proxy
	// svc is the service under test (nil without target.service); svcProxy
	// the proxy its database connections go through (nil for a running
	// service, which planrun does not hand a database URL).
	svc      *service.Process
	svcProxy *netproxy.Proxy
	// red masks the program's secrets (Program.Secrets) in what the engine
	// records from outside: HTTP responses, the service's queries.
	red *redact.Redactor
}

func (e *runEnv) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

// appName is the plan's application_name; written empty, the default
// (schema.ApplicationNameFor the plan's name).
func (e *runEnv) appName() string {
	if n := e.prog.Target.ApplicationName; n != "" {
		return n
	}
	return schema.ApplicationNameFor(e.prog.Plan.Name)
}

// poolAppName is the application_name of the pool's connections: the
// plan's, or in a segment of a split plan the plan's with "-<i>of<N>"
// appended, so that each segment's server-side checks (leaks, the
// terminate_backends fault) count only its own backends while
// `application_name LIKE '<name>%'` still finds them all.
func (e *runEnv) poolAppName() string {
	if seg := e.prog.Segment; seg != nil && seg.Count > 1 {
		return fmt.Sprintf("%s-%dof%d", e.appName(), seg.Index, seg.Count)
	}
	return e.appName()
}

func (e *runEnv) capacity() int { return e.prog.Pool.Capacity() }

func (e *runEnv) poolConfig() pool.Config {
	p := e.prog.Pool
	return pool.Config{
		ConnString: e.dsn, ApplicationName: e.poolAppName(),
		Size: p.Size, MaxOverflow: p.MaxOverflow,
		Timeout: p.Timeout, Recycle: p.Recycle, PrePing: p.PrePing,
		ConnectTimeout: p.ConnectTimeout,
		IsolationLevel: pool.IsolationLevel(p.IsolationLevel),
		ResetOnReturn:  pool.ResetOnReturn(p.ResetOnReturn),
		UseLIFO:        p.UseLIFO,
		Dial:           e.proxyDial(),
	}
}

// proxyDial opens the pool's connections through the simulated network's
// proxy, in-process (netproxy.Proxy.DialContext); nil without one.
func (e *runEnv) proxyDial() func(context.Context) (net.Conn, error) {
	if e.proxy == nil {
		return nil
	}
	return e.proxy.DialContext
}

func (e *runEnv) explain(err error) string {
	return redact.Text(preflight.Explain(err, e.dsn))
}

// newRun starts the results of a run of prog.
func newRun(prog *Program, opts RunOptions) (*runEnv, *results.Run) {
	run := &results.Run{
		SchemaVersion:  results.SchemaVersion,
		PlanrunVersion: opts.Version,
		Plan:           prog.Plan,
		Pool:           prog.Pool,
		StartedAt:      time.Now().UTC(),
		Status:         results.StatusCompleted,
		TimeScale:      prog.TimeScale,
		Seed:           prog.Seed,
		Segment:        copySegment(prog.Segment),
		Partial:        prog.Partial,
		Scenarios:      []results.Scenario{},
		Assertions:     []results.Outcome{},
	}
	e := &runEnv{prog: prog, opts: opts, dsn: prog.Target.URL, run: run, red: prog.redactor()}
	run.Target = results.Target{ApplicationName: e.appName(), Replicas: prog.Target.Replicas, Driver: Driver, Network: prog.Target.Network}
	return e, run
}

// fail marks run as failed by f, or as interrupted when ctx was cancelled
// (an interrupt during preflight or setup is not the target's fault).
func fail(ctx context.Context, run *results.Run, f *Failure) (*results.Run, error) {
	if ctx.Err() != nil {
		run.Status = results.StatusInterrupted
		run.StatusReason = fmt.Sprintf("%s during %s", interruption(ctx), f.Stage)
		return run, nil
	}
	run.Status = results.StatusFailed
	run.StatusReason = redact.Text(f.Error())
	return run, f
}

// target resolves the server: the plan's URL, or a throwaway local server
// whose stop function the caller defers.
func (e *runEnv) target(ctx context.Context, run *results.Run) (stop func(), f *Failure) {
	stop = func() {}
	if e.dsn == "" {
		e.logf("target: no URL in the plan, starting a throwaway PostgreSQL")
		need := e.preflightConfig().Capacity().Needed() + 20
		started := time.Now()
		srv, err := localpg.Start(ctx, localpg.Options{MaxConnections: max(100, need)})
		if err != nil {
			hint := "install PostgreSQL (make deps) or set target.url / DATABASE_URL"
			if errors.Is(err, context.DeadlineExceeded) {
				hint = fmt.Sprintf("the throwaway server did not start within %s: the machine is probably overloaded; retry when it is quieter, or set target.url / DATABASE_URL", humanize.Duration(localpg.DefaultStartTimeout))
			}
			return stop, &Failure{Stage: "target", Err: err, Hint: hint}
		}
		e.logf("target: PostgreSQL %s ready on %s in %s", srv.Version(), redact.DSN(srv.DSN()), humanize.Duration(time.Since(started)))
		stop = func() { _ = srv.Stop() }
		e.dsn = srv.DSN()
		e.serverPID = srv.PID()
		e.server = srv
		run.Target.Embedded = true
	}
	run.Target.URL = redact.DSN(e.dsn)
	return stop, nil
}

// preflightConfig is what the preflight checks: the capacity check counts
// the service's pools (target.service.processes) and planrun's own, unless
// every operation is HTTP (see [Program.usesPool]).
func (e *runEnv) preflightConfig() preflight.Config {
	cfg := preflight.Config{
		ConnString: e.dsn, ApplicationName: MonitorApplicationName, Pool: e.prog.Pool,
		Replicas: e.prog.Target.Replicas, MaxThink: maxThink(e.prog),
	}
	if s := e.prog.Target.Service; s != nil {
		cfg.ServiceProcesses = s.Processes
		cfg.PoolUnused = !e.prog.usesPool()
		if s.Spec.URL != "" { // a running service: its open backends are part of its need
			cfg.ServiceApplicationName = s.ApplicationName
		}
	}
	return cfg
}

// preflight runs the checks on their own connection, before any load.
func (e *runEnv) preflight(ctx context.Context, run *results.Run) *Failure {
	pf := preflight.Run(ctx, e.preflightConfig())
	run.Preflight = pf.Checks
	if c := e.restartCheck(); c != nil {
		run.Preflight = append(run.Preflight, *c)
		pf.Checks = run.Preflight
	}
	run.Target.ServerVersion, run.Target.MaxConnections, run.Target.TLS, run.Target.RTT = pf.ServerVersion, pf.MaxConnections, pf.TLS, pf.RTT
	for _, c := range pf.Checks {
		e.logf("preflight %-12s %-4s %s", c.Name, c.Status, c.Reason)
	}
	if c, failed := pf.Failed(); failed {
		return &Failure{Stage: "preflight", Err: fmt.Errorf("check %s: %s", c.Name, c.Reason)}
	}
	return nil
}

// checkStatements prepares every statement of the scenarios' mixes (the
// preflight check "statements"): after setup in a run, instead of setup in
// preflight mode (setupPending: the plan has setup that has not run). Without
// setup the monitor's session is untouched and serves; after setup (which
// may SET search_path or create temporary tables on it) the check opens a
// fresh connection, as the pool will.
func (e *runEnv) checkStatements(ctx context.Context, run *results.Run, setupPending bool) *Failure {
	cfg := preflight.StatementsConfig{
		ConnString: e.dsn, ApplicationName: MonitorApplicationName, ConnectTimeout: e.prog.Pool.ConnectTimeout,
		Statements: e.prog.mixStatements(), HasSetup: len(e.prog.setup) > 0, SetupPending: setupPending, Setup: e.prog.setupSQL(),
	}
	if len(e.prog.setup) == 0 {
		cfg.Conn = e.monitor // nil in preflight mode: the check opens its own
	}
	res := preflight.Statements(ctx, cfg)
	run.Preflight = append(run.Preflight, res.Check)
	e.logf("preflight %-12s %-4s %s", res.Check.Name, res.Check.Status, res.Check.Reason)
	if err := res.Err(); err != nil {
		return &Failure{Stage: "preflight", Err: err, Hint: "fix the SQL or args at the plan positions shown, or the setup meant to create what they use; no load ran"}
	}
	return nil
}

// Preflight resolves the target and runs only the preflight checks. It runs
// no setup: the statements check runs as is, and when the plan has setup,
// a statement naming something that does not exist yet only warns.
func Preflight(ctx context.Context, prog *Program, opts RunOptions) (*results.Run, error) {
	return pipeline(ctx, prog, opts, false)
}

// Run runs the program: target (the embedded server when the plan names no
// URL), preflight, setup, the statements check (every statement of the
// mixes prepared), scenarios in order, and teardown, which always runs
// once setup has started, also after a failure or an interrupt (ctx
// cancelled). It returns the results in every case; the error is a *Failure
// when the run could not go on.
func Run(ctx context.Context, prog *Program, opts RunOptions) (*results.Run, error) {
	return pipeline(ctx, prog, opts, true)
}

// pipeline runs the stages; without load it stops after preflight.
func pipeline(ctx context.Context, prog *Program, opts RunOptions, load bool) (*results.Run, error) {
	e, run := newRun(prog, opts)
	defer func() { run.FinishedAt = time.Now().UTC() }()
	stop, f := e.target(ctx, run)
	defer stop()
	if f == nil {
		f = e.preflight(ctx, run)
	}
	if f == nil && !load {
		f = e.checkStatements(ctx, run, len(prog.setup) > 0)
	}
	if f != nil {
		return fail(ctx, run, f)
	}
	if !load {
		return run, nil
	}

	mon, err := connectMonitor(ctx, e.dsn, prog.Pool.ConnectTimeout)
	if err != nil {
		return fail(ctx, run, &Failure{Stage: "target", Err: errors.New(e.explain(err))})
	}
	e.monitor = mon
	defer func() { _ = e.monitor.Close(context.Background()) }()

	co := newCoordinator(e) // setup, start and teardown shared by segments
	defer func() {
		if err := co.teardown(); err != nil {
			e.logf("%v", err)
			run.TeardownError = redact.Text(err.Error())
		}
		// A stop during the teardown of a completed load still ends the run
		// as interrupted: whoever stopped it gets exit 4, never a silent 0.
		if run.Status == results.StatusCompleted && (ctx.Err() != nil || e.teardownContext().Err() != nil) {
			run.Status = results.StatusInterrupted
			run.StatusReason = interruption(ctx) + " during teardown; the load had completed"
		}
	}()
	closeProxy, f := e.startNetwork()
	if f != nil {
		return fail(ctx, run, f)
	}
	defer closeProxy()
	if f := co.setup(ctx); f != nil {
		return fail(ctx, run, f)
	}
	if f := e.checkStatements(ctx, run, false); f != nil {
		return fail(ctx, run, f)
	}
	if c := e.lockCheck(ctx); c != nil {
		run.Preflight = append(run.Preflight, *c)
		e.logf("preflight %-12s %-4s %s", c.Name, c.Status, c.Reason)
	}
	stopService, f := e.startService(ctx, run)
	defer stopService() // before the teardown (deferred earlier)
	if f != nil {
		return fail(ctx, run, f)
	}
	co.waitStart(ctx)

	for i, sc := range prog.scenarios {
		if ctx.Err() != nil {
			break
		}
		res := e.runScenario(ctx, i, sc)
		res.Name = sc.Name
		run.Scenarios = append(run.Scenarios, res)
		e.logf("scenario %s: %s, %d ops, %d errors", sc.Name, res.Status, res.Ops, res.Errors)
		if res.Status == results.StatusAborted {
			run.Status = results.StatusAborted
			run.StatusReason = fmt.Sprintf("aborted in scenario %s by an abort_on_fail assertion", sc.Name)
			break
		}
		if res.Status == results.StatusFailed {
			run.Status = results.StatusFailed
			run.StatusReason = fmt.Sprintf("scenario %s could not run: %s", sc.Name, res.ErrorSamples[results.ErrOther])
			break
		}
	}
	if ctx.Err() != nil && run.Status == results.StatusCompleted {
		run.Status = results.StatusInterrupted
		run.StatusReason = interruption(ctx) + "; the results hold what was measured until then"
	}
	return run, nil
}

// statements runs setup SQL on the monitor connection, stopping at the first error.
func (e *runEnv) statements(ctx context.Context, stage string, sts []statement) error {
	if len(sts) == 0 {
		return nil
	}
	e.logf("%s: %d statement(s)", stage, len(sts))
	for i := range sts {
		if err := e.exec(ctx, stage, i, &sts[i]); err != nil {
			return err
		}
	}
	return nil
}

// exec runs statement i of a stage on the monitor connection.
func (e *runEnv) exec(ctx context.Context, stage string, i int, st *statement) error {
	args, err := evalStatementArgs(ctx, st, e.prog.argTimeout())
	if err == nil {
		_, err = e.monitor.Exec(ctx, st.SQL, args...)
	}
	if err != nil {
		return fmt.Errorf("%s statement %d (%s): %w", stage, i+1, abbreviate(redact.Text(st.SQL), 60), err)
	}
	return nil
}

// teardown runs every teardown statement, also after an interrupt: the
// run's context does not reach it. Its own bounds are opts.Teardown (the
// CLI's second stop signal) and teardownTimeout. It goes on past a failing
// statement so that later clean-up still happens (on a fresh connection when
// an interrupted statement closed the monitor's), but once a bound ends it
// stops and names every statement that did not run. It returns every
// failure, joined.
func (e *runEnv) teardown() error {
	sts := e.prog.teardown
	if len(sts) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(e.teardownContext(), teardownTimeout)
	defer cancel()
	if _, err := e.reconnectMonitor(ctx); err != nil {
		if ctx.Err() != nil {
			return e.notRun(sts)
		}
		return fmt.Errorf("teardown: cannot connect: %s", e.explain(err))
	}
	e.logf("teardown: %d statement(s)", len(sts))
	var errs []error
	for i := range sts {
		err := e.exec(ctx, "teardown", i, &sts[i])
		if err != nil && ctx.Err() != nil { // stopped: statement i did not finish either
			return errors.Join(append(errs, e.notRun(sts[i:]))...)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// teardownContext is opts.Teardown, or a context never cancelled.
func (e *runEnv) teardownContext() context.Context {
	if e.opts.Teardown != nil {
		return e.opts.Teardown
	}
	return context.Background()
}

// notRun is the error of a teardown stopped before sts ran: why it stopped,
// then each statement on a line of its own, redacted, so that they can be
// run by hand.
func (e *runEnv) notRun(sts []statement) error {
	why := "teardown interrupted"
	if e.teardownContext().Err() == nil {
		why = "teardown timed out after " + humanize.Duration(teardownTimeout)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: these statements did not run:", why)
	for _, st := range sts {
		b.WriteString("\n  " + oneLine.Replace(strings.TrimSpace(redact.Text(st.SQL))))
	}
	return errors.New(b.String())
}

// oneLine puts a statement written over several lines on one.
var oneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// interruption says what stopped the run: "interrupted (SIGHUP)" when ctx
// was cancelled with a cause (the CLI names the signal), else "interrupted".
func interruption(ctx context.Context) string {
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return "interrupted"
	}
	return fmt.Sprintf("interrupted (%v)", cause)
}

// reconnectMonitor returns the monitor connection, opened again when it was
// closed (an interrupted statement, a restart fault).
func (e *runEnv) reconnectMonitor(ctx context.Context) (*pgx.Conn, error) {
	if !e.monitor.IsClosed() {
		return e.monitor, nil
	}
	mon, err := connectMonitor(ctx, e.dsn, e.prog.Pool.ConnectTimeout)
	if err != nil {
		return nil, err
	}
	e.monitor = mon
	return mon, nil
}

func connectMonitor(ctx context.Context, dsn string, timeout time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["application_name"] = MonitorApplicationName
	if timeout > 0 {
		cfg.ConnectTimeout = timeout
	}
	return pgx.ConnectConfig(ctx, cfg)
}

func maxThink(p *Program) time.Duration {
	var m time.Duration
	for _, s := range p.scenarios {
		m = max(m, s.Think.Max)
	}
	return m
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
