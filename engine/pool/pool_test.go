package pool_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

func TestNewValidates(t *testing.T) {
	valid := pool.Config{ConnString: "postgres://u@127.0.0.1:1/db", Size: 1, Timeout: time.Second}
	tests := []struct {
		name   string
		modify func(*pool.Config)
		want   string // substring of the error; "" = no error
	}{
		{"valid", func(*pool.Config) {}, ""},
		{"no conn string", func(c *pool.Config) { c.ConnString = "" }, "ConnString is required"},
		{"size zero", func(c *pool.Config) { c.Size = 0 }, "Size must be >= 1"},
		{"negative overflow", func(c *pool.Config) { c.MaxOverflow = -1 }, "MaxOverflow must be >= 0"},
		{"zero timeout", func(c *pool.Config) { c.Timeout = 0 }, "Timeout must be > 0"},
		{"negative recycle", func(c *pool.Config) { c.Recycle = -time.Second }, "Recycle must be >= 0"},
		{"negative connect timeout", func(c *pool.Config) { c.ConnectTimeout = -time.Second }, "ConnectTimeout must be >= 0"},
		{"bad conn string keeps password secret", func(c *pool.Config) {
			c.ConnString = "postgres://u:hunter2secret@127.0.0.1:notaport/db"
		}, "invalid connection string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.modify(&cfg)
			p, err := pool.New(context.Background(), cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("New: no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2secret") {
				t.Errorf("New: error %q contains the password", err)
			}
		})
	}
}

// TestOverflow: Size 5 + MaxOverflow 5 under 20 users holding 50 ms for 2 s:
// never more than 10 backends, exactly 5 left once the load stops.
func TestOverflow(t *testing.T) {
	dsn := localpgtest.DSN(t)
	app := appName(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: app, Size: 5, MaxOverflow: 5, Timeout: 10 * time.Second})
	admin := adminConn(t, dsn)

	var (
		maxSeen, samples atomic.Int64
		stopSampler      = make(chan struct{})
		samplerDone      = make(chan struct{})
	)
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampler:
				return
			case <-tick.C:
			}
			var n int64
			if err := admin.QueryRow(context.Background(),
				"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
				t.Errorf("sample: %v", err)
				return
			}
			samples.Add(1)
			if n > maxSeen.Load() {
				maxSeen.Store(n)
			}
		}
	}()

	const users, hold, load = 20, 50 * time.Millisecond, 2 * time.Second
	deadline := time.Now().Add(load)
	var wg sync.WaitGroup
	var ops atomic.Int64
	for range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				c, err := p.Acquire(context.Background())
				if err != nil {
					t.Errorf("Acquire: %v", err)
					return
				}
				time.Sleep(hold)
				p.Release(c)
				ops.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stopSampler)
	<-samplerDone

	// Overflow closes run in the background: within 1 s they are done, and
	// exactly Size connections remain, on the server and in the pool.
	var last int
	if !eventually(time.Second, func() bool {
		last = backends(t, admin, app)
		return last == 5 && p.Stats().Total == 5
	}) {
		t.Errorf("1 s after the load: %d backends, stats %+v; want 5 backends, Total 5", last, p.Stats())
	}
	if got := maxSeen.Load(); got > 10 {
		t.Errorf("backends seen at most: %d, want <= 10", got)
	}
	if samples.Load() < 50 {
		t.Errorf("only %d samples of pg_stat_activity, want >= 50", samples.Load())
	}

	st := p.Stats()
	t.Logf("ops %d, samples %d, max backends seen %d, stats %+v", ops.Load(), samples.Load(), maxSeen.Load(), st)
	if st.MaxOpen > 10 {
		t.Errorf("MaxOpen = %d, want <= 10", st.MaxOpen)
	}
	if st.MaxOpen < 10 {
		t.Errorf("MaxOpen = %d, want 10 under 20 users", st.MaxOpen)
	}
	if st.ClosedOverflow != st.Opened-5 {
		t.Errorf("ClosedOverflow = %d, want Opened-5 = %d", st.ClosedOverflow, st.Opened-5)
	}
	if st.Idle != 5 || st.Total != 5 || st.InUse != 0 {
		t.Errorf("Idle, Total, InUse = %d, %d, %d, want 5, 5, 0", st.Idle, st.Total, st.InUse)
	}
	if st.ClosedBroken != 0 || st.ClosedRecycled != 0 || st.Timeouts != 0 {
		t.Errorf("ClosedBroken, ClosedRecycled, Timeouts = %d, %d, %d, want 0", st.ClosedBroken, st.ClosedRecycled, st.Timeouts)
	}
	if st.Acquires != ops.Load() {
		t.Errorf("Acquires = %d, want %d", st.Acquires, ops.Load())
	}
}

