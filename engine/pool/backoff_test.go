package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// attemptBound is the most connect attempts the package comment allows a
// pool of capacity slots to make over an outage of d.
func attemptBound(capacity int, timeout, d time.Duration) int {
	return capacity + 6 + int(math.Ceil(d.Seconds()*pool.MaxAttemptRate(timeout)))
}

// hammer runs users goroutines that acquire, run SELECT 1 and release in a
// loop with no pause (the worst case: an error is retried at once) until
// stop is closed. It returns a function that waits for them and gives the
// errors they saw, in the order they came.
func hammer(p *pool.Pool, users int, stop <-chan struct{}) func() []timedError {
	var mu sync.Mutex
	var errs []timedError
	var wg sync.WaitGroup
	for range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := p.Acquire(context.Background())
				if err == nil {
					_, err = c.PgConn().Exec(context.Background(), "SELECT 1")
					p.Release(c)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, timedError{time.Now(), err})
					mu.Unlock()
				}
			}
		}()
	}
	return func() []timedError {
		wg.Wait()
		return errs
	}
}

// timedError is an error and when it came.
type timedError struct {
	at  time.Time
	err error
}

// TestBackoffBoundsAttempts: with a connect that always fails, 40 users
// retrying at once make no more attempts than the stated bound, every
// Acquire fails as a connect error saying since when the server is
// unreachable (never a pool timeout), and attempts go on being made.
func TestBackoffBoundsAttempts(t *testing.T) {
	const timeout = 200 * time.Millisecond
	p := newPool(t, pool.Config{ConnString: "postgres://u:pw@127.0.0.1:1/db", Size: 2, MaxOverflow: 1, Timeout: timeout})
	var attempts atomic.Int64
	refused := errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	pool.SetDial(p, func(context.Context, *pgx.ConnConfig) (*pgx.Conn, error) {
		attempts.Add(1)
		return nil, refused
	})

	stop := make(chan struct{})
	start := time.Now()
	wait := hammer(p, 40, stop)
	time.Sleep(2 * time.Second)
	close(stop)
	errs := wait()
	elapsed := time.Since(start)

	n := int(attempts.Load())
	bound := attemptBound(3, timeout, elapsed)
	t.Logf("%d attempts in %v (bound %d), %d Acquire errors; stats %+v", n, elapsed, bound, len(errs), p.Stats())
	if n > bound {
		t.Errorf("%d connect attempts in %v, want at most %d", n, elapsed, bound)
	}
	if n < 4 {
		t.Errorf("%d connect attempts in %v, want the pool to keep trying", n, elapsed)
	}
	var unreachable int
	for _, te := range errs {
		err := te.err
		if !errors.Is(err, pool.ErrConnect) || errors.Is(err, pool.ErrTimeout) {
			t.Fatalf("Acquire error %q: want ErrConnect, not ErrTimeout", err)
		}
		if !errors.Is(err, refused) {
			t.Errorf("Acquire error %q does not wrap the last attempt's error", err)
		}
		if !strings.HasPrefix(err.Error(), "pool: server unreachable since t=") {
			t.Errorf("Acquire error %q: want it to start with \"pool: server unreachable since t=\"", err)
		}
		if strings.Contains(err.Error(), "no connection within the pool timeout") {
			unreachable++
		}
	}
	st := p.Stats()
	if st.ConnectFailures != int64(n) || st.Timeouts != 0 || st.Unreachable != int64(unreachable) || unreachable == 0 {
		t.Errorf("stats %+v: want ConnectFailures %d, Timeouts 0, Unreachable %d (> 0)", st, n, unreachable)
	}
	if !st.BackingOff || st.UnreachableSince.IsZero() {
		t.Errorf("stats %+v: want the pool backing off", st)
	}
}

// TestBackoffEndsOnSuccess: a single failure backs off, and one
// successful connect ends it; the next Acquire connects at once.
func TestBackoffEndsOnSuccess(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 2, Timeout: 5 * time.Second})
	var fail atomic.Bool
	fail.Store(true)
	pool.SetDial(p, func(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
		if fail.Swap(false) {
			return nil, errors.New("refused once")
		}
		return pgx.ConnectConfig(ctx, cfg)
	})
	if c, err := p.Acquire(context.Background()); err == nil || !errors.Is(err, pool.ErrConnect) {
		p.Release(c)
		t.Fatalf("first Acquire: %v, want ErrConnect", err)
	}
	if st := p.Stats(); !st.BackingOff {
		t.Fatalf("stats %+v: want the pool backing off after the failure", st)
	}
	c, err := p.Acquire(context.Background()) // waits for the next attempt, which succeeds
	if err != nil {
		t.Fatalf("second Acquire: %v, want a connection", err)
	}
	if st := p.Stats(); st.BackingOff || st.ConnectFailures != 1 || st.Opened != 1 {
		t.Errorf("stats %+v: want no backoff, 1 failure, 1 opened", st)
	}
	c2, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("third Acquire: %v", err)
	}
	p.Release(c)
	p.Release(c2)
}

