// Package pool is SQLAlchemy's QueuePool over pgx/v5 connections, with
// accounting of every connection's life: opened, closed by reason, connect
// latency, waiting and exhaustion.
//
// # Semantics (size N, overflow M)
//
// At most N+M connections are open at any time, as the server sees them. An
// Acquire takes the oldest idle connection (FIFO, SQLAlchemy's default; the
// newest with [Config.UseLIFO], pool_use_lifo);
// with none idle it opens a new one while fewer than N+M are open; otherwise
// it waits, first come first served, at most [Config.Timeout]. A Release
// hands the connection directly to the oldest waiter; with no waiter it
// becomes idle while fewer than N are idle, and is closed otherwise (an
// overflow close). Connections older than [Config.Recycle] are replaced at
// checkout and at release; with [Config.PrePing] a connection is pinged at
// checkout and replaced when the ping fails. Connections are opened lazily.
//
// # What a checkout sends (SQLAlchemy 1.4's async engine over asyncpg)
//
// The pool sends, round trip for round trip, what the guide's stack sends
// (engine/sqla_parity_test.go checks it against the real thing in the
// server log):
//
//   - on each new connection, the two type introspection queries asyncpg
//     runs when SQLAlchemy registers its json and jsonb codecs (each
//     prepared, then executed: four round trips, counted in the connect
//     time). SQLAlchemy's once-per-engine dialect initialisation (version,
//     current_schema, isolation level, standard_conforming_strings) is not
//     reproduced: a pool of an application runs it once in its life;
//   - [Conn.Exec] runs every statement as a prepared statement of its
//     connection, prepared on its first use there and reused after (pgx's
//     statement cache, [StatementCacheCapacity] statements, as SQLAlchemy's
//     prepared_statement_cache_size), also a statement without arguments;
//   - with an [Config.IsolationLevel] other than autocommit, the first
//     statement of a checkout is preceded by "BEGIN ISOLATION LEVEL …;"
//     (the pre-ping is that first statement when there is one: it runs
//     inside the transaction, as SQLAlchemy's does), and [Pool.Release] ends
//     a transaction still open with [Config.ResetOnReturn]: "ROLLBACK;" by
//     default, "COMMIT;", or nothing (the transaction stays open on the
//     idle connection, as SQLAlchemy leaves it with reset_on_return=None);
//   - the pre-ping is a prepared "SELECT 1", as SQLAlchemy's dialect sends.
//
// A checkout is held from the moment the pool hands the connection over,
// before its pre-ping ([Conn.CheckedOut]), until Release has reset it.
//
// # The algorithm
//
// One mutex guards all the state: the idle queue (a ring of capacity N),
// the number of open slots (connections open, being opened, or being
// closed: at most N+M), and a FIFO queue of waiters. Every decision is taken
// under it, once per call on the common paths:
//
//   - Acquire: take an idle connection; else reserve a slot and open a
//     connection in it; else queue. Only a call that opens a connection or
//     queues arms its timer; taking an idle connection costs one lock, no
//     timer, no context, no allocation.
//   - Release of a healthy connection: give it to the oldest waiter, else
//     put it idle (fewer than N idle), else close it.
//   - A slot freed (a connection closed, a connect failed) goes to the
//     oldest waiter, which opens a connection in it; with no waiter the slot
//     is given back.
//
// Connecting and closing happen outside the mutex, in goroutines the pool
// tracks ([Pool.Close] waits for them). A connect is not bound to the
// Acquire that asked for it: when that Acquire gives up (its
// context ends), the new connection is released into the pool like any
// other. A close keeps its slot until the server has closed its end
// (Terminate sent, then read until EOF; for a connection pgx closed itself
// on an error, until pgx has done the same): a backend leaves pg_stat_activity
// before it closes its socket, so a new connection never starts while the
// backend of an old one is still listed, and the server sees at most N+M
// backends. (pgconn's Close only sends Terminate: measured, that let the
// server list N+M+1 backends for a moment while overflow was churning.)
//
// # Backoff after failed connects
//
// A server that is down must not be hammered: after a failed connect the
// pool backs off. The next attempt is due a delay after the failure,
// uniform in [d/2, d], with d starting at 50 ms and doubling after each
// failed attempt up to min([Config.Timeout], 1 s). While backing off at
// most one attempt is under way: an Acquire that would open a connection
// waits for the next attempt instead (the oldest one makes it; a released
// connection serves them like any waiter). One that waits [Config.Timeout]
// without getting an attempt fails with [ErrConnect] and the text "pool:
// server unreachable since t=…" (t counted from the pool's creation), never
// a pool timeout. A successful connect ends the backoff. Connects overlap,
// though, so an outcome counts against the pool's last change of mind: a
// success ends the backoff if its connect started after the backoff began,
// and a failure starts one if its connect started after the last backoff
// ended (a failure is never ignored because another connect succeeded
// meanwhile: it is the first news of an outage). So a dead server
// sees, per pool, the attempts that were under way when it went (at most
// Size+MaxOverflow), then attempts at least 25 ms, 50 ms, 100 ms, … apart,
// and at most 2/min(Timeout, 1 s) per second once the delay is capped
// ([MaxAttemptRate]: 2 per second with a timeout of 1 s or more). Over an
// outage of T seconds: at most Size+MaxOverflow + 6 + T·MaxAttemptRate
// attempts.
//
// # Why plain pgx.Conn and not pgxpool
//
// pgxpool has no overflow: it was run with every automatic behaviour
// switched off and SQLAlchemy's rules rebuilt around it with atomic
// counters, adopt/trim retries for connections it put idle on its own, and a
// reusable context per Acquire to link its connect hooks to their caller.
// Here a connection is a *pgx.Conn from pgx.ConnectConfig and the pool owns
// every state change, so each rule is a few lines under one lock. It is also
// faster. Measured on one server, on a 2-core machine busy with other work
// (BenchmarkAcquireRelease*, parallel acquire+release of an idle
// connection, 3 runs each): the pgxpool-based pool took 1.1-2.9 µs and 1
// allocation per operation, a bare pgxpool 0.5-3.1 µs, this pool 0.05-0.37
// µs and no allocation. With SELECT 1 per checkout (BenchmarkPoolLoop*,
// 8 goroutines) the query is what costs: this pool and a bare pgxpool are
// level within the machine's noise, and the pool does not show in a CPU
// profile.
package pool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/internal/redact"
)

