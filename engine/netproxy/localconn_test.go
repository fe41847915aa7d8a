package netproxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/netproxy"
)

// dialLocal opens a connection through p with DialContext; it is closed
// when the test ends.
func dialLocal(tb testing.TB, p *netproxy.Proxy) net.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := p.DialContext(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// A local connection has the latency of an accepted one, counts in
// ConnStats and in the lateness, and ends the proxy's side when the client
// closes it.
func TestLocalConnLatency(t *testing.T) {
	const latency = 5 * time.Millisecond
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
	c := dialLocal(t, p)
	if n := p.Conns(); n != 1 {
		t.Errorf("Conns() = %d with one local connection, want 1", n)
	}
	rts := roundTrips(t, c, 20)
	if rts[0] < latency {
		t.Errorf("shortest round trip %v is below the latency %v", rts[0], latency)
	}
	if _, _, _, count := takeLateness(p); count < 2*20 {
		t.Errorf("lateness counts %d chunks after 20 round trips, want at least 40", count)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after Close: %v, want net.ErrClosed", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for p.Conns() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := p.Conns(); n != 0 {
		t.Errorf("Conns() = %d after the client closed, want 0", n)
	}
	if s := p.ConnStats(); s.Opened != 1 || s.Closed != 1 {
		t.Errorf("ConnStats opened %d, closed %d; want 1 and 1", s.Opened, s.Closed)
	}
}

// Bytes stay in order through a local connection too, also when its
// reader lags far behind (the proxy then waits for room, as for a full
// socket buffer).
func TestLocalConnBytesStayInOrder(t *testing.T) {
	for _, pause := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(pause.String(), func(t *testing.T) {
			up := startEcho(t)
			p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: 2 * time.Millisecond, Jitter: 2 * time.Millisecond, Seed: 3})
			sendInOrder(t, dialLocal(t, p), pause)
		})
	}
}

// A reset ends a local connection at once, chunks in flight or not: its
// reader reads EOF, its writes fail.
func TestLocalConnReset(t *testing.T) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: 200 * time.Millisecond})
	c := dialLocal(t, p)
	if _, err := c.Write([]byte("in flight")); err != nil {
		t.Fatal(err)
	}
	if n := p.Reset(); n != 1 {
		t.Errorf("Reset() = %d, want 1", n)
	}
	if n, err := c.Read(make([]byte, 64)); !errors.Is(err, io.EOF) {
		t.Errorf("read after the reset: %d bytes, %v; want EOF", n, err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("write after the reset succeeded")
	}
	roundTrips(t, dialLocal(t, p), 2)
}

// A read deadline ends a Read that waits, as on a socket; moving it away
// lets the next Read wait again.
func TestLocalConnReadDeadline(t *testing.T) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: time.Millisecond})
	c := dialLocal(t, p)
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	roundTrips(t, c, 2)
}

// pgx runs statements on a local connection like on a socket.
func TestLocalConnPostgres(t *testing.T) {
	cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), Latency: time.Millisecond})
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) { return p.DialContext(ctx) }
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
		t.Fatalf("SELECT through a local connection: %d, %v; want 42", n, err)
	}
}
