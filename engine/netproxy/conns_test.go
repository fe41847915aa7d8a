package netproxy_test

import (
	"net"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/netproxy"
)

// TestConnStatsCountEveryConnection opens connections through the proxy at
// known moments and checks its counts and the time at each level against
// what the test did and measured.
func TestConnStatsCountEveryConnection(t *testing.T) {
	up := startEcho(t)
	p := startProxy(t, netproxy.Config{Network: "tcp", Address: up})
	waitConns := func(n int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for p.Conns() != n {
			if time.Now().After(deadline) {
				t.Fatalf("the proxy holds %d connections, want %d", p.Conns(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	var conns []net.Conn
	for range 2 {
		c := dial(t, p.Addr())
		echo(t, c, []byte("up"))
		conns = append(conns, c)
	}
	waitConns(2)

	// A window in which exactly two were open the whole time.
	before := p.ConnStats()
	time.Sleep(50 * time.Millisecond)
	during := p.ConnStats()
	w := during.Minus(before)
	if w.Opened != 0 || w.Closed != 0 || w.Max() != 2 || w.Mean() != 2 || w.Quantile(0.95) != 2 {
		t.Errorf("a window with 2 open throughout: opened %d closed %d max %d mean %v p95 %d, want 0 0 2 2 2",
			w.Opened, w.Closed, w.Max(), w.Mean(), w.Quantile(0.95))
	}

	thirdDialled := time.Now()
	third := dial(t, p.Addr())
	echo(t, third, []byte("up"))
	waitConns(3)
	time.Sleep(20 * time.Millisecond)
	conns = append(conns, third)
	for _, c := range conns {
		c.Close()
	}
	waitConns(0)
	threeBound := time.Since(thirdDialled) // 3 were open only within it

	s := p.ConnStats()
	if s.Opened != 3 || s.Closed != 3 || s.Open != 0 {
		t.Errorf("opened %d closed %d open %d, want 3 3 0", s.Opened, s.Closed, s.Open)
	}
	if s.Max() != 3 {
		t.Errorf("max %d, want 3", s.Max())
	}
	if s.TimeAt[3] < 20*time.Millisecond || s.TimeAt[3] > threeBound {
		t.Errorf("3 connections were open for %s: less than the 20ms the test held them, or more than the %s from the third dial to the last close", s.TimeAt[3], threeBound)
	}
	var total time.Duration
	for _, d := range s.TimeAt {
		total += d
	}
	if total != s.Until.Sub(s.Since) {
		t.Errorf("the times at each level add up to %s, the proxy ran %s", total, s.Until.Sub(s.Since))
	}
	if s.TimeAt[2] < during.Until.Sub(before.Until) {
		t.Errorf("2 connections were open for %s, less than the window of %s in which the test saw 2", s.TimeAt[2], during.Until.Sub(before.Until))
	}
}