// DefaultConnectTimeout is the bound on opening one connection when
// [Config.ConnectTimeout] is 0.
const DefaultConnectTimeout = 5 * time.Second

// closeTimeout bounds closing a connection: sending Terminate and waiting for
// the server to close its end.
const closeTimeout = 5 * time.Second

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
	// Timeout is how long Acquire may wait for a connection of a busy pool
	// (pool_timeout), counted from the moment it has to wait. As in
	// SQLAlchemy it does not bound opening a new connection, which
	// ConnectTimeout bounds: a slow connect is not a pool timeout. Must be > 0.
	Timeout time.Duration
	// Recycle replaces connections older than this, at checkout and at
	// release (pool_recycle). 0 = never.
	Recycle time.Duration
	// PrePing checks a connection with a ping before handing it out
	// (pool_pre_ping); a connection just opened is not pinged. When false a
	// connection is never pinged.
	PrePing bool
	// ConnectTimeout bounds opening one connection (dial, TLS, startup,
	// authentication). 0 = [DefaultConnectTimeout] (5s).
	ConnectTimeout time.Duration
	// RecordLevels logs every change of the pool's busy level (see
	// [LevelChange]) for [Pool.TakeLevels], which must then be called
	// regularly: the log grows until taken. false (the default) logs nothing
	// and costs nothing.
	RecordLevels bool
	// IsolationLevel is what a checkout begins before its first statement
	// (SQLAlchemy isolation_level): [ReadCommitted] ("" = the default, as
	// SQLAlchemy's asyncpg dialect), [RepeatableRead], [Serializable], or
	// [Autocommit] (no BEGIN and no reset: each statement commits on its own,
	// as pgbench and autocommit services run).
	IsolationLevel IsolationLevel
	// ResetOnReturn is what Release does with a transaction still open on a
	// returned connection (pool_reset_on_return): [ResetRollback] ("" = the
	// default), [ResetCommit], or [ResetNone] (left open).
	ResetOnReturn ResetOnReturn
	// UseLIFO hands out the most recently returned idle connection instead
	// of the oldest (pool_use_lifo). Default false: FIFO.
	UseLIFO bool
	// Via, when set, is a TCP address ("127.0.0.1:PORT") or the path of a
	// Unix socket ("/…") every connection dials instead of the server the
	// connection string names: a proxy that forwards to that server
	// (engine/netproxy). TLS, authentication and the connection string's
	// other settings are unchanged. "" = dial directly.
	Via string
	// Dial, when set, opens every connection instead, as Via does: an
	// in-process proxy's DialContext (engine/netproxy), which spares the
	// proxy a socket on the pool's side. Default nil.
	Dial func(ctx context.Context) (net.Conn, error)
}

