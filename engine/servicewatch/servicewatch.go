// Package servicewatch watches a service's connection pool from the
// database server: it samples pg_stat_activity on a monitor connection for
// the backends that carry the service's application_name, and sums up what
// it saw as the service.* figures (docs/metrics.md, "The service under test", defines them).
//
// The watcher knows nothing of the service's process or its pool object: a
// backend is what the server shows. So the figures hold for any client
// stack (SQLAlchemy, HikariCP, pgx …) and for any number of processes, as
// long as they all set the same application_name.
//
// Use:
//
//	w, err := servicewatch.Start(ctx, monitor, servicewatch.Config{ApplicationName: "mita-api", Capacity: 50})
//	... warm-up ...
//	if err := w.Found(); err != nil { ... a preflight-style failure ... }
//	... load, then its drain ...
//	w.Stop()
//	w.Drained(ctx, servicewatch.DefaultDrainGrace)
//	sum := w.Summary()
package servicewatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

// Defaults.
const (
	// DefaultInterval is the sampling interval when Config.Interval is 0.
	DefaultInterval = 100 * time.Millisecond
	// DefaultSampleTimeout bounds one sample's query when
	// Config.SampleTimeout is 0. pgx closes a connection whose query's
	// context ends, so it is generous: only a hung server reaches it.
	DefaultSampleTimeout = 10 * time.Second
	// MaxReconnectWait bounds the wait between two tries to replace a lost
	// monitor connection: the first try is at the next interval, and each
	// failed one doubles the wait, up to this (a server restarting or
	// failing over is not hammered at every interval).
	MaxReconnectWait = 15 * time.Second
	// DefaultDrainGrace is a grace for [Watcher.Drained] that lets
	// requests finishing as the load stops return their connections (the
	// engine's own server leak check waits as long).
	DefaultDrainGrace = 2 * time.Second
	// MaxLeakDetails bounds Summary.LeakDetails; Summary.Leaks counts all.
	MaxLeakDetails = results.MaxServiceLeakDetails
	// MaxQuery bounds a leak's query, in bytes, after redaction and
	// escaping (the server itself keeps only track_activity_query_size
	// bytes, 1024 by default).
	MaxQuery = 300
)

// Leak kinds, as the engine names its own pool's leaks.
const (
	// KindHeld is a backend seen idle in transaction for longer than
	// Config.LeakThreshold.
	KindHeld = "held"
	// KindUnreleased is a backend still checked out (active or idle in
	// transaction) when the load had drained: see [Watcher.Drained]. A held
	// leak still there then becomes unreleased.
	KindUnreleased = "unreleased"
)

// Config says what to watch; the zero value watches every client backend
// of the monitor's database.
type Config struct {
	// ApplicationName finds the service's backends in pg_stat_activity
	// (exact match). Empty: every client backend of the monitor
	// connection's database is the service's (planrun watch of a plan
	// that names no service). The monitor connection's own backend is
	// never counted, even when it carries the same name. The monitor's role must be the
	// service's, a superuser or a member of pg_read_all_stats: the server
	// hides other roles' state and query (such backends count only in
	// Backends).
	ApplicationName string
	// Capacity is how many connections the service's pools may hold:
	// processes × (size + max_overflow). 0: utilization is not computed
	// (left 0).
	Capacity int
	// Interval between samples; default [DefaultInterval] (100 ms).
	Interval time.Duration
	// SampleTimeout bounds one sample's query; default
	// [DefaultSampleTimeout] (10 s).
	SampleTimeout time.Duration
	// LeakThreshold: a backend idle in transaction for longer than this is
	// a leak (KindHeld). 0: only [Watcher.Drained] finds leaks.
	LeakThreshold time.Duration
	// Redactor masks known passwords (e.g. the database URL's) in leaks'
	// queries and in error messages, beyond what [redact.Text] masks. nil:
	// redact.Text only.
	Redactor *redact.Redactor
	// Reconnect, when set, replaces a monitor connection that was lost:
	// it is tried at the next interval, then with a wait that doubles after
	// each failure up to [MaxReconnectWait], until it succeeds; every
	// interval without a connection is a missed sample. The watcher closes
	// the connections Reconnect returns (never the one given to [Start]). nil: once the connection is lost,
	// the watcher stops sampling and counts every later interval as missed.
	Reconnect func(context.Context) (*pgx.Conn, error)
	// OnSample, when set, is called with every sample on the watcher's
	// goroutine (keep it quick): for a time series or a live view.
	OnSample func(Sample)
	// OnMiss, when set, is called with the (redacted) reason of every
	// missed sample, on the watcher's goroutine (keep it quick): a gap in
	// a time series.
	OnMiss func(reason string)
	// ProxyOpen, when set, counts the connections the service holds open
	// through planrun's proxy now. At the drain check, a quiet moment, the
	// watcher counts the service's backends and these together (see
	// [results.ServiceAtDrain]). nil: no proxy, no such count.
	ProxyOpen func() int
	// Recent, when positive, is the span of a rolling window kept beside
	// the whole watch: [Watcher.Recent] summarises the last Recent, at a
	// resolution of Recent ÷ 60 (a minute for an hour). 0: none.
	Recent time.Duration
}

