package netproxy_test

import (
	"io"

	"github.com/HdrHistogram/hdrhistogram-go"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/netproxy"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

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

// lateness summarises a lateness histogram: p50, p99 and max, and how many
// chunks it counts.
func lateness(h *hdrhistogram.Histogram) (p50, p99, most time.Duration, count int64) {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return us(h.ValueAtQuantile(50)), us(h.ValueAtQuantile(99)), us(h.Max()), h.TotalCount()
}

// takeLateness takes p's delivery lateness since the last take: its p50,
// p99 and max, and how many chunks it counts.
func takeLateness(p *netproxy.Proxy) (p50, p99, most time.Duration, count int64) {
	return lateness(p.TakeLateness())
}

// latenessSum is the sum of h's lateness values, at most their true sum:
// each counts as the lowest value of its histogram bucket (values are
// recorded in whole microseconds, rounded down, within 1 %).
func latenessSum(h *hdrhistogram.Histogram) time.Duration {
	var us int64
	for _, b := range h.Distribution() {
		us += b.From * b.Count
	}
	return time.Duration(us) * time.Microsecond
}

// lessLateness calls do n times, after one unmeasured call to warm up;
// do returns the time of the call through p it made. lessLateness returns
// those times and each less the delivery lateness the proxy recorded
// during its call (the proxy records a chunk's lateness before writing it,
// so by the time a reply arrives its chunks are counted): what the call
// would have taken had the proxy kept its schedule. Both sorted; and the
// lateness of every chunk of the n calls. It fails the test unless every
// call moved chunksPerCall chunks through p.
func lessLateness(tb testing.TB, p *netproxy.Proxy, n, chunksPerCall int, do func() time.Duration) (times, less []time.Duration, late *hdrhistogram.Histogram) {
	tb.Helper()
	do()
	late = p.TakeLateness()
	late.Reset()
	times, less = make([]time.Duration, n), make([]time.Duration, n)
	for i := range times {
		times[i] = do()
		h := p.TakeLateness()
		if h.TotalCount() != int64(chunksPerCall) {
			tb.Fatalf("call %d: the proxy counted %d chunks, want %d", i, h.TotalCount(), chunksPerCall)
		}
		less[i] = times[i] - latenessSum(h)
		late.Merge(h)
	}
	slices.Sort(times)
	slices.Sort(less)
	return times, less, late
}
