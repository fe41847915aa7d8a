package pool_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// appName returns an application_name unique to this test run, short enough
// for PostgreSQL's 63-byte limit.
func appName(tb testing.TB) string {
	name := tb.Name()
	name = strings.NewReplacer("/", "-", " ", "_").Replace(name)
	if len(name) > 40 {
		name = name[:40]
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "pooltest-" + name + "-" + hex.EncodeToString(b)
}

// newPool returns a pool closed at the end of the test.
func newPool(tb testing.TB, cfg pool.Config) *pool.Pool {
	tb.Helper()
	p, err := pool.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("pool.New: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// adminConn is a plain connection (not pooled) to observe the server.
func adminConn(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse DSN: %v", err)
	}
	cfg.RuntimeParams["application_name"] = "pooltest-admin"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("admin connect: %v", err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// backends counts the server's backends with application name app.
func backends(tb testing.TB, admin *pgx.Conn, app string) int {
	tb.Helper()
	var n int
	err := admin.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
	if err != nil {
		tb.Fatalf("count backends: %v", err)
	}
	return n
}

// eventually polls cond every 10 ms until it is true or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// backendPID returns the backend PID of a checked-out connection.
func backendPID(tb testing.TB, c *pool.Conn) uint32 {
	tb.Helper()
	var pid uint32
	if err := c.PgConn().QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		tb.Fatalf("SELECT pg_backend_pid(): %v", err)
	}
	return pid
}

// delayProxy is a TCP proxy to target that makes connects slow or fail:
// for the i-th client (from 0) plan says how long to wait before connecting
// it through, and whether to hang up on it instead.
type delayProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// startDelayProxy delays every client by delay.
func startDelayProxy(tb testing.TB, target string, delay time.Duration) *delayProxy {
	return startProxy(tb, target, func(int) (time.Duration, bool) { return delay, false })
}

func startProxy(tb testing.TB, target string, plan func(i int) (delay time.Duration, hangUp bool)) *delayProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	p := &delayProxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for i := 0; ; i++ {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(client)
			delay, hangUp := plan(i)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				time.Sleep(delay)
				if hangUp {
					_ = client.Close()
					return
				}
				server, err := net.Dial("tcp", target)
				if err != nil {
					_ = client.Close()
					return
				}
				p.track(server)
				go func() { _, _ = io.Copy(server, client); _ = server.Close() }()
				_, _ = io.Copy(client, server)
				_ = client.Close()
			}()
		}
	}()
	tb.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *delayProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *delayProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// proxyDSN returns a key=value DSN for the server of dsn reached through a
// proxy started by plan (see startProxy).
func proxyDSN(tb testing.TB, dsn string, plan func(i int) (time.Duration, bool)) string {
	tb.Helper()
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		tb.Fatalf("parse DSN: %v", err)
	}
	proxy := startProxy(tb, net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)), plan)
	out := fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", proxy.port(), cc.User, cc.Database)
	if cc.Password != "" {
		out += " password=" + cc.Password
	}
	return out
}