// Sample is one look at the service's backends.
type Sample struct {
	// At is when the sample was taken (the watcher's clock, after the query).
	At time.Time
	// Backends is every backend with the application_name; Active (state
	// active or fastpath function call), Idle and IdleInTransaction (idle in
	// transaction, aborted or not) split it; other states (disabled, none)
	// count only in Backends.
	Backends, Active, Idle, IdleInTransaction int
	// OldestIdleInTransaction is how long the oldest backend idle in
	// transaction has been so (from its state_change); 0 when none is.
	OldestIdleInTransaction time.Duration
	// LockWaits counts backends waiting on a lock (wait_event_type Lock).
	LockWaits int
	// InUse is Active + IdleInTransaction: the connections checked out of
	// the service's pools, as far as the server can tell (a connection
	// checked out but between statements outside a transaction looks idle).
	InUse int
	// Utilization is InUse ÷ Config.Capacity (0 without a capacity).
	Utilization float64
	// Headroom is the server's free connection slots: max_connections −
	// superuser_reserved_connections − reserved_connections (PostgreSQL 16)
	// − every client backend, the monitor's own included.
	Headroom int
}

// NotFoundError says that no backend of the service was seen.
type NotFoundError struct {
	ApplicationName string
}

func (e *NotFoundError) Error() string {
	if e.ApplicationName == "" {
		return "no client backend on the database but the monitor's own: nothing uses it"
	}
	return fmt.Sprintf("no backend with application_name %q: set target.service.application_name", e.ApplicationName)
}

// Watcher samples a service's backends on its own goroutine. Its methods
// are safe for concurrent use.
type Watcher struct {
	cfg       Config
	given     *pgx.Conn // the caller's; never closed here
	conn      *pgx.Conn // the one in use: given or from Reconnect; only the sampling goroutine uses it until done
	settings  settings
	stop      chan struct{}
	done      chan struct{}
	stopOnce  sync.Once
	drainOnce sync.Once

	retryAt time.Time     // a lost connection is tried again from then (sampling goroutine only)
	wait    time.Duration // the wait after the latest failed try (sampling goroutine only)

	mu           sync.Mutex
	win          window
	recent       *rolling               // nil without Config.Recent
	satSince     time.Time              // when the saturation episode under way began; zero: none
	episode      int                    // the number of the latest saturation episode (from 1)
	seen         bool                   // a backend of the service was seen, at any time
	last         *results.ServiceSample // the latest sample, for the live series
	foundChecked bool
	notFound     string
	idleMax      time.Duration
	missed       int
	missedReason string
	open         map[txKey]*results.ServiceLeak
	leaks        int
	details      []results.ServiceLeak
	drainChecked bool
	drainNot     string
	atDrain      *results.ServiceAtDrain
}

// settings are the server's connection limits, read once.
type settings struct {
	maxConnections, reserved int
}

