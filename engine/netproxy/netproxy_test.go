package netproxy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/netproxy"
)

func TestStartRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]netproxy.Config{
		"no upstream":           {},
		"jitter above latency":  {Network: "tcp", Address: "127.0.0.1:1", Latency: time.Millisecond, Jitter: 2 * time.Millisecond},
		"negative latency":      {Network: "tcp", Address: "127.0.0.1:1", Latency: -time.Millisecond},
		"negative bandwidth":    {Network: "tcp", Address: "127.0.0.1:1", Bandwidth: -1},
		"negative dial timeout": {Network: "tcp", Address: "127.0.0.1:1", DialTimeout: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := netproxy.Start(cfg)
			if err == nil {
				p.Close()
				t.Fatal("Start accepted the config")
			}
		})
	}
}

func TestLatency(t *testing.T) {
	const latency = 5 * time.Millisecond
	up := startEcho(t)
	direct := roundTrips(t, dial(t, up), 200)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
	c := dial(t, p.Addr())
	msg := []byte("ping 0123456789")
	proxied, less, late := lessLateness(t, p, 200, 2, func() time.Duration { return echo(t, c, msg) })
	lp50, lp99, lmax, _ := lateness(late)
	t.Logf("direct: min %v p50 %v p90 %v; proxied (latency %v): min %v p50 %v p90 %v; less the proxy's lateness: min %v p50 %v p90 %v; lateness p50 %v p99 %v max %v",
		direct[0], quantile(direct, .5), quantile(direct, .9), latency, proxied[0], quantile(proxied, .5), quantile(proxied, .9),
		less[0], quantile(less, .5), quantile(less, .9), lp50, lp99, lmax)

	if proxied[0] < latency {
		t.Errorf("shortest round trip %v is below the latency %v", proxied[0], latency)
	}
	if less[0] < latency {
		t.Errorf("shortest round trip less the proxy's lateness %v is below the latency %v: the lateness is overcounted", less[0], latency)
	}
	// Less its measured lateness, the proxy is on time but for its
	// clock's precision (tens of µs); what else the machine's load adds
	// (its readers' and the echo server's waits) the direct round trips
	// show.
	limit := quantile(direct, .5) + latency + time.Millisecond + quantile(direct, .9)
	if p50 := quantile(less, .5); p50 > limit {
		t.Errorf("median round trip less the proxy's lateness %v is above %v (direct median + latency + 1ms + direct p90)", p50, limit)
	}
}

func TestJitter(t *testing.T) {
	const latency, jitter = 4 * time.Millisecond, 2 * time.Millisecond
	up := startEcho(t)
	steady := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency, Jitter: jitter, Seed: 7})
	// Alternate between the two so that both see the same machine load.
	steadyConn, jitterConn := dial(t, steady.Addr()), dial(t, p.Addr())
	msg := []byte("ping")
	var noJitter, rtts []time.Duration
	for range 200 {
		noJitter = append(noJitter, echo(t, steadyConn, msg))
		rtts = append(rtts, echo(t, jitterConn, msg))
	}
	slices.Sort(noJitter)
	slices.Sort(rtts)
	t.Logf("no jitter: min %v p50 %v p90 %v; jitter %v: min %v p10 %v p50 %v p90 %v max %v",
		noJitter[0], quantile(noJitter, .5), quantile(noJitter, .9), jitter,
		rtts[0], quantile(rtts, .1), quantile(rtts, .5), quantile(rtts, .9), rtts[len(rtts)-1])

	if rtts[0] < latency-jitter {
		t.Errorf("shortest round trip %v is below latency - jitter = %v", rtts[0], latency-jitter)
	}
	// Two uniform ±jitter/2 delays: the round trip's p90 is about
	// latency + 0.55 × jitter, plus the lateness the machine adds, which
	// the steady proxy's round trips show; its p95 (not p90) leaves room
	// for the two proxies' samples drawing that lateness apart (under two
	// CPU burners: steady p90 5.07ms, jittered p90 7.18ms).
	if p90, limit := quantile(rtts, .9), quantile(noJitter, .95)+jitter; p90 > limit {
		t.Errorf("p90 round trip %v is above the steady proxy's p95 + jitter = %v", p90, limit)
	}
	// p10..p90 spans about 1.1 × jitter.
	if spread := quantile(rtts, .9) - quantile(rtts, .1); spread < jitter/2 {
		t.Errorf("p10..p90 spread %v is under jitter/2 = %v: the jitter does not show", spread, jitter/2)
	}
}