// Pool is a SQLAlchemy-style QueuePool. Its methods are safe for concurrent use.
type Pool struct {
	connConfig *pgx.ConnConfig
	size       int
	capacity   int // Size + MaxOverflow
	recycle    time.Duration
	prePing    bool
	lifo       bool
	begin      string // the statement that begins a checkout's transaction; "" under autocommit
	reset      string // the statement that resets a returned connection; "" = none
	timeout    time.Duration
	errTimeout *timeoutError
	password   string // of ConnString, removed from error texts

	waiting atomic.Int64 // Acquire calls that have not returned
	waiters sync.Pool    // of *waiter, for reuse

	created    time.Time // when New ran; error texts count time from it
	maxBackoff time.Duration
	// dial opens one connection: pgx.ConnectConfig, replaced by tests.
	dial func(context.Context, *pgx.ConnConfig) (*pgx.Conn, error)

	mu      sync.Mutex
	drained sync.Cond // on mu: signalled when open reaches 0 after Close
	closed  bool
	idle    ring      // idle connections, oldest first; at most size
	queue   waitQueue // waiting Acquire calls, oldest first
	open    int       // slots held: connections open, being opened or being closed
	opening int       // slots whose connection is being opened
	maxOpen int
	// the busy level's log (levels.go), when recordLevels
	recordLevels bool
	level        int32
	levels       []LevelChange
	// exhaustion: the queue is non-empty (see Stats.Exhausted)
	exhaustedSince   time.Time
	exhaustedTotal   time.Duration
	exhaustedLongest time.Duration
	exhaustionEvents int64
	// counters of Stats
	opened, connectFailures, acquires, timeouts             int64
	closedRecycled, closedOverflow, closedBroken, closedEnd int64
	unreachableFailures                                     int64
	// backoff after failed connects (backoff.go)
	backoffQ       waitQueue     // Acquire calls waiting for the next attempt, oldest first
	downSince      time.Time     // the failure that started the backoff; zero when not backing off
	recoveredAt    time.Time     // the successful connect that ended the last backoff
	delay          time.Duration // the current backoff delay
	nextProbe      time.Time     // when the next attempt may start
	probing        bool          // an attempt started while backing off is under way
	probeTimer     *time.Timer   // fires at nextProbe
	lastConnectErr error         // of the last failed connect

	bg sync.WaitGroup // connect and close goroutines

	histMu      sync.Mutex
	connectHist *hdrhistogram.Histogram // ns, successful connects
}

// closeReason is why the pool closes a connection.
type closeReason int

const (
	reasonRecycled closeReason = iota
	reasonOverflow
	reasonBroken
	reasonEnd
)

