package netproxy_test

import (
	"testing"

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