// TestOverflowBursts repeats short bursts of contention: after each one
// exactly Size connections remain, idle.
func TestOverflowBursts(t *testing.T) {
	dsn := localpgtest.DSN(t)
	app := appName(t)
	const size, overflow, users, bursts = 3, 7, 10, 30
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: app, Size: size, MaxOverflow: overflow, Timeout: 10 * time.Second})
	admin := adminConn(t, dsn)

	for burst := range bursts {
		var wg sync.WaitGroup
		for range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					c, err := p.Acquire(context.Background())
					if err != nil {
						t.Errorf("Acquire: %v", err)
						return
					}
					time.Sleep(time.Millisecond)
					p.Release(c)
				}
			}()
		}
		wg.Wait()
		// Overflow closes run in the background: let them finish.
		if !eventually(time.Second, func() bool { st := p.Stats(); return st.Total == size }) {
			t.Fatalf("burst %d: stats %+v, want Total %d", burst, p.Stats(), size)
		}
		if st := p.Stats(); st.Idle != size || st.Opened-st.ClosedOverflow != size {
			t.Fatalf("burst %d: stats %+v, want Idle %d and Opened-ClosedOverflow %d", burst, st, size, size)
		}
	}
	if n := backends(t, admin, app); n != size {
		t.Errorf("backends after the bursts: %d, want %d", n, size)
	}
	t.Logf("stats after %d bursts: %+v", bursts, p.Stats())
}

// TestTimeout: Size 1, no overflow, Timeout 100 ms, 10 users holding 500 ms:
// 9 of them time out after about 100 ms with SQLAlchemy's message.
func TestTimeout(t *testing.T) {
	dsn := localpgtest.DSN(t)
	const timeout = 100 * time.Millisecond
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 1, Timeout: timeout})
	warm, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	p.Release(warm)

	const users = 10
	type result struct {
		err  error
		wait time.Duration
	}
	results := make(chan result, users)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			c, err := p.Acquire(context.Background())
			results <- result{err, time.Since(t0)}
			if err == nil {
				time.Sleep(500 * time.Millisecond)
				p.Release(c)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(results)

	const wantMsg = "QueuePool limit of size 1 overflow 0 reached, connection timed out, timeout 100ms"
	var ok, timedOut int
	for r := range results {
		if r.err == nil {
			ok++
			continue
		}
		timedOut++
		if !errors.Is(r.err, pool.ErrTimeout) {
			t.Errorf("error %v: not ErrTimeout", r.err)
		}
		if r.err.Error() != wantMsg {
			t.Errorf("error text %q, want %q", r.err, wantMsg)
		}
		if r.wait < 80*time.Millisecond || r.wait > 400*time.Millisecond {
			t.Errorf("timed out after %v, want about 100ms (80ms..400ms)", r.wait)
		}
	}
	if ok != 1 || timedOut != users-1 {
		t.Errorf("%d acquired, %d timed out, want 1 and %d", ok, timedOut, users-1)
	}
	if st := p.Stats(); st.Timeouts != int64(timedOut) {
		t.Errorf("Stats().Timeouts = %d, want %d", st.Timeouts, timedOut)
	}

	// The caller's context ending is not a pool timeout.
	held, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer p.Release(held)
	errMine := errors.New("user stopped")
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"cancelled before", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"cancelled with cause", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(20*time.Millisecond, func() { cancel(errMine) })
			return ctx, func() { cancel(nil) }
		}, errMine},
		{"shorter parent deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := p.Stats().Timeouts
			ctx, cancel := tt.ctx()
			defer cancel()
			c, err := p.Acquire(ctx)
			if err == nil {
				p.Release(c)
				t.Fatal("Acquire succeeded, want an error")
			}
			if errors.Is(err, pool.ErrTimeout) {
				t.Errorf("error %v is ErrTimeout, want %v", err, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want one wrapping %v", err, tt.want)
			}
			if after := p.Stats().Timeouts; after != before {
				t.Errorf("Timeouts went %d -> %d, want unchanged", before, after)
			}
		})
	}
}

