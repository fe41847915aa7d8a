package pool_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// TestFailedConnectWakesWaiter: Size 1, no overflow. The first connect is
// slow and then fails; a second Acquire queued meanwhile (no room) gets the
// freed slot, connects and is served, while the first gets ErrConnect.
func TestFailedConnectWakesWaiter(t *testing.T) {
	dsn := proxyDSN(t, localpgtest.DSN(t), func(i int) (time.Duration, bool) {
		if i == 0 {
			return 200 * time.Millisecond, true // hang up: the connect fails
		}
		return 0, false
	})
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 1, Timeout: 10 * time.Second})

	first := make(chan error, 1)
	go func() {
		c, err := p.Acquire(context.Background())
		if err == nil {
			p.Release(c)
		}
		first <- err
	}()
	if !eventually(2*time.Second, func() bool { return p.Stats().Constructing == 1 }) {
		t.Fatalf("stats %+v, want the first connect in progress", p.Stats())
	}
	second := make(chan error, 1)
	go func() {
		c, err := p.Acquire(context.Background())
		if err == nil {
			p.Release(c)
		}
		second <- err
	}()
	if !eventually(2*time.Second, func() bool { return p.Stats().Exhausted }) {
		t.Fatalf("stats %+v, want the second Acquire queued", p.Stats())
	}

	if err := <-first; !errors.Is(err, pool.ErrConnect) {
		t.Errorf("first Acquire: %v, want ErrConnect", err)
	}
	if err := <-second; err != nil {
		t.Errorf("second Acquire: %v, want a connection (the freed slot)", err)
	}
	st := p.Stats()
	if st.ConnectFailures != 1 || st.Opened != 1 || st.Acquires != 1 || st.Timeouts != 0 || st.ExhaustionEvents != 1 {
		t.Errorf("stats %+v: want ConnectFailures 1, Opened 1, Acquires 1, Timeouts 0, ExhaustionEvents 1", st)
	}
}

// TestCancelWhileConnecting: the caller's context ends during a slow
// connect. Acquire returns at once with the context's error; the connect
// goes on and its connection lands idle, handed out next without a connect.
func TestCancelWhileConnecting(t *testing.T) {
	dsn := proxyDSN(t, localpgtest.DSN(t), func(int) (time.Duration, bool) { return 300 * time.Millisecond, false })
	p := newPool(t, pool.Config{ConnString: dsn, ApplicationName: appName(t), Size: 1, Timeout: 10 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	c, err := p.Acquire(ctx)
	if err == nil {
		p.Release(c)
		t.Fatal("Acquire succeeded, want the context's deadline")
	}
	if elapsed := time.Since(t0); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pool.ErrTimeout) || elapsed > 250*time.Millisecond {
		t.Errorf("Acquire: %v after %v, want context.DeadlineExceeded (not ErrTimeout) after about 50ms", err, elapsed)
	}
	if !eventually(3*time.Second, func() bool { st := p.Stats(); return st.Opened == 1 && st.Idle == 1 }) {
		t.Fatalf("stats %+v, want the abandoned connection idle", p.Stats())
	}
	c, err = p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	p.Release(c)
	if st := p.Stats(); st.Opened != 1 || st.Acquires != 1 || st.Timeouts != 0 {
		t.Errorf("stats %+v: want Opened 1, Acquires 1, Timeouts 0", st)
	}
}

// TestCloseFailsWaiters: Close makes queued Acquire calls fail with
// ErrClosed at once, and returns once the checked-out connection is released.
func TestCloseFailsWaiters(t *testing.T) {
	p, err := pool.New(context.Background(), pool.Config{ConnString: localpgtest.DSN(t), ApplicationName: appName(t), Size: 1, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	held, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waiter := make(chan error, 1)
	go func() {
		c, err := p.Acquire(context.Background())
		if err == nil {
			p.Release(c)
		}
		waiter <- err
	}()
	if !eventually(2*time.Second, func() bool { return p.Stats().Exhausted }) {
		t.Fatalf("stats %+v, want a queued Acquire", p.Stats())
	}
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case err := <-waiter:
		if !errors.Is(err, pool.ErrClosed) {
			t.Errorf("queued Acquire: %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("queued Acquire still waiting 2 s after Close")
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a connection is checked out")
	case <-time.After(50 * time.Millisecond):
	}
	p.Release(held)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close still running 5 s after the last release")
	}
	if st := p.Stats(); st.Total != 0 || st.ClosedEnd != 1 || st.Exhausted {
		t.Errorf("stats %+v: want Total 0, ClosedEnd 1, not exhausted", st)
	}
}