// Start reads the server's connection limits on conn and starts sampling
// every cfg.Interval. From then until [Watcher.Stop] returns, conn belongs
// to the watcher's goroutine: the caller must not use it. The caller still
// owns it and closes it after Stop. ctx bounds the settings' query and,
// when cancelled, stops sampling (as Stop does).
func Start(ctx context.Context, conn *pgx.Conn, cfg Config) (*Watcher, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.SampleTimeout <= 0 {
		cfg.SampleTimeout = DefaultSampleTimeout
	}
	w := &Watcher{cfg: cfg, given: conn, conn: conn, stop: make(chan struct{}), done: make(chan struct{}), open: map[txKey]*results.ServiceLeak{}}
	if cfg.Recent > 0 {
		w.recent = newRolling(time.Now(), cfg.Recent)
	}
	qctx, cancel := context.WithTimeout(ctx, cfg.SampleTimeout)
	defer cancel()
	if err := conn.QueryRow(qctx, settingsQuery).Scan(&w.settings.maxConnections, &w.settings.reserved); err != nil {
		return nil, fmt.Errorf("servicewatch: read the server's connection limits: %s", w.redact(err.Error()))
	}
	go w.run(ctx)
	return w, nil
}

// settingsQuery reads max_connections and the slots reserved from it
// (reserved_connections exists from PostgreSQL 16).
const settingsQuery = `
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
       + coalesce(current_setting('reserved_connections', true), '0')::int`

// run samples every interval until Stop or ctx ends.
func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	for {
		w.sampleOnce(ctx)
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sampleOnce takes one sample, or counts it missed.
func (w *Watcher) sampleOnce(ctx context.Context) {
	if w.conn == nil || w.conn.IsClosed() {
		if !w.reconnect(ctx) {
			return
		}
	}
	qctx, cancel := context.WithTimeout(ctx, w.cfg.SampleTimeout)
	s, rows, err := w.query(qctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return // stopping: not a miss
		}
		w.miss(err)
		return
	}
	w.record(s, rows)
	if w.cfg.OnSample != nil {
		w.cfg.OnSample(s)
	}
}

// reconnect replaces a lost connection through Config.Reconnect, and
// reports whether a connection is ready. A lost connection that cannot be
// replaced counts each interval as missed; after a failed try, the next
// waits twice as long as the one before (from one interval, up to
// MaxReconnectWait).
func (w *Watcher) reconnect(ctx context.Context) bool {
	if w.conn != nil && w.conn != w.given {
		w.conn.Close(context.Background())
	}
	w.conn = nil
	if w.cfg.Reconnect == nil {
		w.miss(errors.New("the monitor connection was lost"))
		return false
	}
	if time.Now().Before(w.retryAt) {
		w.miss(errors.New("the monitor connection was lost: waiting to reconnect"))
		return false
	}
	rctx, cancel := context.WithTimeout(ctx, w.cfg.SampleTimeout)
	defer cancel()
	c, err := w.cfg.Reconnect(rctx)
	if err != nil {
		if ctx.Err() == nil {
			w.miss(fmt.Errorf("reconnect the monitor connection: %w", err))
		}
		w.wait = min(max(2*w.wait, w.cfg.Interval), MaxReconnectWait)
		w.retryAt = time.Now().Add(w.wait)
		return false
	}
	w.conn, w.wait, w.retryAt = c, 0, time.Time{}
	return true
}

// miss counts a missed sample and keeps the first reason. It ends a
// saturation episode under way: what follows the gap is not known.
func (w *Watcher) miss(err error) {
	reason := w.redact(err.Error())
	now := time.Now()
	w.mu.Lock()
	w.missed++
	if w.missedReason == "" {
		w.missedReason = reason
	}
	if !w.satSince.IsZero() {
		w.endSaturation(now)
	}
	if w.recent != nil {
		w.recent.at(now).missed++
	}
	w.mu.Unlock()
	if w.cfg.OnMiss != nil {
		w.cfg.OnMiss(reason)
	}
}

// backendRow is one backend of the service in a sample.
type backendRow struct {
	key   txKey
	state string
	age   time.Duration // in its state, from state_change
	held  bool          // idle in transaction past the leak threshold (the server's judgement)
	query string        // only for a held backend, or at the drain check
}

// txKey identifies one transaction of one backend, so that a leak seen in
// many samples counts once.
type txKey struct {
	pid          int
	backendStart time.Time
	xactStart    time.Time
}