// TestRecycle: with Recycle 200 ms, a second of light use replaces the
// connections.
func TestRecycle(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 2, Timeout: 5 * time.Second, Recycle: 200 * time.Millisecond})
	pids := map[uint32]bool{}
	var first, last uint32
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		c, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		last = backendPID(t, c)
		if first == 0 {
			first = last
		}
		pids[last] = true
		p.Release(c)
		time.Sleep(20 * time.Millisecond)
	}
	st := p.Stats()
	t.Logf("%d backend PIDs, stats %+v", len(pids), st)
	if first == last || len(pids) < 3 {
		t.Errorf("backend PIDs: first %d, last %d, %d distinct; want them replaced", first, last, len(pids))
	}
	if st.ClosedRecycled == 0 {
		t.Error("ClosedRecycled = 0, want > 0")
	}
	if st.ClosedBroken != 0 || st.ClosedOverflow != 0 {
		t.Errorf("ClosedBroken, ClosedOverflow = %d, %d, want 0", st.ClosedBroken, st.ClosedOverflow)
	}
}

// TestPrePing: the backend of an idle pooled connection is terminated. With
// PrePing the next Acquire notices and gives a fresh connection; without it
// the connection is handed out and its first query fails, and the broken
// connection is closed when it is released.
func TestPrePing(t *testing.T) {
	dsn := localpgtest.DSN(t)
	admin := adminConn(t, dsn)
	tests := []struct {
		name    string
		prePing bool
	}{
		{"pre-ping", true},
		{"no pre-ping", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := appName(t)
			p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: app, Size: 1, Timeout: 5 * time.Second, PrePing: tt.prePing})
			c, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			pid := backendPID(t, c)
			p.Release(c)

			if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
				t.Fatalf("pg_terminate_backend: %v", err)
			}
			if !eventually(5*time.Second, func() bool { return backends(t, admin, app) == 0 }) {
				t.Fatal("terminated backend still listed")
			}

			c, err = p.Acquire(context.Background())
			if err != nil {
				t.Fatalf("Acquire after terminate: %v", err)
			}
			if tt.prePing {
				if got := backendPID(t, c); got == pid {
					t.Errorf("got the terminated backend %d again", pid)
				}
				p.Release(c)
			} else {
				_, err := c.PgConn().Exec(context.Background(), "SELECT 1")
				if err == nil {
					t.Error("query on the terminated connection succeeded, want an error without pre-ping")
				}
				t.Logf("first query without pre-ping: %v", err)
				p.Release(c)
				c, err = p.Acquire(context.Background())
				if err != nil {
					t.Fatalf("Acquire after the broken one: %v", err)
				}
				backendPID(t, c)
				p.Release(c)
			}
			st := p.Stats()
			if st.ClosedBroken != 1 {
				t.Errorf("ClosedBroken = %d, want 1", st.ClosedBroken)
			}
			if st.Opened != 2 {
				t.Errorf("Opened = %d, want 2", st.Opened)
			}
		})
	}
}

// TestReleaseBroken: a connection returned closed is closed and counted
// broken; one returned in a transaction (failed or not) is reset as
// ResetOnReturn says and goes back idle, as SQLAlchemy's pool does; a clean
// one goes back idle untouched. The next checkout of the same connection
// shows what the reset did: a temporary table created in the transaction
// exists after a commit, not after a rollback; with no reset the
// transaction is still open.
func TestReleaseBroken(t *testing.T) {
	dsn := localpgtest.DSN(t)
	begin := func(c *pgx.Conn) error {
		_, err := c.Exec(context.Background(), "BEGIN; CREATE TEMP TABLE released(x int)")
		return err
	}
	tests := []struct {
		name       string
		reset      pool.ResetOnReturn
		do         func(*pgx.Conn) error
		wantBroken int64
		wantTx     byte // the transaction status at the next checkout
		wantTable  bool // the temporary table exists then
	}{
		{"clean", "", func(*pgx.Conn) error { return nil }, 0, 'I', false},
		{"in transaction", "", begin, 0, 'I', false},
		{"in transaction, commit", pool.ResetCommit, begin, 0, 'I', true},
		{"in transaction, none", pool.ResetNone, begin, 0, 'T', true},
		{"failed transaction", pool.ResetRollback, func(c *pgx.Conn) error {
			if err := begin(c); err != nil {
				return err
			}
			_, _ = c.Exec(context.Background(), "SELECT 1/0")
			return nil
		}, 0, 'I', false},
		{"closed", "", func(c *pgx.Conn) error { return c.Close(context.Background()) }, 1, 'I', false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 2, Timeout: 5 * time.Second, ResetOnReturn: tt.reset})
			c, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatalf("Acquire: %v", err)
			}
			if err := tt.do(c.PgConn()); err != nil {
				t.Fatalf("setup: %v", err)
			}
			p.Release(c)
			p.Release(c) // a second release is a no-op
			if !eventually(time.Second, func() bool { return p.Stats().Total == 1-int(tt.wantBroken) }) {
				t.Errorf("Total = %d, want %d", p.Stats().Total, 1-tt.wantBroken)
			}
			st := p.Stats()
			if st.ClosedBroken != tt.wantBroken || st.ClosedOverflow != 0 {
				t.Errorf("ClosedBroken, ClosedOverflow = %d, %d, want %d, 0", st.ClosedBroken, st.ClosedOverflow, tt.wantBroken)
			}
			if st.Idle != 1-int(tt.wantBroken) {
				t.Errorf("Idle = %d, want %d", st.Idle, 1-tt.wantBroken)
			}
			if tt.wantBroken != 0 {
				return
			}
			c2, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatalf("Acquire again: %v", err)
			}
			defer p.Release(c2)
			if c2 != c {
				t.Fatalf("the next checkout got another connection")
			}
			if got := c2.PgConn().PgConn().TxStatus(); got != tt.wantTx {
				t.Errorf("transaction status at the next checkout %q, want %q", got, tt.wantTx)
			}
			var table bool
			if err := c2.PgConn().QueryRow(context.Background(), "SELECT to_regclass('pg_temp.released') IS NOT NULL").Scan(&table); err != nil {
				t.Fatal(err)
			}
			if table != tt.wantTable {
				t.Errorf("temporary table exists: %v, want %v", table, tt.wantTable)
			}
		})
	}
}

