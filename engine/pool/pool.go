// Package pool runs SQLAlchemy QueuePool semantics on pgx/v5 pgxpool, with
// accounting of every connection's life: opened, closed by reason, connect
// latency.
//
// SQLAlchemy semantics (size N, overflow M): at most N+M connections are open
// at any time; a returned connection is closed when N connections are already
// idle (the pool's queue is full); a waiting checkout fails after the pool
// timeout; connections older than pool_recycle are replaced at checkout;
// pool_pre_ping checks a connection before handing it out. Connections are
// opened lazily, on demand.
//
// # How it maps onto pgxpool
//
// pgxpool runs with MaxConns = N+M, MinConns = 0 and every automatic
// destruction switched off (no MaxConnLifetime, no idle timeout, no health
// check, no ping). The package does those itself, at the points where it can
// account for them exactly:
//
//   - Idle bookkeeping: one atomic counter holds the number of connections
//     the pool owns that no user holds (SQLAlchemy's queue length). [Pool.Release]
//     increments it with a compare-and-swap only while it is below N, before
//     handing the connection back to pgxpool; otherwise the connection is
//     closed (an overflow close). [Pool.Acquire] decrements it when pgxpool
//     hands out an idle connection. A connection opened for an Acquire that
//     gave up meanwhile (it lands idle in pgxpool) is adopted into the count,
//     and any excess over N is trimmed in the background. The counter is
//     equal to the number of connections idle in pgxpool when no call is in
//     flight, and otherwise not below it (one exception: a connection opened
//     for an Acquire that timed out after the connect finished may land idle
//     a moment before it is counted; the trim corrects that). So at most N
//     connections are left idle. As in SQLAlchemy's queue, a connection
//     released to a waiter counts as idle until the waiter takes it: a burst
//     of releases while waiters are being woken can close connections that
//     are reopened a moment later (Opened > N+M under churn).
//   - Recycle is checked at checkout (like SQLAlchemy) and at release (like
//     pgxpool). Connections idle in the pool are not recycled in the
//     background; they are replaced at their next checkout.
//   - Pre-ping is done by Acquire after pgxpool hands the connection out.
//   - Closes by the package keep the pgxpool slot until the server has closed
//     its end of the connection (Terminate sent, then read until EOF), and
//     only then free it (Hijack). A backend leaves pg_stat_activity before it
//     closes its socket, so a new connection never starts while the backend
//     of an old one is still listed: the server sees at most N+M backends.
//     (pgconn's Close only sends Terminate: measured, that let the server
//     list N+M+1 backends for a moment while overflow was churning.)
package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/planrun/planrun/internal/redact"
)

// DefaultConnectTimeout is the bound on opening one connection when
// [Config.ConnectTimeout] is 0.
const DefaultConnectTimeout = 5 * time.Second

const (
	// closeTimeout bounds closing a connection: sending Terminate and waiting
	// for the server to close its end.
	closeTimeout = 5 * time.Second
	// healthCheckPeriod of pgxpool: its health check has nothing to do here
	// (no lifetime, no idle time, no MinConns), so it runs rarely.
	healthCheckPeriod = 24 * time.Hour
	// metaKey is the key of *connMeta in pgconn.PgConn.CustomData.
	metaKey = "planrun/engine/pool"
	// trimAttempts and trimPause bound the background trim of excess idle
	// connections (see [Pool.trim]).
	trimAttempts = 50
	trimPause    = 10 * time.Millisecond
)

// Config of a Pool. Zero values: see each field.
type Config struct {
	// ConnString is a PostgreSQL URL or key=value DSN. Required.
	ConnString string
	// ApplicationName is set as application_name on every connection.
	// "" leaves it as the connection string says (unset by default).
	ApplicationName string
	// Size is the number of connections kept open once created
	// (SQLAlchemy pool_size). Must be >= 1.
	Size int
	// MaxOverflow is the number of extra connections opened under load and
	// closed on return while Size are idle (max_overflow). Must be >= 0.
	MaxOverflow int
	// Timeout is how long Acquire may wait for a connection (pool_timeout).
	// Must be > 0.
	Timeout time.Duration
	// Recycle replaces connections older than this, at checkout and at
	// release (pool_recycle). 0 = never.
	Recycle time.Duration
	// PrePing checks a connection with a ping before handing it out
	// (pool_pre_ping). When false a connection is never pinged.
	PrePing bool
	// ConnectTimeout bounds opening one connection (dial, TLS, startup,
	// authentication). 0 = [DefaultConnectTimeout] (5s).
	ConnectTimeout time.Duration
}