// ofService selects the service's backends in pg_stat_activity: those
// with the application_name $1, or, when $1 is empty, every client backend
// of the monitor's database; the monitor's own backend never.
const ofService = `($1 <> '' AND application_name = $1 OR $1 = '' AND backend_type = 'client backend' AND datname = current_database()) AND pid <> pg_backend_pid()`

// sampleQuery reads, in one snapshot of pg_stat_activity, the number of
// client backends of the server and every backend of the service ($1).
// held marks the backends idle in transaction for at least $2 seconds
// ($2 < 0: none); only their query text is sent.
const sampleQuery = `
SELECT t.n, b.pid, b.state, b.wait_lock, b.age, b.backend_start, b.xact_start, b.held,
       CASE WHEN b.held THEN b.query END
  FROM (SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend') t
  LEFT JOIN LATERAL (
    SELECT a.*, $2::float8 >= 0 AND a.state LIKE 'idle in transaction%' AND a.age >= $2::float8 AS held
      FROM (SELECT pid,
                   coalesce(state, '') AS state,
                   coalesce(wait_event_type = 'Lock', false) AS wait_lock,
                   coalesce(extract(epoch FROM clock_timestamp() - state_change), 0)::float8 AS age,
                   coalesce(backend_start, 'epoch') AS backend_start,
                   coalesce(xact_start, 'epoch') AS xact_start,
                   query
              FROM pg_stat_activity
             WHERE ` + ofService + `
            OFFSET 0) a) b ON true` // OFFSET 0: age is computed once, for the column and for held

// query takes one sample.
func (w *Watcher) query(ctx context.Context) (Sample, []backendRow, error) {
	threshold := -1.0
	if w.cfg.LeakThreshold > 0 {
		threshold = w.cfg.LeakThreshold.Seconds()
	}
	rows, err := w.conn.Query(ctx, sampleQuery, w.cfg.ApplicationName, threshold)
	if err != nil {
		return Sample{}, nil, err
	}
	var s Sample
	var out []backendRow
	clients := 0
	for rows.Next() {
		var (
			pid                     *int32
			state, query            *string
			waitLock, held          *bool
			age                     *float64
			backendStart, xactStart *time.Time
		)
		if err := rows.Scan(&clients, &pid, &state, &waitLock, &age, &backendStart, &xactStart, &held, &query); err != nil {
			rows.Close()
			return Sample{}, nil, err
		}
		if pid == nil {
			continue // no backend of the service: the one row of the LEFT JOIN
		}
		b := backendRow{key: txKey{pid: int(*pid), backendStart: deref(backendStart), xactStart: deref(xactStart)}, state: deref(state), age: seconds(deref(age))}
		b.held, b.query = deref(held), deref(query)
		s.Backends++
		switch {
		case b.state == "active" || b.state == "fastpath function call":
			s.Active++
		case b.state == "idle":
			s.Idle++
		case strings.HasPrefix(b.state, "idle in transaction"):
			s.IdleInTransaction++
			s.OldestIdleInTransaction = max(s.OldestIdleInTransaction, b.age)
		}
		if deref(waitLock) {
			s.LockWaits++
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return Sample{}, nil, err
	}
	s.At = time.Now()
	s.InUse = s.Active + s.IdleInTransaction
	if w.cfg.Capacity > 0 {
		s.Utilization = float64(s.InUse) / float64(w.cfg.Capacity)
	}
	s.Headroom = w.settings.maxConnections - w.settings.reserved - clients
	return s, out, nil
}

// record adds a sample to the window and follows the held leaks: a
// transaction idle past the threshold is one leak, open while the
// transaction lasts, counted once it has ended (or at the end).
func (w *Watcher) record(s Sample, rows []backendRow) {
	w.mu.Lock()
	defer w.mu.Unlock()
	atCapacity := w.cfg.Capacity > 0 && s.InUse >= w.cfg.Capacity
	switch {
	case atCapacity && w.satSince.IsZero():
		w.satSince = s.At
		w.episode++
	case !atCapacity && !w.satSince.IsZero():
		w.endSaturation(s.At)
	}
	episode, length := 0, time.Duration(0)
	if atCapacity {
		episode, length = w.episode, s.At.Sub(w.satSince)
	}
	w.win.add(s, episode, length)
	if w.recent != nil {
		w.recent.at(s.At).add(s, episode, length)
	}
	w.last = &results.ServiceSample{InUse: s.InUse, Utilization: s.Utilization, OldestIdleInTransaction: s.OldestIdleInTransaction, Headroom: s.Headroom}
	if s.Backends > 0 {
		w.seen = true
	}
	w.idleMax = max(w.idleMax, s.OldestIdleInTransaction)
	present := make(map[txKey]bool, len(rows))
	for _, b := range rows {
		present[b.key] = true
		if !b.held {
			continue
		}
		l := w.open[b.key]
		if l == nil {
			l = &results.ServiceLeak{PID: b.key.pid, Kind: KindHeld}
			w.open[b.key] = l
		}
		l.Age, l.State, l.Query = max(l.Age, b.age), b.state, w.cleanQuery(b.query)
	}
	// A held transaction that runs another statement stays one leak; it is
	// counted once it has ended (its backend gone or in another transaction).
	for k, l := range w.open {
		if !present[k] {
			w.closeLeak(l)
			delete(w.open, k)
		}
	}
}

// endSaturation ends the saturation episode under way at t: its length
// counts where it ended.
func (w *Watcher) endSaturation(t time.Time) {
	d := t.Sub(w.satSince)
	w.win.saturated(w.episode, d)
	if w.recent != nil {
		w.recent.at(t).saturated(w.episode, d)
	}
	w.satSince = time.Time{}
}

// closeLeak counts a leak and keeps its details while there is room.
func (w *Watcher) closeLeak(l *results.ServiceLeak) {
	w.leaks++
	if w.recent != nil {
		w.recent.at(time.Now()).leaks++
	}
	if len(w.details) < MaxLeakDetails {
		w.details = append(w.details, *l)
	}
}

// Seen reports whether a backend of the service has been seen so far.
func (w *Watcher) Seen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// Found marks the end of the warm-up: the level figures are taken from
// here on, and it returns a *[NotFoundError] when no backend with the
// application_name has been seen so far, in the samples taken (the last
// at most one interval ago). The summary remembers the answer; call it
// once.
func (w *Watcher) Found() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.foundChecked = true
	w.win = window{}
	if !w.seen {
		err := &NotFoundError{ApplicationName: w.cfg.ApplicationName}
		w.notFound = err.Error()
		return err
	}
	return nil
}

