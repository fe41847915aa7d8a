package servicewatch_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/engine/servicewatch"
	"github.com/planrun/planrun/internal/redact"
	"github.com/planrun/planrun/results"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// connect opens a plain connection whose backend carries app as its
// application_name ("" keeps the DSN's).
func connect(t *testing.T, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	if app != "" {
		cfg.RuntimeParams["application_name"] = app
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func run(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// samples collects a watcher's samples through Config.OnSample.
type samples struct {
	mu  sync.Mutex
	all []servicewatch.Sample
}

func (s *samples) add(x servicewatch.Sample) {
	s.mu.Lock()
	s.all = append(s.all, x)
	s.mu.Unlock()
}

func (s *samples) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.all)
}

func (s *samples) since(i int) []servicewatch.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]servicewatch.Sample(nil), s.all[i:]...)
}

// waitFor polls cond every 20 ms for up to 30 s (generous: a busy machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGroundTruth watches five plain connections in known states: two idle
// in transaction (one holding an advisory lock), one waiting on that lock,
// two idle. Every sample must show exactly that.
func TestGroundTruth(t *testing.T) {
	const (
		app      = "svcwatch-truth"
		capacity = 8
		total    = 5
	)
	ctx := context.Background()
	conns := make([]*pgx.Conn, total)
	for i := range conns {
		conns[i] = connect(t, app)
	}
	probe := connect(t, "svcwatch-probe")

	began := time.Now() // before the first transaction starts
	run(t, conns[0], "BEGIN")
	run(t, conns[0], "SELECT pg_advisory_xact_lock(4242)")
	run(t, conns[1], "BEGIN")
	run(t, conns[1], "SELECT 'truth-idle'")
	locked := make(chan error, 1)
	go func() {
		_, err := conns[2].Exec(ctx, "SELECT pg_advisory_xact_lock(4242)")
		locked <- err
	}()
	waiter := conns[2].PgConn().PID()
	waitFor(t, "the third connection to wait on the lock", func() bool {
		var waiting bool
		err := probe.QueryRow(ctx, `SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1`, waiter).Scan(&waiting)
		return err == nil && waiting
	})
	// The headroom counts every client backend of the server: on the
	// tests' own server, wait for those of earlier tests (a stopped
	// service's, closed connections') to be gone, so that ours are all.
	shared := os.Getenv(localpgtest.EnvDatabaseURL) != ""
	ours := []uint32{probe.PgConn().PID()}
	for _, c := range conns {
		ours = append(ours, c.PgConn().PID())
	}
	if !shared {
		waitFor(t, "the client backends of earlier tests to end", func() bool {
			var others int
			err := probe.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> ALL($1)`, ours).Scan(&others)
			return err == nil && others == 0
		})
	}
	var wantHeadroom int
	if err := probe.QueryRow(ctx, `
SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
       - coalesce(current_setting('reserved_connections', true), '0')::int
       - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int`).Scan(&wantHeadroom); err != nil {
		t.Fatal(err)
	}
	wantHeadroom-- // the monitor, connected below

	mon := connect(t, app) // the same name: its own backend must not count
	var got samples
	w, err := servicewatch.Start(ctx, mon, servicewatch.Config{ApplicationName: app, Capacity: capacity, OnSample: got.add})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a first sample", func() bool { return got.len() > 0 })
	if err := w.Found(); err != nil {
		t.Fatalf("Found: %v", err)
	}
	from := got.len()
	waitFor(t, "ten samples after Found", func() bool { return got.len() >= from+10 })
	w.Stop()
	window := got.since(from)

	for i, s := range window {
		want := servicewatch.Sample{At: s.At, Backends: total, Active: 1, Idle: 2, IdleInTransaction: 2, LockWaits: 1, InUse: 3,
			Utilization: 3.0 / capacity, Headroom: wantHeadroom, OldestIdleInTransaction: s.OldestIdleInTransaction}
		if shared { // other clients of a shared server come and go
			want.Headroom = s.Headroom
		}
		if s != want {
			t.Errorf("sample %d: %+v, want %+v", i, s, want)
		}
		if s.OldestIdleInTransaction <= 0 || s.OldestIdleInTransaction > s.At.Sub(began) {
			t.Errorf("sample %d: the oldest idle in transaction is %s, want in (0, %s] (since the first BEGIN)", i, s.OldestIdleInTransaction, s.At.Sub(began))
		}
	}
	sum := w.Summary()
	t.Logf("ground truth: %d samples; backends %+v, in use %+v, utilization %+v, idle in transaction max %s, lock waits max %d, headroom min %d",
		sum.Samples, sum.Backends, sum.InUse, sum.Utilization, sum.IdleInTransaction.Max, sum.LockWaits.Max, sum.Headroom.Min)
	// Samples taken between Found and Stop, the last one or two possibly
	// after the collection above ended.
	if sum.Samples < len(window) || sum.Samples > len(window)+1 {
		t.Errorf("summary of %d samples, the callback saw %d in the window", sum.Samples, len(window))
	}
	if want := (results.ServiceLevel{Max: total, Mean: total, P95: total}); sum.Backends != want {
		t.Errorf("backends %+v, want %+v", sum.Backends, want)
	}
	if want := (results.ServiceLevel{Max: 3, Mean: 3, P95: 3}); sum.InUse != want {
		t.Errorf("in use %+v, want %+v", sum.InUse, want)
	}
	if want := (results.Utilization{Mean: 3.0 / capacity, P95: 3.0 / capacity, Max: 3.0 / capacity}); sum.Utilization != want {
		t.Errorf("utilization %+v, want %+v (in use ÷ capacity)", sum.Utilization, want)
	}
	if shared {
		wantHeadroom = sum.Headroom.Min
	}
	if sum.LockWaits.Max != 1 || sum.Headroom.Min != wantHeadroom || sum.Missed != 0 || sum.NotFound != "" || sum.Leaks != 0 {
		t.Errorf("lock waits max %d (want 1), headroom min %d (want %d), missed %d, not found %q, leaks %d (want 0 each)",
			sum.LockWaits.Max, sum.Headroom.Min, wantHeadroom, sum.Missed, sum.NotFound, sum.Leaks)
	}
	if last := window[len(window)-1]; sum.IdleInTransaction.Max < last.OldestIdleInTransaction {
		t.Errorf("idle in transaction max %s, below the last sample's %s", sum.IdleInTransaction.Max, last.OldestIdleInTransaction)
	}

	// The lock's holder ends its transaction: the waiter gets the lock and
	// its statement ends. The other transaction stays open: after the
	// drain it is the one unreleased connection.
	run(t, conns[0], "ROLLBACK")
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	drainStart := time.Now()
	if err := w.Drained(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	sum = w.Summary()
	if !sum.DrainChecked || sum.Leaks != 1 || len(sum.LeakDetails) != 1 {
		t.Fatalf("after the drain: checked %v, %d leaks %+v, want the one open transaction", sum.DrainChecked, sum.Leaks, sum.LeakDetails)
	}
	l := sum.LeakDetails[0]
	if l.PID != int(conns[1].PgConn().PID()) || l.Kind != servicewatch.KindUnreleased || l.State != "idle in transaction" || l.Query != "SELECT 'truth-idle'" {
		t.Errorf("leak %+v, want pid %d, unreleased, idle in transaction, SELECT 'truth-idle'", l, conns[1].PgConn().PID())
	}
	if l.Age < drainStart.Sub(began)-time.Second || l.Age > time.Since(began) {
		// The transaction's state changed right after began; allow the
		// setup's own time (a second) below.
		t.Errorf("leak age %s, want about the %s since its transaction began", l.Age, drainStart.Sub(began))
	}
}

// TestNotFound: a name that matches no backend is an error with the hint,
// in the summary too.
func TestNotFound(t *testing.T) {
	const app = "svcwatch-nobody"
	connect(t, "svcwatch-somebody")
	var got samples
	w, err := servicewatch.Start(context.Background(), connect(t, ""), servicewatch.Config{ApplicationName: app, Capacity: 4, OnSample: got.add})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two samples", func() bool { return got.len() >= 2 })
	err = w.Found()
	w.Stop()
	const want = `no backend with application_name "svcwatch-nobody": set target.service.application_name`
	var nf *servicewatch.NotFoundError
	if !errors.As(err, &nf) || err.Error() != want || nf.ApplicationName != app {
		t.Fatalf("Found: %v, want a NotFoundError %q", err, want)
	}
	sum := w.Summary()
	if sum.NotFound != want || servicewatch.NotFound(sum) == nil || servicewatch.NotFound(sum).Error() != want {
		t.Errorf("summary: not found %q, Err %v; want %q", sum.NotFound, servicewatch.NotFound(sum), want)
	}

	// Without Found, the end of the watch is the point.
	w2, err := servicewatch.Start(context.Background(), connect(t, ""), servicewatch.Config{ApplicationName: app})
	if err != nil {
		t.Fatal(err)
	}
	w2.Stop()
	if got := w2.Summary().NotFound; got != want {
		t.Errorf("a watch that never saw a backend, without Found: not found %q, want %q", got, want)
	}
}

// TestLeakQueryIsRedacted: a leak's query is reported with passwords masked,
// control characters escaped and its length bounded.
func TestLeakQueryIsRedacted(t *testing.T) {
	const app = "svcwatch-redact"
	c := connect(t, app)
	run(t, c, "BEGIN")
	run(t, c, "SELECT 'postgres://u:hunter2@h/db', 's3cr3t-known', '\x1b[31mred', '"+strings.Repeat("y", 2000)+"'")
	w, err := servicewatch.Start(context.Background(), connect(t, ""), servicewatch.Config{
		ApplicationName: app, LeakThreshold: time.Millisecond, Redactor: redact.New("s3cr3t-known")})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Drained(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	sum := w.Summary()
	if sum.Leaks != 1 || len(sum.LeakDetails) != 1 {
		t.Fatalf("%d leaks %+v, want 1", sum.Leaks, sum.LeakDetails)
	}
	q := sum.LeakDetails[0].Query
	t.Logf("the leak's query: %s", q)
	if strings.Contains(q, "hunter2") || !strings.Contains(q, "postgres://u:"+redact.Mask+"@h/db") {
		t.Errorf("query %q: want the URL's password masked", q)
	}
	if strings.Contains(q, "s3cr3t-known") {
		t.Errorf("query %q: want the known password (Config.Redactor) masked", q)
	}
	if strings.ContainsRune(q, 0x1b) || !strings.Contains(q, `\x1b[31mred`) {
		t.Errorf("query %q: want the ESC escaped", q)
	}
	if len(q) > servicewatch.MaxQuery+len("…") || !strings.HasSuffix(q, "…") {
		t.Errorf("query of %d bytes, want at most %d and marked cut", len(q), servicewatch.MaxQuery)
	}
}

// TestMonitorLost: a monitor connection killed mid-watch counts missed
// samples; with Reconnect the watcher samples again, without it it stops
// sampling and the drain check says it was not made.
func TestMonitorLost(t *testing.T) {
	const app = "svcwatch-lost"
	connect(t, app)
	probe := connect(t, "svcwatch-probe")
	kill := func(conn *pgx.Conn) {
		var ok bool
		if err := probe.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, conn.PgConn().PID()).Scan(&ok); err != nil || !ok {
			t.Fatalf("terminate the monitor: %v %v", ok, err)
		}
	}

	t.Run("with Reconnect it samples again", func(t *testing.T) {
		var got samples
		dsn := localpgtest.DSN(t)
		mon := connect(t, "")
		w, err := servicewatch.Start(context.Background(), mon, servicewatch.Config{ApplicationName: app, OnSample: got.add,
			Reconnect: func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, dsn) }})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a first sample", func() bool { return got.len() > 0 })
		kill(mon)
		before := got.len()
		waitFor(t, "five samples after the kill", func() bool { return got.len() >= before+5 })
		if err := w.Drained(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		sum := w.Summary()
		t.Logf("missed %d: %s", sum.Missed, sum.MissedReason)
		if sum.Missed < 1 || sum.MissedReason == "" || !sum.DrainChecked {
			t.Errorf("missed %d (%q), drain checked %v: want at least one missed sample with its reason, and the drain checked", sum.Missed, sum.MissedReason, sum.DrainChecked)
		}
		for _, s := range got.since(before) {
			if s.Backends != 1 {
				t.Errorf("a sample after the reconnection: %+v, want 1 backend", s)
			}
		}
	})

	t.Run("a failing reconnect backs off", func(t *testing.T) {
		const interval = 20 * time.Millisecond
		dsn := localpgtest.DSN(t)
		var mu sync.Mutex
		var tries []time.Time
		const failures = 5
		mon := connect(t, "")
		w, err := servicewatch.Start(context.Background(), mon, servicewatch.Config{ApplicationName: app, Interval: interval,
			Reconnect: func(ctx context.Context) (*pgx.Conn, error) {
				mu.Lock()
				tries = append(tries, time.Now())
				n := len(tries)
				mu.Unlock()
				if n <= failures {
					return nil, errors.New("the server is restarting")
				}
				return pgx.Connect(ctx, dsn)
			}})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a first sample", func() bool { return w.Summary().Samples > 0 })
		kill(mon)
		waitFor(t, "the reconnection after the failures", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(tries) > failures
		})
		before := w.Summary().Samples
		waitFor(t, "samples again", func() bool { return w.Summary().Samples > before })
		w.Stop()
		sum := w.Summary()
		mu.Lock()
		defer mu.Unlock()
		// Each failed try waits twice as long as the one before, from one
		// interval: timers are only ever late, so these are lower bounds.
		wait := interval
		for i := 1; i <= failures && i < len(tries); i++ {
			gap := tries[i].Sub(tries[i-1])
			t.Logf("try %d: %s after the one before (at least %s)", i+1, gap.Round(time.Millisecond), wait)
			if gap < wait {
				t.Errorf("try %d came %s after the one before, want at least %s: no backoff", i+1, gap, wait)
			}
			wait = min(2*wait, servicewatch.MaxReconnectWait)
		}
		// Every interval without a connection is a missed sample, tried or not.
		outage := tries[failures].Sub(tries[0])
		if min := int(outage / interval / 2); sum.Missed < min || len(tries) != failures+1 {
			t.Errorf("%d tries, %d missed over an outage of %s: want %d tries and at least %d missed samples (one per interval, half of them for a late timer)",
				len(tries), sum.Missed, outage, failures+1, min)
		}
	})

	t.Run("without Reconnect it stops sampling", func(t *testing.T) {
		var got samples
		mon := connect(t, "")
		w, err := servicewatch.Start(context.Background(), mon, servicewatch.Config{ApplicationName: app, OnSample: got.add, Interval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a first sample", func() bool { return got.len() > 0 })
		kill(mon)
		waitFor(t, "three missed samples", func() bool { return w.Summary().Missed >= 3 })
		after := got.len()
		time.Sleep(100 * time.Millisecond)
		err = w.Drained(context.Background(), 0)
		sum := w.Summary()
		if got.len() > after+1 {
			t.Errorf("%d samples after the connection was lost for good", got.len()-after)
		}
		if err == nil || sum.DrainChecked || sum.DrainNotChecked == "" {
			t.Errorf("Drained: %v; summary: drain checked %v, not checked %q: want the check reported as not made", err, sum.DrainChecked, sum.DrainNotChecked)
		}
		t.Logf("missed %d (%s); drain: %s", sum.Missed, sum.MissedReason, sum.DrainNotChecked)
	})
}

// TestHeldLeakCountsOncePerTransaction: a transaction idle past the
// threshold, then busy, then idle past it again is one leak; the next
// transaction held on the same backend is another.
func TestHeldLeakCountsOncePerTransaction(t *testing.T) {
	const (
		app       = "svcwatch-held"
		threshold = 200 * time.Millisecond
	)
	c := connect(t, app)
	var got samples
	w, err := servicewatch.Start(context.Background(), connect(t, ""), servicewatch.Config{ApplicationName: app, LeakThreshold: threshold, OnSample: got.add})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// heldAgain waits for a sample taken after now that shows the
	// transaction idle past the threshold.
	heldAgain := func(what string) {
		t.Helper()
		from := got.len()
		waitFor(t, what, func() bool {
			for _, s := range got.since(from) {
				if s.OldestIdleInTransaction >= threshold {
					return true
				}
			}
			return false
		})
	}
	run(t, c, "BEGIN")
	run(t, c, "SELECT 'first'")
	heldAgain("the first statement's idle time past the threshold")
	run(t, c, "SELECT 'second'")
	heldAgain("the second statement's idle time past the threshold")
	run(t, c, "COMMIT")
	from := got.len()
	waitFor(t, "a sample after the commit", func() bool { return got.len() > from+1 })
	if sum := w.Summary(); sum.Leaks != 1 || len(sum.LeakDetails) != 1 || sum.LeakDetails[0].Query != "SELECT 'second'" || sum.LeakDetails[0].Age < threshold {
		t.Fatalf("after one transaction held twice: %d leaks %+v, want 1 with the second statement, aged at least %s", sum.Leaks, sum.LeakDetails, threshold)
	}
	run(t, c, "BEGIN")
	run(t, c, "SELECT 'third'")
	heldAgain("the next transaction's idle time past the threshold")
	if sum := w.Summary(); sum.Leaks != 2 || len(sum.LeakDetails) != 2 || sum.LeakDetails[1].Query != "SELECT 'third'" || sum.LeakDetails[1].Kind != servicewatch.KindHeld {
		t.Fatalf("after a second transaction held: %d leaks %+v, want 2", sum.Leaks, sum.LeakDetails)
	}
}

// TestAtDrainReconciles counts the service's connections twice at the
// drain check: two connections through a real planrun proxy and, later,
// one more straight to the server under the same application_name. The
// server's count and the proxy's agree while every connection goes
// through the proxy, and the bypass shows as a mismatch that says so.
func TestAtDrainReconciles(t *testing.T) {
	const app = "svcwatch-reconcile"
	u, err := url.Parse(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := netproxy.Start(netproxy.Config{Network: "tcp", Address: u.Host})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 2 {
		cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		host, port, _ := strings.Cut(p.Addr(), ":")
		cfg.Host = host
		if cfg.Port, err = parsePort(port); err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["application_name"] = app
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	drain := func() *results.ServiceAtDrain {
		t.Helper()
		w, err := servicewatch.Start(context.Background(), connect(t, ""), servicewatch.Config{ApplicationName: app,
			ProxyOpen: func() int { return p.ConnStats().Open }})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Drained(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		return w.Summary().AtDrain
	}
	if got := drain(); got == nil || *got != (results.ServiceAtDrain{Backends: 2, ProxyOpen: 2}) || got.Mismatch() != "" {
		t.Errorf("all through the proxy: at drain %+v (%q), want 2 and 2, agreeing", got, got.Mismatch())
	}
	connect(t, app) // straight to the server
	got := drain()
	if got == nil || *got != (results.ServiceAtDrain{Backends: 3, ProxyOpen: 2}) || !strings.Contains(got.Mismatch(), "bypass the proxy") {
		t.Errorf("one bypassing the proxy: at drain %+v (%q), want 3 and 2, a bypass", got, got.Mismatch())
	}
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	return uint16(n), err
}

// TestEveryClientBackend: with no application_name, the watcher counts
// every client backend of its own database, whatever their names, but
// neither its own backend nor those of another database. The test makes a
// database of its own, so that no other test's connections are in it.
func TestEveryClientBackend(t *testing.T) {
	const db = "svcwatch_every"
	admin := connect(t, "svcwatch-admin")
	run(t, admin, "DROP DATABASE IF EXISTS "+db)
	run(t, admin, "CREATE DATABASE "+db)
	dbConn := func(app string) *pgx.Conn {
		t.Helper()
		cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Database = db
		cfg.RuntimeParams["application_name"] = app
		conn, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	t.Cleanup(func() {
		// the connections close first (cleanups run last in, first out)
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	})
	a, b := dbConn("svcwatch-every-a"), dbConn("")
	dbConn("svcwatch-every-c")
	run(t, a, "BEGIN")
	run(t, a, "SELECT 1")
	run(t, b, "BEGIN")
	run(t, b, "SELECT 2")
	connect(t, "svcwatch-every-a") // the same name, another database: not counted

	var got samples
	w, err := servicewatch.Start(context.Background(), dbConn("svcwatch-every-a"), servicewatch.Config{Capacity: 10, OnSample: got.add})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three samples", func() bool { return got.len() >= 3 })
	if err := w.Found(); err != nil {
		t.Fatalf("Found: %v", err)
	}
	from := got.len()
	waitFor(t, "three samples after Found", func() bool { return got.len() >= from+3 })
	w.Stop()
	for i, s := range got.since(from) {
		if s.Backends != 3 || s.IdleInTransaction != 2 || s.Idle != 1 || s.InUse != 2 || s.Utilization != 0.2 {
			t.Errorf("sample %d: %+v, want the 3 client backends of the database (2 idle in transaction, 1 idle), not the monitor's", i, s)
		}
	}
	sum := w.Summary()
	if sum.ApplicationName != "" || sum.Backends.Max != 3 || sum.NotFound != "" || w.MaxConnections() <= 0 {
		t.Errorf("summary %+v, max_connections %d: want 3 backends found under no application_name, and the server's limit", sum, w.MaxConnections())
	}
}

// TestSaturationAndTheRecentWindow: five sessions of a service whose
// capacity is five all run a query together (blocked on an advisory lock
// the test holds, then sleeping), then go idle. The watcher sees one
// saturation episode at least as long as the sleep, and a rolling window
// shorter than the quiet that followed sees none of it, while the whole
// does.
func TestSaturationAndTheRecentWindow(t *testing.T) {
	const (
		app      = "svcwatch-saturated"
		capacity = 5
		sleep    = 1500 * time.Millisecond
		interval = 25 * time.Millisecond
		recent   = 600 * time.Millisecond
	)
	var sessions []*pgx.Conn
	for range capacity {
		sessions = append(sessions, connect(t, app))
	}
	probe := connect(t, "svcwatch-probe")
	run(t, probe, "SELECT pg_advisory_lock(4242)") // the barrier
	var got samples
	w, err := servicewatch.Start(context.Background(), connect(t, ""), servicewatch.Config{ApplicationName: app, Capacity: capacity,
		Interval: interval, Recent: recent, OnSample: got.add})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	waitFor(t, "a first sample", func() bool { return got.len() > 0 })
	var wg sync.WaitGroup
	began := time.Now()
	for _, c := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Exec(context.Background(), "SELECT pg_advisory_lock_shared(4242), pg_sleep($1)", sleep.Seconds()); err != nil {
				t.Error(err)
			}
		}()
	}
	// All five active (waiting on the barrier), and the watcher saw them so.
	waitFor(t, "the whole pool in use", func() bool {
		for _, s := range got.since(0) {
			if s.InUse == capacity {
				return true
			}
		}
		return false
	})
	run(t, probe, "SELECT pg_advisory_unlock(4242)")
	wg.Wait()
	block := time.Since(began) // the episode cannot be longer than this and a sample or two
	mid := w.Summary()
	if r, _ := w.Recent(); r.Saturation.Episodes != 1 || r.Utilization.Max != 1 {
		t.Errorf("the recent window as the sleeps end: saturation %+v, utilization %+v: want the episode", r.Saturation, r.Utilization)
	}
	// Quiet for longer than the window and its last slice.
	quietFrom := got.len()
	waitFor(t, "a quiet longer than the window", func() bool {
		s := got.since(quietFrom)
		return len(s) > 0 && time.Since(s[0].At) > recent+recent/30
	})
	w.Stop()
	whole := w.Summary()
	last, ok := w.Recent()
	t.Logf("whole: %d samples, saturation %+v, utilization %+v (the queries took %s on the client); last %s: %d samples, saturation %+v, utilization %+v, in use %+v",
		whole.Samples, whole.Saturation, whole.Utilization, block.Round(time.Millisecond), recent, last.Samples, last.Saturation, last.Utilization, last.InUse)
	if whole.Saturation.Episodes != 1 || whole.Utilization.Max != 1 {
		t.Errorf("whole: saturation %+v, utilization max %v: want one episode at 100 %%", whole.Saturation, whole.Utilization.Max)
	}
	// The five queries were active together from the first sample that saw
	// them all to at least the sleep after the barrier fell; sampled, the
	// episode ends at the first sample below capacity.
	if l := whole.Saturation.Longest; l < sleep || l > block+time.Second {
		t.Errorf("longest episode %s: want at least the %s sleep, at most the %s the queries took and a second", l, sleep, block)
	}
	if mid.Saturation.Longest > whole.Saturation.Longest {
		t.Errorf("the longest episode shrank from %s to %s", mid.Saturation.Longest, whole.Saturation.Longest)
	}
	if !ok || last.Samples == 0 || last.Samples >= whole.Samples || last.Saturation != (results.ServiceSaturation{}) || last.Utilization.Max != 0 || last.InUse.Max != 0 {
		t.Errorf("the last %s: %d of %d samples, saturation %+v, utilization %+v: want only the quiet samples, no episode", recent, last.Samples, whole.Samples, last.Saturation, last.Utilization)
	}
}