// scriptedDial is a dial whose nth call (from 1) waits until gates[n] is
// closed, if there is one, then fails with fails[n] if there is one, and
// otherwise connects to the server. It counts its calls.
type scriptedDial struct {
	gates map[int64]chan struct{}
	fails map[int64]error
	calls atomic.Int64
}

func (d *scriptedDial) dial(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	n := d.calls.Add(1)
	if g := d.gates[n]; g != nil {
		<-g
	}
	if err := d.fails[n]; err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// acquireAsync runs Acquire in a goroutine; the channel gets its outcome.
func acquireAsync(p *pool.Pool) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		c, err := p.Acquire(context.Background())
		ch <- acquired{c, err}
	}()
	return ch
}

type acquired struct {
	c   *pool.Conn
	err error
}

// TestBackoffStartsOnFailureAfterAnotherSuccess: connects overlap; the
// failure of one that was under way when another succeeded is the first
// news of an outage, and starts the backoff. (Taking it for stale let each
// such failure free its slot to a new connect: up to twice
// Size+MaxOverflow attempts before backing off.)
func TestBackoffStartsOnFailureAfterAnotherSuccess(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 2, Timeout: 5 * time.Second})
	refused := errors.New("database is not accepting connections")
	d := &scriptedDial{
		gates: map[int64]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})},
		fails: map[int64]error{2: refused},
	}
	pool.SetDial(p, d.dial)

	a := acquireAsync(p) // connect 1: will succeed
	if !eventually(5*time.Second, func() bool { return d.calls.Load() == 1 }) {
		t.Fatal("the first Acquire did not start a connect")
	}
	b := acquireAsync(p) // connect 2, under way when 1 succeeds: will fail
	if !eventually(5*time.Second, func() bool { return d.calls.Load() == 2 }) {
		t.Fatal("the second Acquire did not start a connect")
	}
	close(d.gates[1])
	ra := <-a
	if ra.err != nil {
		t.Fatalf("first Acquire: %v", ra.err)
	}
	defer p.Release(ra.c)
	close(d.gates[2])
	rb := <-b
	if !errors.Is(rb.err, refused) || !strings.HasPrefix(rb.err.Error(), "pool: server unreachable since t=") {
		t.Errorf("second Acquire: %v, want the connect error of a backing-off pool (\"pool: server unreachable since t=…\")", rb.err)
	}
	if st := p.Stats(); !st.BackingOff || st.Opened != 1 || st.ConnectFailures != 1 {
		t.Errorf("stats %+v: want the pool backing off after 1 opened and 1 failed", st)
	}
}

// TestBackoffNotEndedByEarlierConnect: the success of a connect that
// started before the failure that began the backoff may have got through
// before the server went: its connection serves, the pool keeps backing
// off, and the next attempt, which succeeds, ends the backoff.
func TestBackoffNotEndedByEarlierConnect(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 2, Timeout: 5 * time.Second})
	d := &scriptedDial{
		gates: map[int64]chan struct{}{1: make(chan struct{})},
		fails: map[int64]error{2: errors.New("refused")},
	}
	pool.SetDial(p, d.dial)

	a := acquireAsync(p) // connect 1, under way when 2 fails: will succeed
	if !eventually(5*time.Second, func() bool { return d.calls.Load() == 1 }) {
		t.Fatal("the first Acquire did not start a connect")
	}
	if c, err := p.Acquire(context.Background()); !errors.Is(err, pool.ErrConnect) {
		p.Release(c)
		t.Fatalf("second Acquire: %v, want ErrConnect", err)
	}
	close(d.gates[1])
	ra := <-a
	if ra.err != nil {
		t.Fatalf("first Acquire: %v", ra.err)
	}
	if st := p.Stats(); !st.BackingOff || st.Opened != 1 {
		t.Errorf("stats %+v: want the pool still backing off, 1 opened", st)
	}
	c, err := p.Acquire(context.Background()) // waits for the next attempt (connect 3)
	if err != nil {
		t.Fatalf("third Acquire: %v", err)
	}
	if st := p.Stats(); st.BackingOff || st.Opened != 2 || d.calls.Load() != 3 {
		t.Errorf("stats %+v after %d connects: want the backoff ended by the third", st, d.calls.Load())
	}
	p.Release(c)
	p.Release(ra.c)
}