// Stop stops sampling and waits for the sampling goroutine to end (at
// most the sample under way, bounded by SampleTimeout). After it the caller
// may use the monitor connection again. It may be called more than once.
func (w *Watcher) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
}

// checkedOutQuery lists the service's backends that hold a connection:
// active or idle in transaction.
const checkedOutQuery = `
SELECT pid, state,
       coalesce(extract(epoch FROM clock_timestamp() - state_change), 0)::float8,
       coalesce(backend_start, 'epoch'), coalesce(xact_start, 'epoch'), query
  FROM pg_stat_activity
 WHERE ` + ofService + `
   AND (state IN ('active', 'fastpath function call') OR state LIKE 'idle in transaction%')`

// Drained is the final check, made by the caller once the load has
// drained (no request in flight): every backend of the service still
// checked out (active or idle in transaction) after grace is a leak of kind
// KindUnreleased. It stops sampling first (see [Watcher.Stop]), then
// looks every 50 ms until none is checked out or grace has passed, so
// requests that were finishing can return their connections. It uses the
// monitor connection (or a replacement from Config.Reconnect); when
// neither can answer, the summary says the check was not made, and the
// error says why. Call it once; later calls do nothing.
func (w *Watcher) Drained(ctx context.Context, grace time.Duration) error {
	w.Stop()
	var err error
	w.drainOnce.Do(func() { err = w.drained(ctx, grace) })
	return err
}