// TestConnectFailure: a connection that cannot be opened gives ErrConnect
// within ConnectTimeout, naming host:port and never the password.
func TestConnectFailure(t *testing.T) {
	const secret = "s3cr3t-Pa55word"
	closedPort := func(t *testing.T) int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		return port
	}
	silentServer := func(t *testing.T) int { // accepts, never answers
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			_ = ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		})
		return ln.Addr().(*net.TCPAddr).Port
	}
	url := func(port int) string {
		return fmt.Sprintf("postgres://planrun:%s@127.0.0.1:%d/postgres?sslmode=disable", secret, port)
	}
	keyValue := func(port int) string {
		return fmt.Sprintf("host=127.0.0.1 port=%d user=planrun password=%s dbname=postgres sslmode=disable", port, secret)
	}
	tests := []struct {
		name       string
		port       func(*testing.T) int
		dsn        func(int) string
		minElapsed time.Duration
	}{
		{"closed port", closedPort, url, 0},
		{"closed port key=value DSN", closedPort, keyValue, 0},
		{"silent server", silentServer, url, 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.port(t)
			p := newPool(t, pool.Config{ConnString: tt.dsn(port), Size: 1, Timeout: 10 * time.Second, ConnectTimeout: time.Second})
			t0 := time.Now()
			c, err := p.Acquire(context.Background())
			elapsed := time.Since(t0)
			if err == nil {
				p.Release(c)
				t.Fatal("Acquire succeeded, want ErrConnect")
			}
			t.Logf("after %v: %v", elapsed, err)
			if !errors.Is(err, pool.ErrConnect) || errors.Is(err, pool.ErrTimeout) {
				t.Errorf("error %v: want ErrConnect, not ErrTimeout", err)
			}
			var ce *pgconn.ConnectError
			if !errors.As(err, &ce) {
				t.Errorf("error %v does not wrap *pgconn.ConnectError", err)
			}
			if want := fmt.Sprintf("127.0.0.1:%d", port); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the password", err)
			}
			if elapsed < tt.minElapsed || elapsed > time.Second+time.Second {
				t.Errorf("failed after %v, want %v..2s (ConnectTimeout 1s)", elapsed, tt.minElapsed)
			}
			st := p.Stats()
			if st.ConnectFailures != 1 || st.Opened != 0 || st.Total != 0 {
				t.Errorf("ConnectFailures, Opened, Total = %d, %d, %d, want 1, 0, 0", st.ConnectFailures, st.Opened, st.Total)
			}
		})
	}
}

// TestSlowConnectIsNotATimeout: as in SQLAlchemy, pool.timeout bounds the
// wait for a busy pool, not opening a connection: connects of 300 ms with a
// 100 ms pool timeout succeed (ConnectTimeout bounds them).
func TestSlowConnectIsNotATimeout(t *testing.T) {
	dsn := localpgtest.DSN(t)
	slowDSN := proxyDSN(t, dsn, func(int) (time.Duration, bool) { return 300 * time.Millisecond, false })
	p := newPool(t, pool.Config{ConnString: slowDSN, ApplicationName: appName(t), Size: 1, MaxOverflow: 2, Timeout: 100 * time.Millisecond})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := p.Acquire(context.Background())
			if err != nil {
				t.Errorf("Acquire: %v, want a connection after the 300ms connect", err)
				return
			}
			if took := time.Since(start); took < 300*time.Millisecond {
				t.Errorf("Acquire took %v, want at least the 300ms connect", took)
			}
			p.Release(c)
		}()
	}
	wg.Wait()
	if st := p.Stats(); st.Timeouts != 0 || st.Opened != 3 {
		t.Errorf("Timeouts, Opened = %d, %d, want 0, 3", st.Timeouts, st.Opened)
	}
}