// New returns a pool for cfg. It opens no connection: they are opened on
// demand by [Pool.Acquire], like SQLAlchemy's. ctx is not used; it is kept
// for symmetry with pgxpool.New.
func New(ctx context.Context, cfg Config) (*Pool, error) {
	_ = ctx
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
	begin, ok := beginStatements[cfg.IsolationLevel]
	if !ok {
		return nil, fmt.Errorf("pool: IsolationLevel %q is not one of read_committed, repeatable_read, serializable, autocommit", cfg.IsolationLevel)
	}
	reset, ok := resetStatements[cfg.ResetOnReturn]
	if !ok {
		return nil, fmt.Errorf("pool: ResetOnReturn %q is not one of rollback, commit, none", cfg.ResetOnReturn)
	}

	cc, err := pgx.ParseConfig(cfg.ConnString)
	if err != nil {
		msg, ok := redact.ConfigError(err)
		if !ok {
			msg = "parse connection string: " + redact.Text(err.Error())
		}
		return nil, fmt.Errorf("pool: %s", msg)
	}
	cc.ConnectTimeout = cfg.ConnectTimeout
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.ApplicationName != "" {
		cc.RuntimeParams["application_name"] = cfg.ApplicationName
	}
	// Deliberate, whatever the connection string says: statements are
	// prepared on first use and cached per connection (see Conn.Exec).
	cc.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	cc.StatementCacheCapacity = StatementCacheCapacity
	switch {
	case cfg.Dial != nil:
		dialWith(cc, cfg.Dial)
	case cfg.Via != "":
		dialWith(cc, viaDialer(cfg.Via))
	}

	p := &Pool{
		created:     time.Now(),
		maxBackoff:  min(cfg.Timeout, backoffMax),
		dial:        pgx.ConnectConfig,
		connConfig:  cc,
		size:        cfg.Size,
		capacity:    cfg.Size + cfg.MaxOverflow,
		recycle:     cfg.Recycle,
		prePing:     cfg.PrePing,
		lifo:        cfg.UseLIFO,
		begin:       begin,
		reset:       reset,
		timeout:     cfg.Timeout,
		errTimeout:  newTimeoutError(cfg.Size, cfg.MaxOverflow, cfg.Timeout),
		password:    cc.Password,
		idle:        ring{conns: make([]*Conn, cfg.Size)},
		connectHist: hdrhistogram.New(int64(time.Microsecond), int64(time.Hour), 3),
	}
	p.drained.L = &p.mu
	p.recordLevels = cfg.RecordLevels
	return p, nil
}

// dialWith makes every connection of cc open with dial, whatever host it
// names: no name lookup, no fallback host (a proxy forwards to the first
// one).
func dialWith(cc *pgx.ConnConfig, dial func(ctx context.Context) (net.Conn, error)) {
	cc.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	cc.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }
	cc.Fallbacks = nil
}

// viaDialer dials via: a TCP address, or a Unix socket's path.
func viaDialer(via string) func(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	network := "tcp"
	if strings.HasPrefix(via, "/") {
		network = "unix"
	}
	return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, network, via) }
}

// Acquire returns a connection. It waits at most [Config.Timeout] from the
// moment it has to wait: all Size+MaxOverflow connections are checked out,
// or a new connection must be opened. Errors:
//   - a pool timeout: errors.Is(err, [ErrTimeout]), with SQLAlchemy's text;
//   - a failure to open a new connection: errors.Is(err, [ErrConnect]);
//   - ctx cancelled or past its deadline: wraps context.Cause(ctx);
//   - after [Pool.Close]: [ErrClosed].
//
// With [Config.PrePing] a connection that fails its ping is closed (counted
// broken) and another one is tried; a ping is bounded by [Config.Timeout]
// (and costs a context: a few allocations). Every Acquire must be paired with a
// [Pool.Release] of the returned Conn.
func (p *Pool) Acquire(ctx context.Context) (*Conn, error) {
	p.waiting.Add(1)
	c, err := p.acquire(ctx)
	p.waiting.Add(-1)
	return c, err
}

func (p *Pool) acquire(ctx context.Context) (*Conn, error) {
	if ctx.Err() != nil {
		return nil, ctxError(ctx)
	}
	var w *waiter // armed when this call first has to wait; its timer bounds the rest
	for {
		p.mu.Lock()
		c, err := p.take(&w)
		p.noteLevel()
		p.mu.Unlock()
		fresh := false
		if c == nil && err == nil {
			g := p.wait(ctx, w)
			c, err, fresh = g.c, g.err, g.fresh
		}
		if err == nil {
			c.since = time.Now()
		}
		if err == nil && p.prePing && !fresh {
			if c, err = p.ping(ctx, c); c == nil && err == nil {
				continue // it was broken: try another
			}
		}
		p.putWaiter(w)
		return c, err
	}
}

// ping checks c with SQLAlchemy's ping, a prepared "SELECT 1", bounded by
// the pool timeout. It is the checkout's first statement, so it begins the
// checkout's transaction (but under autocommit). It returns c when c is
// fine. Otherwise c is closed (counted broken) and ping returns nil and: nil
// to try another connection, or the error that ends the Acquire when the
// ping failed because ctx ended or the pool timeout passed.
func (p *Pool) ping(ctx context.Context, c *Conn) (*Conn, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, p.timeout, p.errTimeout)
	defer cancel()
	if c.exec(pctx, pingSQL) == nil {
		return c, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acquires-- // counted when handed out; not an acquire after all
	c.out = false
	p.discard(c, reasonBroken)
	switch {
	case ctx.Err() != nil:
		return nil, ctxError(ctx)
	case pctx.Err() != nil:
		p.timeouts++
		return nil, p.errTimeout
	}
	return nil, nil
}

