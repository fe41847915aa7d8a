package netproxy_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/netproxy"
)

// BenchmarkRoundTrip is the proxy's own cost: a small echo round trip
// directly and through a proxy with latency 0.
func BenchmarkRoundTrip(b *testing.B) {
	up := startEcho(b)
	p := startProxy(b, netproxy.Config{Network: "tcp", Address: up})
	msg := []byte("ping 0123456789")
	for _, bc := range []struct{ name, addr string }{{"direct", up}, {"proxy", p.Addr()}} {
		b.Run(bc.name, func(b *testing.B) {
			c := dial(b, bc.addr)
			echo(b, c, msg)
			b.ResetTimer()
			for b.Loop() {
				echo(b, c, msg)
			}
		})
	}
}

// BenchmarkSelect1 is the proxy's cost on a query: SELECT 1 with pgx
// directly and through a proxy with latency 0.
func BenchmarkSelect1(b *testing.B) {
	network, address := pgUpstream(b)
	p := startProxy(b, netproxy.Config{Network: network, Address: address})
	for _, bc := range []struct {
		name  string
		proxy *netproxy.Proxy
	}{{"direct", nil}, {"proxy", p}} {
		b.Run(bc.name, func(b *testing.B) {
			conn := pgConnect(b, bc.proxy)
			select1(b, conn)
			for b.Loop() {
				select1(b, conn)
			}
		})
	}
}

// BenchmarkDelayedRoundTrips is the proxy's cost where planrun pays it
// most, in production.yaml's stress scenario: many connections, each
// waiting for its reply, through a latency of 500 µs. 50 connections echo
// a small message, b.N round trips in all. It reports the process's CPU
// time per round trip (getrusage: proxy, echo server and clients), the
// mean round trip and the proxy's delivery lateness p50 and p99, with the
// proxy listening on TCP and on a Unix socket (Config.Unix).
func BenchmarkDelayedRoundTrips(b *testing.B) {
	for _, unix := range []bool{false, true} {
		b.Run(map[bool]string{false: "tcp", true: "unix"}[unix], func(b *testing.B) { delayedRoundTrips(b, unix) })
	}
}

func delayedRoundTrips(b *testing.B, unix bool) {
	const conns, latency = 50, 500 * time.Microsecond
	up := startEcho(b)
	p := startProxy(b, netproxy.Config{Network: "tcp", Address: up, Latency: latency, Unix: unix})
	cs := make([]net.Conn, conns)
	msg := []byte("ping 0123456789")
	for i := range cs {
		c, err := net.DialTimeout(p.Network(), p.Addr(), 10*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		cs[i] = c
		echo(b, c, msg)
	}
	p.TakeLateness()
	var left atomic.Int64
	left.Store(int64(b.N))
	var total atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]byte, len(msg))
			for left.Add(-1) >= 0 {
				start := time.Now()
				if _, err := c.Write(msg); err != nil {
					b.Error(err)
					return
				}
				if _, err := io.ReadFull(c, got); err != nil {
					b.Error(err)
					return
				}
				total.Add(int64(time.Since(start)))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu := cpuTime() - cpu0
	p50, p99, _, _ := takeLateness(p)
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/rt")
	b.ReportMetric(float64(total.Load())/float64(b.N)/1e3, "rtt-µs")
	b.ReportMetric(float64(p50.Microseconds()), "late-p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "late-p99-µs")
}

// cpuTime is the process's CPU time so far (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