// TestBytesStayInOrder: many chunks of random size, each with its own
// delay, come back in order, also when the receiver does not read for a
// while (the proxy's writes then find the socket's buffer full and its
// writer goroutines take over from the clock, and hand back).
func TestBytesStayInOrder(t *testing.T) {
	for _, pause := range []time.Duration{0, 300 * time.Millisecond} {
		t.Run(fmt.Sprintf("pause=%v", pause), func(t *testing.T) { bytesStayInOrder(t, pause) })
	}
}

func bytesStayInOrder(t *testing.T, pause time.Duration) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: 2 * time.Millisecond, Jitter: 2 * time.Millisecond, Seed: 3})
	sendInOrder(t, dial(t, p.Addr()), pause)
}

// sendInOrder sends 4 MiB of random bytes on c, in pieces of random size,
// to an echo server, reads them back after pause and checks them.
func sendInOrder(t *testing.T, c net.Conn, pause time.Duration) {
	rng := rand.New(rand.NewPCG(1, 2))
	sent := make([]byte, 4<<20)
	for i := range sent {
		sent[i] = byte(rng.Uint32())
	}
	writeErr := make(chan error, 1)
	go func() {
		// Pieces of random size make many chunks, each with its own delay.
		rest := sent
		for len(rest) > 0 {
			n := min(len(rest), 1+rng.IntN(64<<10))
			if _, err := c.Write(rest[:n]); err != nil {
				writeErr <- err
				return
			}
			rest = rest[n:]
		}
		writeErr <- nil
	}()
	got := make([]byte, len(sent))
	time.Sleep(pause)
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) {
		i := 0
		for got[i] == sent[i] {
			i++
		}
		t.Fatalf("the echoed bytes differ from the sent ones from offset %d on", i)
	}
}

func TestBandwidth(t *testing.T) {
	const size, bandwidth = 1 << 20, 2 << 20 // 1 MiB at 2 MiB/s: at least 0.5 s
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Bandwidth: bandwidth})
	c := dial(t, p.Addr())
	start := time.Now()
	go func() { _, _ = c.Write(make([]byte, size)) }()
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("1 MiB echoed at 2 MiB/s per direction in %v", took)
	if took < 500*time.Millisecond {
		t.Errorf("took %v, less than size/bandwidth = 500ms", took)
	}
}

// noReply checks that c, having sent msg, gets nothing back within wait.
func noReply(t *testing.T, c net.Conn, msg []byte, wait time.Duration) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	nothingArrives(t, c, wait)
}

// nothingArrives checks that c reads nothing within wait.
func nothingArrives(t *testing.T, c net.Conn, wait time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, err %v while stalled; want a timeout", n, err)
	}
}

// replyArrives checks that c gets msg back within a generous deadline.
func replyArrives(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("got %q back, want %q", got, msg)
	}
}

func TestStall(t *testing.T) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up})
	before := dial(t, p.Addr())
	echo(t, before, []byte("warm"))

	p.SetStalled(true)
	noReply(t, before, []byte("in flight"), 300*time.Millisecond)
	during := dial(t, p.Addr()) // accepted while stalled
	noReply(t, during, []byte("new"), 300*time.Millisecond)
	noReply(t, before, []byte(" and more"), 100*time.Millisecond)

	p.SetStalled(false)
	replyArrives(t, before, []byte("in flight and more"))
	replyArrives(t, during, []byte("new"))
	echo(t, before, []byte("after"))
	echo(t, during, []byte("after"))
}