// take is the checkout decision, under p.mu: the oldest idle connection
// (replacing expired ones), else a slot with a connect started for *w, else
// a place in the queue for *w. In the last two cases it returns nil, nil and
// the caller waits on *w, which take arms if it is nil.
func (p *Pool) take(w **waiter) (*Conn, error) {
	if p.closed {
		return nil, ErrClosed
	}
	var now time.Time
	if p.recycle > 0 && p.idle.n > 0 {
		now = time.Now()
	}
	for p.idle.n > 0 {
		c := p.popIdle()
		if p.recycle > 0 && now.Sub(c.created) >= p.recycle {
			p.discard(c, reasonRecycled)
			continue
		}
		c.out = true
		p.acquires++
		return c, nil
	}
	if *w == nil {
		*w = p.getWaiter()
	}
	if p.open < p.capacity {
		if p.backingOff() {
			p.waitForProbe(*w)
			p.probe()
			return nil, nil
		}
		p.open++
		p.startConnect(*w, false)
		return nil, nil
	}
	p.enqueue(*w)
	return nil, nil
}

// wait waits for what the pool grants w: a connection or an error; or for
// the pool timeout or the end of ctx, whichever comes first. The pool
// timeout bounds only the wait for a busy pool: once w is opening a
// connection of its own, it waits for the connect (bounded by
// ConnectTimeout), as SQLAlchemy does.
func (p *Pool) wait(ctx context.Context, w *waiter) grant {
	timeout := w.timer.C
	if w.expired {
		timeout = nil
		if !p.connecting(w) {
			return p.giveUp(w, nil)
		}
	}
	for {
		select {
		case g := <-w.ch:
			return g
		case <-ctx.Done():
			return p.giveUp(w, ctx)
		case <-timeout:
			w.expired = true
			if !p.connecting(w) {
				return p.giveUp(w, nil)
			}
			timeout = nil // wait for the connect
		}
	}
}

// connecting reports whether w is opening a connection of its own.
func (p *Pool) connecting(w *waiter) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return w.state == waiterConnecting
}

// giveUp ends w's wait on a pool timeout (ctx nil) or the end of ctx. If the
// pool has granted w something meanwhile, that is what the caller gets.
func (p *Pool) giveUp(w *waiter, ctx context.Context) grant {
	p.mu.Lock()
	switch w.state {
	case waiterQueued:
		p.dequeue(w)
	case waiterBackoff:
		p.backoffQ.remove(w)
		w.state = waiterIdle
		if ctx == nil {
			err := p.unreachableError()
			p.mu.Unlock()
			return grant{err: err}
		}
	case waiterConnecting:
		w.state = waiterGone // the connect will release its connection into the pool
	default: // granted: the grant is in w.ch
		p.mu.Unlock()
		return <-w.ch
	}
	var err error
	if ctx == nil {
		p.timeouts++
		err = p.errTimeout
	} else {
		err = ctxError(ctx)
	}
	p.mu.Unlock()
	return grant{err: err}
}