// TestBackoffNotRestartedByStaleFailure: the failure of a connect that
// started before the success that ended a backoff tells nothing new (it
// tried while the server was down) and does not start another.
func TestBackoffNotRestartedByStaleFailure(t *testing.T) {
	dsn := localpgtest.DSN(t)
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 3, Timeout: 5 * time.Second})
	d := &scriptedDial{
		gates: map[int64]chan struct{}{1: make(chan struct{})},
		fails: map[int64]error{1: errors.New("timed out"), 2: errors.New("refused")},
	}
	pool.SetDial(p, d.dial)

	a := acquireAsync(p) // connect 1: will fail after the recovery
	if !eventually(5*time.Second, func() bool { return d.calls.Load() == 1 }) {
		t.Fatal("the first Acquire did not start a connect")
	}
	if c, err := p.Acquire(context.Background()); !errors.Is(err, pool.ErrConnect) { // connect 2
		p.Release(c)
		t.Fatalf("second Acquire: %v, want ErrConnect", err)
	}
	c, err := p.Acquire(context.Background()) // waits for connect 3, which ends the backoff
	if err != nil {
		t.Fatalf("third Acquire: %v", err)
	}
	defer p.Release(c)
	if st := p.Stats(); st.BackingOff {
		t.Fatalf("stats %+v: want the backoff ended", st)
	}
	close(d.gates[1])
	if ra := <-a; ra.err == nil {
		p.Release(ra.c)
		t.Fatal("first Acquire: want its connect's error")
	}
	if st := p.Stats(); st.BackingOff || st.ConnectFailures != 2 {
		t.Errorf("stats %+v: want 2 failures and no backoff", st)
	}
}

// TestOutageAgainstServer: 30 users on a real server whose database stops
// accepting connections (ALLOW_CONNECTIONS false, every backend of the pool
// terminated) for 3 s, then accepts them again. During the outage the pool
// makes no more attempts than the stated bound, and errors say the server
// is unreachable; once it is back, the pool serves again.
func TestOutageAgainstServer(t *testing.T) {
	dsn := localpgtest.DSN(t)
	admin := adminConn(t, dsn)
	ctx := context.Background()
	db := strings.ToLower(strings.NewReplacer("-", "_").Replace(appName(t)))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true")
		_, _ = admin.Exec(ctx, "DROP DATABASE "+db+" WITH (FORCE)")
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	u.Path = "/" + db
	const timeout = time.Second
	p := newPool(t, pool.Config{ConnString: u.String(), ApplicationName: appName(t), Size: 5, MaxOverflow: 5, Timeout: timeout})

	stop := make(chan struct{})
	wait := hammer(p, 30, stop)
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
			wait()
		}
	}()
	if !eventually(10*time.Second, func() bool { return p.Stats().Acquires > 100 }) {
		t.Fatalf("stats %+v: want the users served before the outage", p.Stats())
	}

	// The outage.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatalf("block connections: %v", err)
	}
	// Count from the moment no connection can succeed any more: a connect
	// that was under way when connections were blocked may still have
	// succeeded (and ended a backoff) until its backend was terminated.
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db); err != nil {
		t.Fatalf("terminate backends: %v", err)
	}
	before := p.Stats()
	outage := time.Now()
	time.Sleep(3 * time.Second)
	during := p.Stats()
	down := time.Since(outage)
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+db+" ALLOW_CONNECTIONS true"); err != nil {
		t.Fatalf("allow connections: %v", err)
	}
	restored := time.Now()

	attempts := int(during.ConnectFailures+during.Opened) - int(before.ConnectFailures+before.Opened)
	// One more capped delay of slack: an attempt due at the window's end
	// whose timer fired late on a busy machine is counted in it.
	bound := attemptBound(10, timeout, down+min(timeout, time.Second))
	t.Logf("outage of %v: %d connect attempts (bound %d), %d failed acquires without an attempt; stats %+v",
		down, attempts, bound, during.Unreachable-before.Unreachable, during)
	if attempts > bound {
		t.Errorf("%d connect attempts during an outage of %v, want at most %d", attempts, down, bound)
	}
	if during.ConnectFailures == before.ConnectFailures || !during.BackingOff {
		t.Errorf("stats %+v: want failed connects and the pool backing off during the outage", during)
	}

	// The recovery: the pool serves again.
	served := during.Acquires
	if !eventually(15*time.Second, func() bool { return p.Stats().Acquires > served+100 }) {
		t.Fatalf("stats %+v: want the users served again once the server is back", p.Stats())
	}
	// A connection that survived the outage may serve the users before the
	// next attempt, up to a capped delay later, ends the backoff: wait for
	// that attempt while the users still queue for connections.
	if !eventually(15*time.Second, func() bool { return !p.Stats().BackingOff }) {
		t.Errorf("stats %+v: want the backoff over", p.Stats())
	}
	close(stop)
	errs := wait()
	var sawUnreachable bool
	var after []string
	for _, te := range errs {
		err := te.err
		if te.at.After(restored) {
			after = append(after, fmt.Sprintf("+%v %v", te.at.Sub(restored), err))
			continue
		}
		if errors.Is(err, pool.ErrTimeout) {
			t.Errorf("Acquire error %q at outage+%v: a pool timeout during an outage, want a connect error", err, te.at.Sub(outage))
		}
		if errors.Is(err, pool.ErrConnect) && strings.HasPrefix(err.Error(), "pool: server unreachable since t=") {
			sawUnreachable = true
		}
	}
	t.Logf("%d errors after the server was back: %s", len(after), strings.Join(after[:min(len(after), 10)], "\n"))
	if !sawUnreachable {
		t.Errorf("no Acquire error says \"pool: server unreachable since t=\"; errors: %v", errs[:min(len(errs), 5)])
	}
}
