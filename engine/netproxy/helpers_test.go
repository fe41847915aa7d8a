package netproxy_test

import (
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// startEcho starts a TCP server on 127.0.0.1 that sends back whatever it
// reads; it stops when the test ends.
func startEcho(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// startProxy starts a proxy in front of upstream; it is closed when the
// test ends.
func startProxy(tb testing.TB, cfg netproxy.Config) *netproxy.Proxy {
	tb.Helper()
	p, err := netproxy.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	})
	return p
}

func dial(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// echo sends msg on c and reads it back, returning the round trip.
func echo(tb testing.TB, c net.Conn, msg []byte) time.Duration {
	tb.Helper()
	got := make([]byte, len(msg))
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(c, got); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// roundTrips measures n echo round trips of a small message on c.
func roundTrips(tb testing.TB, c net.Conn, n int) []time.Duration {
	tb.Helper()
	msg := []byte("ping 0123456789")
	rtts := make([]time.Duration, n)
	for i := range rtts {
		rtts[i] = echo(tb, c, msg)
	}
	slices.Sort(rtts)
	return rtts
}

// quantile of sorted durations, q in 0..1.
func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(q*float64(len(sorted)-1))]
}