// Pool is a SQLAlchemy-style QueuePool. Its methods are safe for concurrent use.
type Pool struct {
	pp         *pgxpool.Pool
	size       int64
	capacity   int64 // Size + MaxOverflow
	recycle    time.Duration
	prePing    bool
	timeout    time.Duration
	errTimeout *timeoutError
	password   string // of ConnString, removed from error texts

	// idle is the number of connections the pool owns that no user holds;
	// see the package documentation.
	idle    atomic.Int64
	open    atomic.Int64 // connections open now: AfterConnect .. close done
	maxOpen atomic.Int64
	waiting atomic.Int64
	closing atomic.Bool

	// counters of Stats
	opened, connectFailures, acquires, timeouts             atomic.Int64
	closedRecycled, closedOverflow, closedBroken, closedEnd atomic.Int64

	trimming atomic.Bool // a trim is running

	histMu      sync.Mutex
	connectHist *hdrhistogram.Histogram // ns, successful connects

	// bg counts background closes and trims; Close waits for them. Once
	// bgClosed is set (under bgMu) no more are started.
	bgMu      sync.Mutex
	bgClosed  bool
	bg        sync.WaitGroup
	closeOnce sync.Once

	attempts sync.Pool // of *attempt, for reuse
}

// Conn is one checkout of a connection, from [Pool.Acquire] to [Pool.Release].
type Conn struct {
	pc      *pgxpool.Conn
	raw     *pgx.Conn
	created time.Time
}

// PgConn returns the underlying connection for Exec, Query and so on. It must
// not be used after [Pool.Release], nor closed by the caller.
func (c *Conn) PgConn() *pgx.Conn { return c.raw }

// connMeta is what the pool keeps per connection (in CustomData).
type connMeta struct {
	created time.Time // when the connection was established (monotonic)
}

// closeReason is why the package closes a connection.
type closeReason int

const (
	reasonRecycled closeReason = iota
	reasonOverflow
	reasonBroken
	reasonEnd
)