func (w *Watcher) drained(ctx context.Context, grace time.Duration) error {
	defer w.closeOwn()
	conn := w.conn
	if conn == nil || conn.IsClosed() {
		if w.cfg.Reconnect == nil {
			return w.drainNotChecked(errors.New("the monitor connection was lost"))
		}
		c, err := w.cfg.Reconnect(ctx)
		if err != nil {
			return w.drainNotChecked(fmt.Errorf("reconnect the monitor connection: %w", err))
		}
		w.conn, conn = c, c
	}
	deadline := time.Now().Add(grace)
	for {
		held, err := w.checkedOut(ctx, conn)
		if err != nil {
			return w.drainNotChecked(err)
		}
		if len(held) == 0 || !time.Now().Before(deadline) {
			atDrain := w.countAtDrain(ctx, conn)
			w.mu.Lock()
			w.atDrain = atDrain
			defer w.mu.Unlock()
			for _, b := range held {
				l := w.open[b.key]
				if l == nil {
					l = &results.ServiceLeak{PID: b.key.pid}
					w.open[b.key] = l
				}
				l.Kind, l.Age, l.State, l.Query = KindUnreleased, max(l.Age, b.age), b.state, w.cleanQuery(b.query)
				if strings.HasPrefix(b.state, "idle in transaction") {
					w.idleMax = max(w.idleMax, b.age)
				}
			}
			w.drainChecked = true
			return nil
		}
		select {
		case <-ctx.Done():
			return w.drainNotChecked(ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// reconcileFor bounds how long the drain check waits for the service's
// backends and the proxy's open connections to agree: a connection the
// service just closed leaves the proxy a moment before its backend exits.
const reconcileFor = time.Second

// countAtDrain counts the service's backends and the proxy's open
// connections together, again every 50 ms until they agree or
// reconcileFor has passed; nil without a proxy or when the count fails.
func (w *Watcher) countAtDrain(ctx context.Context, conn *pgx.Conn) *results.ServiceAtDrain {
	if w.cfg.ProxyOpen == nil {
		return nil
	}
	deadline := time.Now().Add(reconcileFor)
	for {
		qctx, cancel := context.WithTimeout(ctx, w.cfg.SampleTimeout)
		var backends int
		err := conn.QueryRow(qctx, backendsQuery, w.cfg.ApplicationName).Scan(&backends)
		cancel()
		if err != nil {
			return nil
		}
		n := &results.ServiceAtDrain{Backends: backends, ProxyOpen: w.cfg.ProxyOpen()}
		if n.Backends == n.ProxyOpen || !time.Now().Before(deadline) {
			return n
		}
		select {
		case <-ctx.Done():
			return n
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// backendsQuery counts the service's backends, the monitor's own excluded.
const backendsQuery = `
SELECT count(*)::int FROM pg_stat_activity WHERE ` + ofService

// checkedOut lists the service's backends that hold a connection now.
func (w *Watcher) checkedOut(ctx context.Context, conn *pgx.Conn) ([]backendRow, error) {
	qctx, cancel := context.WithTimeout(ctx, w.cfg.SampleTimeout)
	defer cancel()
	rows, err := conn.Query(qctx, checkedOutQuery, w.cfg.ApplicationName)
	if err != nil {
		return nil, err
	}
	var out []backendRow
	for rows.Next() {
		var (
			pid   int32
			age   float64
			b     backendRow
			query *string
		)
		if err := rows.Scan(&pid, &b.state, &age, &b.key.backendStart, &b.key.xactStart, &query); err != nil {
			rows.Close()
			return nil, err
		}
		b.key.pid, b.age, b.query = int(pid), seconds(age), deref(query)
		out = append(out, b)
	}
	return out, rows.Err()
}

// drainNotChecked records why the drain check was not made.
func (w *Watcher) drainNotChecked(err error) error {
	msg := "the monitor connection could not list the service's backends: " + w.redact(err.Error())
	w.mu.Lock()
	w.drainNot = msg
	w.mu.Unlock()
	return fmt.Errorf("servicewatch: drain check not made: %s", msg)
}

// closeOwn closes a connection the watcher opened through Reconnect.
func (w *Watcher) closeOwn() {
	if w.conn != nil && w.conn != w.given {
		w.conn.Close(context.Background())
	}
	w.conn = nil
}

// Summary returns what the watcher saw so far; after [Watcher.Stop] or
// [Watcher.Drained], the final figures. Held leaks still open count.
func (w *Watcher) Summary() results.Service {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.levels(&w.win)
	s.Missed, s.MissedReason = w.missed, w.missedReason
	s.DrainChecked, s.DrainNotChecked, s.AtDrain = w.drainChecked, w.drainNot, w.atDrain
	s.NotFound = w.notFoundSoFar()
	s.IdleInTransaction.Max = w.idleMax
	s.Last = w.last
	s.Leaks = w.leaks + len(w.open)
	s.LeakDetails = append([]results.ServiceLeak(nil), w.details...)
	for _, l := range w.sortedOpen() {
		if len(s.LeakDetails) < MaxLeakDetails {
			s.LeakDetails = append(s.LeakDetails, *l)
		}
	}
	return s
}

// Recent returns what the watcher saw in the last Config.Recent (with
// the slice under way: up to a sixtieth more), and false without
// Config.Recent. Its leaks are the held ones that ended in it and those
// still open, without details (Summary has them); Missed counts the
// samples missed in it, and MissedReason is the watch's first.
func (w *Watcher) Recent() (results.Service, bool) {
	if w.recent == nil {
		return results.Service{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	win := w.recent.sum(time.Now())
	s := w.levels(&win)
	s.Missed = win.missed
	if s.Missed > 0 {
		s.MissedReason = w.missedReason
	}
	s.IdleInTransaction.Max = win.idleMax
	for _, l := range w.open {
		s.IdleInTransaction.Max = max(s.IdleInTransaction.Max, l.Age)
	}
	s.Leaks = win.leaks + len(w.open)
	s.NotFound = w.notFoundSoFar()
	return s, true
}

// notFoundSoFar is the not-found failure: the one Found recorded, or,
// before Found, whether any backend has been seen yet (w.mu held).
func (w *Watcher) notFoundSoFar() string {
	if !w.foundChecked && !w.seen {
		return (&NotFoundError{ApplicationName: w.cfg.ApplicationName}).Error()
	}
	return w.notFound
}

// levels is a summary of win's samples: the levels, utilization,
// extremes and saturation (w.mu held).
func (w *Watcher) levels(win *window) results.Service {
	s := results.Service{
		ApplicationName: w.cfg.ApplicationName,
		Capacity:        w.cfg.Capacity,
		Interval:        w.cfg.Interval,
		Samples:         win.n,
		Backends:        win.backends.level(),
		InUse:           win.inUse.level(),
		LockWaits:       results.LockWaits{Max: win.lockWaits},
		Headroom:        results.Headroom{Min: win.headroom},
		Saturation:      win.saturation(),
	}
	if w.cfg.Capacity > 0 && win.n > 0 {
		c := float64(w.cfg.Capacity)
		s.Utilization = results.Utilization{Mean: s.InUse.Mean / c, P95: float64(s.InUse.P95) / c, Max: float64(s.InUse.Max) / c}
	}
	return s
}

// MaxConnections is the server's max_connections, read at [Start].
func (w *Watcher) MaxConnections() int { return w.settings.maxConnections }

// NotFound returns s's not-found failure as an error, or nil.
func NotFound(s results.Service) error {
	if s.NotFound == "" {
		return nil
	}
	return &NotFoundError{ApplicationName: s.ApplicationName}
}

// cleanQuery makes a backend's query safe to report: passwords masked,
// control characters escaped, on one line, at most MaxQuery bytes.
func (w *Watcher) cleanQuery(q string) string {
	q = printable.Line(w.redact(q))
	if len(q) <= MaxQuery {
		return q
	}
	cut := MaxQuery
	for cut > 0 && !utf8RuneStart(q[cut]) {
		cut--
	}
	return q[:cut] + "…"
}

func (w *Watcher) redact(s string) string {
	if w.cfg.Redactor != nil {
		return w.cfg.Redactor.String(s)
	}
	return redact.Text(s)
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// seconds converts the server's float seconds to a Duration, at µs
// (state_change's resolution).
func seconds(s float64) time.Duration {
	return time.Duration(s*1e6) * time.Microsecond
}