// Release returns c to the pool, the way SQLAlchemy returns a connection:
//   - a transaction still open (failed or not) is reset first, as
//     [Config.ResetOnReturn] says: "ROLLBACK;" or "COMMIT;" (a round trip,
//     made by the caller's goroutine before the connection is available
//     again), or left open;
//   - a broken connection (closed, busy, or whose reset failed) is closed
//     and counted broken;
//   - one older than [Config.Recycle] is closed and counted recycled;
//   - otherwise it goes to the oldest waiting Acquire, else it becomes idle
//     while fewer than [Config.Size] are idle, else it is closed and counted
//     overflow.
//
// Closing happens in the background. Releasing nil, or a Conn released and
// not acquired again, is a no-op.
func (p *Pool) Release(c *Conn) {
	if c == nil {
		return
	}
	p.mu.Lock()
	out := c.out
	p.mu.Unlock()
	if !out {
		return
	}
	pg := c.raw.PgConn()
	broken := pg.IsClosed() || pg.IsBusy()
	if !broken && p.reset != "" && pg.TxStatus() != 'I' {
		broken = c.reset(p.reset) != nil
	}
	var now time.Time
	if p.recycle > 0 {
		now = time.Now()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !c.out {
		return
	}
	c.out = false
	switch {
	case broken || pg.IsClosed():
		p.discard(c, reasonBroken)
	case p.recycle > 0 && now.Sub(c.created) >= p.recycle:
		p.discard(c, reasonRecycled)
	default:
		p.put(c)
	}
	p.noteLevel()
}

// put gives a healthy connection back, under p.mu: to the oldest waiter,
// else to the idle queue if it has room, else it is closed as overflow.
func (p *Pool) put(c *Conn) {
	switch {
	case p.closed:
		p.discard(c, reasonEnd)
	case p.queue.head != nil:
		w := p.queue.head
		p.dequeue(w)
		p.grant(w, grant{c: c})
	case p.backoffQ.head != nil:
		w := p.backoffQ.head
		p.backoffQ.remove(w)
		p.grant(w, grant{c: c})
	case p.idle.n < p.size:
		p.idle.push(c)
	default:
		p.discard(c, reasonOverflow)
	}
}

// grant hands g to w, which is out of the queue, under p.mu.
func (p *Pool) grant(w *waiter, g grant) {
	if g.c != nil {
		g.c.out = true
		p.acquires++
	}
	w.state = waiterGranted
	w.ch <- g // buffered: one grant per wait
}

// freeSlot gives a slot back, under p.mu: to the oldest waiter, which
// opens a connection in it, else to the pool. While the pool backs off, the
// pool is no longer busy once a slot is free: every waiter waits for the
// next attempt instead, which the slot may serve.
func (p *Pool) freeSlot() {
	if w := p.queue.head; w != nil && !p.closed {
		if !p.backingOff() {
			p.dequeue(w)
			p.startConnect(w, false)
			return
		}
		for ; w != nil; w = p.queue.head {
			p.dequeue(w)
			p.waitForProbe(w)
		}
	}
	p.open--
	if p.open == 0 && p.closed {
		p.drained.Broadcast()
	}
	p.probe()
}

// enqueue appends w to the queue, under p.mu; an empty queue starts a period
// of exhaustion.
func (p *Pool) enqueue(w *waiter) {
	if p.queue.head == nil {
		p.exhaustedSince = time.Now()
		p.exhaustionEvents++
	}
	w.state = waiterQueued
	p.queue.push(w)
}

// dequeue removes w from the queue, under p.mu; an emptied queue ends a
// period of exhaustion.
func (p *Pool) dequeue(w *waiter) {
	p.queue.remove(w)
	w.state = waiterIdle
	if p.queue.head == nil {
		d := time.Since(p.exhaustedSince)
		p.exhaustedTotal += d
		p.exhaustedLongest = max(p.exhaustedLongest, d)
	}
}

// ConnectLatency returns a copy of the histogram of time to connect (dial,
// startup, authentication and the per-connection setup of initConn), in
// nanoseconds (1µs..1h, 3 significant figures), of successful connects only.
func (p *Pool) ConnectLatency() *hdrhistogram.Histogram {
	p.histMu.Lock()
	defer p.histMu.Unlock()
	return hdrhistogram.Import(p.connectHist.Export())
}

// Close closes every connection (counted as end closes) and waits until the
// server has closed them. Waiting Acquire calls fail with [ErrClosed], as
// does every Acquire after Close. Close blocks until every checked-out
// connection is released (each is closed on release) and every connect in
// progress has ended. Calling Close again only waits for the same.
func (p *Pool) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for p.idle.n > 0 {
			p.discard(p.popIdle(), reasonEnd)
		}
		p.noteLevel()
		for w := p.queue.head; w != nil; w = p.queue.head {
			p.dequeue(w)
			p.grant(w, grant{err: ErrClosed})
		}
		for w := p.backoffQ.head; w != nil; w = p.backoffQ.head {
			p.backoffQ.remove(w)
			p.grant(w, grant{err: ErrClosed})
		}
		if p.probeTimer != nil {
			p.probeTimer.Stop()
		}
	}
	for p.open > 0 {
		p.drained.Wait()
	}
	p.mu.Unlock()
	// No goroutine starts once open is 0 after Close: each holds a slot.
	p.bg.Wait()
}

func ctxError(ctx context.Context) error {
	return fmt.Errorf("pool: acquire: %w", context.Cause(ctx))
}