func TestStallHoldsDelayedChunks(t *testing.T) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: 20 * time.Millisecond})
	c := dial(t, p.Addr())
	if _, err := c.Write([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	p.SetStalled(true) // before the chunk's 10 ms to the server are up
	nothingArrives(t, c, 300*time.Millisecond)
	p.SetStalled(false)
	replyArrives(t, c, []byte("queued"))
}

func TestExtraLatency(t *testing.T) {
	const spike = 20 * time.Millisecond
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up})
	c := dial(t, p.Addr())
	p.SetExtraLatency(spike)
	during := roundTrips(t, c, 20)
	if during[0] < spike {
		t.Errorf("shortest round trip during the spike %v is below the spike %v", during[0], spike)
	}
	p.SetExtraLatency(0)
	after := roundTrips(t, c, 50)
	t.Logf("during the spike: min %v; after: p50 %v", during[0], quantile(after, .5))
	if p50 := quantile(after, .5); p50 >= spike {
		t.Errorf("median round trip after the spike %v: the spike did not end", p50)
	}
}

func TestReset(t *testing.T) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up})
	var conns []net.Conn
	for range 3 {
		c := dial(t, p.Addr())
		echo(t, c, []byte("up"))
		conns = append(conns, c)
	}
	if n := p.Conns(); n != 3 {
		t.Fatalf("Conns() = %d before the reset, want 3", n)
	}
	if n := p.Reset(); n != 3 {
		t.Errorf("Reset() = %d, want 3", n)
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("read after the reset: %v, want ECONNRESET", err)
		}
	}
	if n := p.Conns(); n != 0 {
		t.Errorf("Conns() = %d after the reset, want 0", n)
	}
	echo(t, dial(t, p.Addr()), []byte("a new connection works"))
}

// TestResetWithChunksInFlight: a reset drops the chunks still waiting for
// their delivery time; their connections end, and the proxy goes on.
func TestResetWithChunksInFlight(t *testing.T) {
	const latency = 200 * time.Millisecond
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
	var conns []net.Conn
	for range 3 {
		c := dial(t, p.Addr())
		if _, err := c.Write([]byte("in flight")); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	time.Sleep(latency / 10) // read by the proxy, not yet delivered
	if n := p.Reset(); n != 3 {
		t.Errorf("Reset() = %d, want 3", n)
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if n, err := c.Read(make([]byte, 64)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("read after the reset: %d bytes, %v; want ECONNRESET", n, err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for p.Conns() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := p.Conns(); n != 0 {
		t.Errorf("Conns() = %d after the reset, want 0", n)
	}
	c := dial(t, p.Addr())
	roundTrips(t, c, 2)
}

func TestUpstreamDownClosesClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: down})
	c := dial(t, p.Addr())
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read from a proxy whose upstream is down: %v, want EOF", err)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	up := startEcho(t)
	baseline := runtime.NumGoroutine()
	p, err := netproxy.Start(netproxy.Config{Network: "tcp", Address: up, Latency: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		c := dial(t, p.Addr())
		if i%2 == 0 {
			echo(t, c, []byte("up"))
		}
		if _, err := c.Write([]byte("in flight")); err != nil {
			t.Fatal(err)
		}
	}
	p.SetStalled(true)
	if _, err := dial(t, p.Addr()).Write([]byte("stalled")); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return within 30s")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, %d before Start:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// TestUnix: with Config.Unix the proxy listens on a Unix socket, forwards
// with its latency, closes the client side on Reset (a Unix socket has no
// RST: the client reads EOF) and removes the socket's directory on Close.
func TestUnix(t *testing.T) {
	const latency = 20 * time.Millisecond
	up := startEcho(t)
	p, err := netproxy.Start(netproxy.Config{Network: "tcp", Address: up, Latency: latency, Unix: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Network() != "unix" || !filepath.IsAbs(p.Addr()) {
		t.Fatalf("Network, Addr = %q, %q: want unix and a socket's path", p.Network(), p.Addr())
	}
	c, err := net.DialTimeout("unix", p.Addr(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rtt := echo(t, c, []byte("up")); rtt < latency {
		t.Errorf("round trip %v through a latency of %v", rtt, latency)
	}
	if n := p.Reset(); n != 1 {
		t.Errorf("Reset() = %d, want 1", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read after the reset: %v, want EOF", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(p.Addr())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket's directory after Close: %v, want it removed", err)
	}
}