// New returns a pool for cfg. It opens no connection: they are opened on
// demand by [Pool.Acquire], like SQLAlchemy's. ctx is only passed to pgxpool.
func New(ctx context.Context, cfg Config) (*Pool, error) {
	if cfg.ConnString == "" {
		return nil, errors.New("pool: ConnString is required")
	}
	if cfg.Size < 1 {
		return nil, fmt.Errorf("pool: Size must be >= 1, got %d", cfg.Size)
	}
	if cfg.MaxOverflow < 0 {
		return nil, fmt.Errorf("pool: MaxOverflow must be >= 0, got %d", cfg.MaxOverflow)
	}
	if int64(cfg.Size)+int64(cfg.MaxOverflow) > math.MaxInt32 {
		return nil, fmt.Errorf("pool: Size+MaxOverflow must be <= %d, got %d", math.MaxInt32, int64(cfg.Size)+int64(cfg.MaxOverflow))
	}
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("pool: Timeout must be > 0, got %s", cfg.Timeout)
	}
	if cfg.Recycle < 0 {
		return nil, fmt.Errorf("pool: Recycle must be >= 0 (0 = never), got %s", cfg.Recycle)
	}
	if cfg.ConnectTimeout < 0 {
		return nil, fmt.Errorf("pool: ConnectTimeout must be >= 0 (0 = %s), got %s", DefaultConnectTimeout, cfg.ConnectTimeout)
	}

	pc, err := pgxpool.ParseConfig(cfg.ConnString)
	if err != nil {
		// pgconn redacts the password itself; redact.Text is a second net.
		return nil, fmt.Errorf("pool: parse connection string: %s", redact.Text(err.Error()))
	}

	p := &Pool{
		size:        int64(cfg.Size),
		capacity:    int64(cfg.Size + cfg.MaxOverflow),
		recycle:     cfg.Recycle,
		prePing:     cfg.PrePing,
		timeout:     cfg.Timeout,
		errTimeout:  newTimeoutError(cfg.Size, cfg.MaxOverflow, cfg.Timeout),
		password:    pc.ConnConfig.Password,
		connectHist: hdrhistogram.New(int64(time.Microsecond), int64(time.Hour), 3),
	}

	connectTimeout := cfg.ConnectTimeout
	if connectTimeout == 0 {
		connectTimeout = DefaultConnectTimeout
	}
	pc.ConnConfig.ConnectTimeout = connectTimeout
	if cfg.ApplicationName != "" {
		pc.ConnConfig.RuntimeParams["application_name"] = cfg.ApplicationName
	}

	pc.MaxConns = int32(cfg.Size + cfg.MaxOverflow)
	pc.MinConns = 0
	pc.MinIdleConns = 0
	pc.MaxConnLifetime = 0 // recycle is done here (see package doc)
	pc.MaxConnLifetimeJitter = 0
	pc.MaxConnIdleTime = time.Duration(math.MaxInt64)
	pc.HealthCheckPeriod = healthCheckPeriod
	pc.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pc.BeforeConnect = p.beforeConnect
	pc.AfterConnect = p.afterConnect
	pc.BeforeClose = p.beforeClose

	p.pp, err = pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pool: %s", redact.Secret(err.Error(), p.password))
	}
	return p, nil
}

// Acquire returns a connection, waiting at most [Config.Timeout]. Errors:
//   - a pool timeout: errors.Is(err, [ErrTimeout]), with SQLAlchemy's text;
//   - a failure to open a new connection: errors.Is(err, [ErrConnect]);
//   - ctx cancelled or past its deadline: wraps context.Cause(ctx);
//   - after [Pool.Close]: [ErrClosed].
//
// With [Config.PrePing] a connection that fails its ping is closed (counted
// broken) and another one is tried. Every Acquire must be paired with a
// [Pool.Release] of the returned Conn.
func (p *Pool) Acquire(ctx context.Context) (*Conn, error) {
	// Only a call that finds no idle connection and no room to open one
	// waits; it is counted until it returns.
	if p.idle.Load() <= 0 && p.open.Load() >= p.capacity {
		p.waiting.Add(1)
		defer p.waiting.Add(-1)
	}
	if p.closing.Load() {
		return nil, ErrClosed
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("pool: acquire: %w", context.Cause(ctx))
	}

	a := p.startAttempt(ctx)
	reusable := true // false once a connect or a goroutine may still refer to a
	defer func() { p.endAttempt(a, reusable) }()
	for {
		pc, err := p.pp.Acquire(a)
		if err != nil {
			reusable = false
			if !a.state.CompareAndSwap(attemptWaiting, attemptAbandoned) {
				// A connection was opened for this call but is left to
				// pgxpool, which puts it idle.
				p.adopt()
			}
			return nil, p.acquireError(a, err)
		}
		if a.state.CompareAndSwap(attemptConstructed, attemptWaiting) {
			reusable = false
		} else {
			// Not opened for this call: pgxpool took it from its idle ones.
			p.idle.Add(-1)
		}

		raw := pc.Conn()
		meta, _ := raw.PgConn().CustomData()[metaKey].(*connMeta)
		if meta == nil { // cannot happen: set by afterConnect
			p.destroy(pc, reasonBroken)
			return nil, errors.New("pool: connection without metadata")
		}
		if p.recycle > 0 && time.Since(meta.created) >= p.recycle {
			p.destroy(pc, reasonRecycled)
			continue
		}
		if p.prePing {
			reusable = false // pgconn may watch a in a goroutine
			if err := raw.Ping(a); err != nil {
				p.destroy(pc, reasonBroken)
				if a.Err() != nil {
					return nil, p.acquireError(a, err)
				}
				continue
			}
		}
		p.acquires.Add(1)
		return &Conn{pc: pc, raw: raw, created: meta.created}, nil
	}
}

