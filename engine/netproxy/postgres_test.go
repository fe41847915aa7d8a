package netproxy_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/netproxy"
)

// pgConnect connects to the test server, through p when it is not nil.
func pgConnect(tb testing.TB, p *netproxy.Proxy) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(localpgtest.DSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if p != nil {
		host, port, err := net.SplitHostPort(p.Addr())
		if err != nil {
			tb.Fatal(err)
		}
		cfg.Host = host
		if _, err := fmt.Sscan(port, &cfg.Port); err != nil {
			tb.Fatal(err)
		}
		cfg.Fallbacks = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pgUpstream is the test server's address, as a Config takes it.
func pgUpstream(tb testing.TB) (network, address string) {
	tb.Helper()
	cfg, err := pgx.ParseConfig(localpgtest.DSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if cfg.Host[0] == '/' {
		return "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	return "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
}

func select1(tb testing.TB, conn *pgx.Conn) {
	var one int
	if err := conn.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil {
		tb.Fatal(err)
	}
}

// select1Times measures n SELECT 1 queries on conn, after one to warm
// its statement cache.
func select1Times(tb testing.TB, conn *pgx.Conn, n int) []time.Duration {
	select1(tb, conn)
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		select1(tb, conn)
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times
}

// The ground truth: with latency 5ms, SELECT 1's p50 is between
// 5 ms and 6.5 ms on loopback, once the proxy's own measured lateness is
// taken off each query (on a busy machine the proxy delivers late, and
// says by how much: that is what the run's verdict allows for). The
// server's part is measured alongside: direct queries, each after the idle
// gap a proxied one leaves the server (a busy machine wakes an idle server
// late, the more so as it runs at a lower priority, localpg.ServerNiceness).
func TestPostgresSelect1Latency(t *testing.T) {
	const latency = 5 * time.Millisecond
	network, address := pgUpstream(t)
	directConn := pgConnect(t, nil)
	p := startProxy(t, netproxy.Config{Network: network, Address: address, Latency: latency})
	start := time.Now()
	conn := pgConnect(t, p)
	connect := time.Since(start)
	// Alternate, so that both see the same machine. One chunk each way per
	// proxied query.
	var direct []time.Duration
	proxied, less, late := lessLateness(t, p, 200, 2, func() time.Duration {
		time.Sleep(latency)
		start := time.Now()
		select1(t, directConn)
		direct = append(direct, time.Since(start))
		start = time.Now()
		select1(t, conn)
		return time.Since(start)
	})
	direct = direct[1:] // the warm-up
	slices.Sort(direct)
	lp50, lp99, lmax, lcount := lateness(late)
	p50, directP50 := quantile(less, .5), quantile(direct, .5)
	t.Logf("SELECT 1 direct after %v idle: p50 %v p90 %v; through latency %v: min %v p50 %v p90 %v; less the proxy's lateness: min %v p50 %v p90 %v; connect through the proxy %v",
		latency, directP50, quantile(direct, .9), latency, proxied[0], quantile(proxied, .5), quantile(proxied, .9), less[0], p50, quantile(less, .9), connect)
	t.Logf("proxy lateness of %d chunks: p50 %v p99 %v max %v", lcount, lp50, lp99, lmax)

	if proxied[0] < latency {
		t.Errorf("fastest SELECT 1 %v is below the latency %v", proxied[0], latency)
	}
	// The lateness is part of each query's time: taking it off cannot go
	// below the latency.
	if less[0] < latency {
		t.Errorf("fastest SELECT 1 less the proxy's lateness %v is below the latency %v: the lateness is overcounted", less[0], latency)
	}
	// 6.5 ms on an idle machine, where a direct query takes about 0.1 ms.
	// A busy machine delays every goroutine wake-up, and the proxy's
	// reads are wake-ups its lateness does not see: a proxied query waits
	// on three of them (the proxy's two reads and the client's) where a
	// direct one waits on one, and the median of the worst of three draws
	// is about the 80th percentile of one. So the same run's direct p90
	// bounds what the machine adds.
	if limit := 6500*time.Microsecond + max(quantile(direct, .9)-100*time.Microsecond, 0); p50 > limit {
		t.Errorf("SELECT 1 p50 %v through the proxy, less its lateness, is above %v (6.5ms + direct p90 beyond 0.1ms)", p50, limit)
	}
	if connect < latency {
		t.Errorf("connecting took %v, under the round trip (%v) a startup needs at least", connect, latency)
	}
}