// TestAbandonedConnects: callers that give up (their context ends) while
// their connection is being opened. The connections land idle; the excess
// over Size is closed as overflow, and the one kept is handed out next.
func TestAbandonedConnects(t *testing.T) {
	dsn := localpgtest.DSN(t)
	slowDSN := proxyDSN(t, dsn, func(int) (time.Duration, bool) { return 300 * time.Millisecond, false })
	app := appName(t)
	admin := adminConn(t, dsn)
	p := newPool(t, pool.Config{ConnString: slowDSN, ApplicationName: app, Size: 1, MaxOverflow: 2, Timeout: 5 * time.Second})

	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			c, err := p.Acquire(ctx)
			if err == nil {
				p.Release(c)
				t.Error("Acquire succeeded, want the caller's deadline (connect takes 300ms)")
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Acquire: %v, want the context's deadline", err)
			}
		}()
	}
	wg.Wait()

	if !eventually(3*time.Second, func() bool {
		st := p.Stats()
		return st.Opened == 3 && st.Total == 1 && st.Idle == 1
	}) {
		t.Fatalf("stats %+v, want Opened 3, Total 1, Idle 1", p.Stats())
	}
	st := p.Stats()
	if st.ClosedOverflow != 2 || st.Timeouts != 0 {
		t.Errorf("ClosedOverflow, Timeouts = %d, %d, want 2, 0", st.ClosedOverflow, st.Timeouts)
	}
	if !eventually(time.Second, func() bool { return backends(t, admin, app) == 1 }) {
		t.Errorf("backends = %d, want 1", backends(t, admin, app))
	}

	// The adopted connection is handed out without a new connect.
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	p.Release(c)
	if st := p.Stats(); st.Opened != 3 || st.Idle != 1 {
		t.Errorf("Opened, Idle = %d, %d, want 3, 1", st.Opened, st.Idle)
	}
}

// TestClose: Close closes every connection, counted as end closes.
func TestClose(t *testing.T) {
	dsn := localpgtest.DSN(t)
	app := appName(t)
	admin := adminConn(t, dsn)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: app, Size: 3, MaxOverflow: 2, Timeout: 5 * time.Second})

	var held []*pool.Conn
	for range 5 {
		c, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		p.Release(c)
	}
	if !eventually(time.Second, func() bool { return backends(t, admin, app) == 3 }) {
		t.Fatalf("backends = %d, want 3 before Close", backends(t, admin, app))
	}

	p.Close()
	if !eventually(time.Second, func() bool { return backends(t, admin, app) == 0 }) {
		t.Errorf("backends = %d 1 s after Close, want 0", backends(t, admin, app))
	}
	st := p.Stats()
	if st.ClosedEnd != 3 || st.ClosedOverflow != 2 || st.Total != 0 {
		t.Errorf("ClosedEnd, ClosedOverflow, Total = %d, %d, %d, want 3, 2, 0", st.ClosedEnd, st.ClosedOverflow, st.Total)
	}
	if _, err := p.Acquire(context.Background()); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Acquire after Close: %v, want ErrClosed", err)
	}
	p.Close() // again: no-op
}

// TestConnectLatency: every successful connect is recorded.
func TestConnectLatency(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 3, Timeout: 5 * time.Second})
	var held []*pool.Conn
	for range 3 {
		c, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatalf("Acquire: %v", err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		p.Release(c)
	}
	h := p.ConnectLatency()
	if h.TotalCount() != 3 {
		t.Errorf("connect latency count = %d, want 3", h.TotalCount())
	}
	if h.Min() <= 0 || h.Max() > int64(5*time.Second) {
		t.Errorf("connect latency min %v max %v, want within (0, 5s]", time.Duration(h.Min()), time.Duration(h.Max()))
	}
	_ = h.RecordValue(int64(time.Millisecond)) // a copy: the pool's histogram is untouched
	if p.ConnectLatency().TotalCount() != 3 {
		t.Error("ConnectLatency returned the pool's own histogram, want a copy")
	}
}