// acquireError classifies the error of a pgxpool Acquire.
func (p *Pool) acquireError(a *attempt, err error) error {
	if cause := a.cause(); cause != nil {
		if cause == error(p.errTimeout) {
			p.timeouts.Add(1)
			return p.errTimeout
		}
		return fmt.Errorf("pool: acquire: %w", cause)
	}
	if p.closing.Load() {
		return ErrClosed
	}
	p.connectFailures.Add(1)
	return &connectError{
		msg: "pool: open connection: " + redact.Secret(err.Error(), p.password),
		err: err,
	}
}

// Release returns c to the pool, the way SQLAlchemy returns a connection:
//   - a broken connection (closed, busy, or left in a transaction or a failed
//     transaction) is closed and counted broken;
//   - one older than [Config.Recycle] is closed and counted recycled;
//   - when [Config.Size] connections are already idle it is closed and
//     counted overflow;
//   - otherwise it becomes idle.
//
// Closing happens in the background. Releasing nil or a released Conn is a no-op.
func (p *Pool) Release(c *Conn) {
	if c == nil || c.pc == nil {
		return
	}
	pc := c.pc
	c.pc = nil

	pg := c.raw.PgConn()
	switch {
	case pg.IsClosed() || pg.IsBusy() || pg.TxStatus() != 'I':
		p.destroy(pc, reasonBroken)
	case p.recycle > 0 && time.Since(c.created) >= p.recycle:
		p.destroy(pc, reasonRecycled)
	case p.closing.Load():
		p.destroy(pc, reasonEnd)
	case p.putIdle():
		pc.Release()
	default:
		p.destroy(pc, reasonOverflow)
	}
}

