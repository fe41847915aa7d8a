package netproxy_test

import (
	"io"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/netproxy"
)

// TestLatenessCountsEveryChunk: one lateness per chunk and direction,
// kept when the connection ends, and TakeLateness starts a new period
// while Lateness does not.
func TestLatenessCountsEveryChunk(t *testing.T) {
	up := startEcho(t)
	for _, latency := range []time.Duration{0, 2 * time.Millisecond} { // 0: the reader writes itself
		p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
		c := dial(t, p.Addr())
		roundTrips(t, c, 10)
		if n := p.Lateness().TotalCount(); n != 20 {
			t.Errorf("latency %v: Lateness counts %d chunks after 10 round trips, want 20", latency, n)
		}
		if n := p.Lateness().TotalCount(); n != 20 {
			t.Errorf("latency %v: a second Lateness counts %d chunks, want the same 20", latency, n)
		}
		if n := p.TakeLateness().TotalCount(); n != 20 {
			t.Errorf("latency %v: TakeLateness counts %d chunks, want 20", latency, n)
		}
		if n := p.Lateness().TotalCount(); n != 0 {
			t.Errorf("latency %v: %d chunks after TakeLateness, want 0", latency, n)
		}
		roundTrips(t, c, 5)
		c.Close()
		for deadline := time.Now().Add(30 * time.Second); p.Conns() > 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if n := p.TakeLateness().TotalCount(); n != 10 {
			t.Errorf("latency %v: %d chunks once the connection closed, want 10", latency, n)
		}
	}
}

// TestLatenessMeasuresALateClock: while the proxy's clock cannot run (as
// on a machine that gives it no CPU), a due chunk waits, and its lateness
// says how long. The client's round trip bounds the figure from above: the
// lateness of the two chunks is part of it, beside the latency.
func TestLatenessMeasuresALateClock(t *testing.T) {
	const latency, hold = 2 * time.Millisecond, 100 * time.Millisecond
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
	c := dial(t, p.Addr())
	roundTrips(t, c, 5)
	p.TakeLateness()

	msg := []byte("late")
	unlock := netproxy.LockClock(p)
	sent := time.Now()
	if _, err := c.Write(msg); err != nil {
		unlock()
		t.Fatal(err)
	}
	time.Sleep(hold)
	unlocked := time.Now()
	unlock()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
	rtt := time.Since(sent)
	h := p.TakeLateness()
	sum := latenessSum(h)
	most := time.Duration(h.Max()) * time.Microsecond
	t.Logf("clock held %v; round trip %v; lateness of %d chunks: max %v, sum %v", unlocked.Sub(sent), rtt, h.TotalCount(), most, sum)
	if h.TotalCount() != 2 {
		t.Fatalf("%d chunks, want 2", h.TotalCount())
	}
	// The chunk to the server was due latency/2 after the proxy read it;
	// it could not be written before the clock ran again. Half of that
	// leaves room for a reader the machine delayed.
	if want := (unlocked.Sub(sent) - latency/2) / 2; most < want {
		t.Errorf("max lateness %v with the clock held %v, want at least %v", most, unlocked.Sub(sent), want)
	}
	if limit := (rtt - latency) + (rtt-latency)/100; sum > limit {
		t.Errorf("the two chunks' lateness %v exceeds the round trip less the latency, %v", sum, limit)
	}
}

// TestLatenessLeavesOutTheStall: a chunk held by a stall is due when the
// stall ends, not at its scheduled time.
func TestLatenessLeavesOutTheStall(t *testing.T) {
	const latency, stall = 2 * time.Millisecond, 100 * time.Millisecond
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: latency})
	c := dial(t, p.Addr())
	roundTrips(t, c, 5)
	p.TakeLateness()

	msg := []byte("stalled")
	p.SetStalled(true)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	time.Sleep(stall)
	resumed := time.Now()
	p.SetStalled(false)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
	after := time.Since(resumed)
	h := p.TakeLateness()
	sum, n := latenessSum(h), h.TotalCount()
	t.Logf("reply %v after the stall's end; lateness of %d chunks: sum %v", after, n, sum)
	// Both chunks were written after the stall's end, the reply's after
	// its latency/2: their lateness fits in what followed the stall.
	if limit := after - latency/2 + after/100; sum > limit {
		t.Errorf("the two chunks' lateness %v exceeds the time after the stall less latency/2, %v: the stall counted as lateness", sum, limit)
	}
}

// TestLatenessLeavesOutASlowReceiver: chunks that wait because the
// receiver does not read (its socket buffer is full) are not late.
func TestLatenessLeavesOutASlowReceiver(t *testing.T) {
	const size, pause = 8 << 20, 500 * time.Millisecond
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up, Latency: time.Millisecond})
	c := dial(t, p.Addr())
	go func() { _, _ = c.Write(make([]byte, size)) }()
	time.Sleep(pause) // the echo's replies fill the buffers and block the proxy's writer
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.ReadFull(c, make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	_, p99, most, n := takeLateness(p)
	t.Logf("%d chunks: lateness p99 %v max %v", n, p99, most)
	if most >= pause/2 {
		t.Errorf("max lateness %v: the %v the receiver did not read counted as lateness", most, pause)
	}
}