// putIdle reserves a place among the idle connections: it increments
// p.idle unless Size are idle already.
func (p *Pool) putIdle() bool {
	for {
		n := p.idle.Load()
		if n >= p.size {
			return false
		}
		if p.idle.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// takeExcess decrements p.idle when it is above Size.
func (p *Pool) takeExcess() bool {
	for {
		n := p.idle.Load()
		if n <= p.size {
			return false
		}
		if p.idle.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// destroy counts and closes a connection the package took out of pgxpool's
// hands. The slot in pgxpool is freed (Hijack) once Terminate is sent.
func (p *Pool) destroy(pc *pgxpool.Conn, reason closeReason) {
	switch reason {
	case reasonRecycled:
		p.closedRecycled.Add(1)
	case reasonOverflow:
		p.closedOverflow.Add(1)
	case reasonEnd:
		p.closedEnd.Add(1)
	default:
		p.closedBroken.Add(1)
	}
	p.goBackground(func() {
		terminate(pc.Conn())
		p.open.Add(-1)
		pc.Hijack()
	})
}

// terminateMsg is the protocol's Terminate message.
var terminateMsg = []byte{'X', 0, 0, 0, 4}

// terminate closes conn and waits, at most closeTimeout, until the server
// has closed its end: by then the backend has left pg_stat_activity. Errors
// are ignored, as libpq's PQfinish does. A connection that is already closed
// or busy is closed the ordinary way.
func terminate(conn *pgx.Conn) {
	hc, err := conn.PgConn().Hijack()
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		_ = conn.Close(ctx)
		cancel()
		return
	}
	nc := hc.Conn
	_ = nc.SetDeadline(time.Now().Add(closeTimeout))
	if _, err := nc.Write(terminateMsg); err == nil {
		_, _ = io.Copy(io.Discard, nc) // until EOF: the server closed the connection
	}
	_ = nc.Close()
}

// goBackground runs f in a goroutine that [Pool.Close] waits for; once Close
// has begun, f runs in the caller's goroutine.
func (p *Pool) goBackground(f func()) {
	p.bgMu.Lock()
	if p.bgClosed {
		p.bgMu.Unlock()
		f()
		return
	}
	p.bg.Add(1)
	p.bgMu.Unlock()
	go func() {
		defer p.bg.Done()
		f()
	}()
}

// adopt counts a connection that pgxpool put idle on its own (opened for an
// Acquire that had given up) and trims the idle ones down to Size.
func (p *Pool) adopt() {
	if p.idle.Add(1) > p.size {
		p.trim()
	}
}

// trim closes idle connections, as overflow, while more than Size are idle.
// It takes all idle connections from pgxpool (they stay counted as idle),
// closes the excess and gives the rest back. Connections counted idle but
// in flight (handed out and not yet counted, or adopted and not yet put
// idle) are picked up by retrying a bounded number of times.
func (p *Pool) trim() {
	if !p.trimming.CompareAndSwap(false, true) {
		return
	}
	p.goBackground(func() {
		done := false
		for range trimAttempts {
			if done = p.idle.Load() <= p.size || p.closing.Load(); done {
				break
			}
			for _, pc := range p.pp.AcquireAllIdle(context.Background()) {
				if p.takeExcess() {
					p.destroy(pc, reasonOverflow)
				} else {
					pc.Release()
				}
			}
			if p.idle.Load() > p.size {
				time.Sleep(trimPause)
			}
		}
		p.trimming.Store(false)
		// An adopt between the last check and the Store above found trimming
		// set and left the excess to this run: look again.
		if done && p.idle.Load() > p.size && !p.closing.Load() {
			p.trim()
		}
	})
}

// beforeConnect is the pgxpool BeforeConnect hook: it notes when the
// connection attempt began.
func (p *Pool) beforeConnect(ctx context.Context, _ *pgx.ConnConfig) error {
	if a := attemptOf(ctx); a != nil {
		a.connectStart = time.Now()
	}
	return nil
}

// afterConnect is the pgxpool AfterConnect hook: it counts the connection,
// records the connect latency and links the connection to its Acquire.
func (p *Pool) afterConnect(ctx context.Context, conn *pgx.Conn) error {
	now := time.Now()
	conn.PgConn().CustomData()[metaKey] = &connMeta{created: now}
	p.opened.Add(1)
	n := p.open.Add(1)
	for {
		m := p.maxOpen.Load()
		if n <= m || p.maxOpen.CompareAndSwap(m, n) {
			break
		}
	}

	a := attemptOf(ctx)
	if a != nil && !a.connectStart.IsZero() {
		d := now.Sub(a.connectStart)
		p.histMu.Lock()
		_ = p.connectHist.RecordValue(int64(d)) // beyond 1h: dropped
		p.histMu.Unlock()
	}
	if a == nil || !a.state.CompareAndSwap(attemptWaiting, attemptConstructed) {
		// Its Acquire gave up: pgxpool puts it idle.
		p.adopt()
	}
	return nil
}

// beforeClose is the pgxpool BeforeClose hook. pgxpool closes connections by
// itself only when the pool is closed (a connection put idle while Close
// runs), or, defensively, when it finds a returned connection broken; the
// package's own closes do not pass here.
func (p *Pool) beforeClose(*pgx.Conn) {
	p.open.Add(-1)
	if p.closing.Load() {
		p.closedEnd.Add(1)
	} else {
		p.closedBroken.Add(1)
	}
}

// ConnectLatency returns a copy of the histogram of time to connect, in
// nanoseconds (1µs..1h, 3 significant figures), of successful connects only.
func (p *Pool) ConnectLatency() *hdrhistogram.Histogram {
	p.histMu.Lock()
	defer p.histMu.Unlock()
	return hdrhistogram.Import(p.connectHist.Export())
}

// Close closes every connection (counted as end closes) and waits until the
// server has closed them. It blocks until every checked-out connection is
// released (each is closed on release). Acquire after Close returns
// [ErrClosed]. Calling Close again is a no-op.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		p.closing.Store(true)
		for _, pc := range p.pp.AcquireAllIdle(context.Background()) {
			p.destroy(pc, reasonEnd)
		}
		p.bgMu.Lock()
		p.bgClosed = true
		p.bgMu.Unlock()
		p.pp.Close()
		p.bg.Wait()
	})
}
