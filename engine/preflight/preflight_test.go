package preflight_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/preflight"
	"github.com/planrun/planrun/results"
)

func roomyPool() results.Pool {
	return results.Pool{Size: 5, MaxOverflow: 5, Timeout: 30 * time.Second, Recycle: 30 * time.Minute,
		PrePing: true, ConnectTimeout: 5 * time.Second}
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	res := preflight.Run(ctx, preflight.Config{
		ConnString:      testDSN(t),
		ApplicationName: "planrun-preflight-test",
		Pool:            roomyPool(),
		Replicas:        1,
		Pings:           10,
	})
	for _, c := range res.Checks {
		t.Logf("%-12s %-4s critical=%-5t %s", c.Name, c.Status, c.Critical, c.Reason)
	}
	if c, failed := res.Failed(); failed {
		t.Fatalf("critical check failed: %s: %s", c.Name, c.Reason)
	}
	var names []string
	for _, c := range res.Checks {
		names = append(names, c.Name)
	}
	want := []string{"reachability", "server", "rtt", "capacity", "timeouts", "consistency"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("checks = %v, want %v", names, want)
	}
	if res.ServerVersion == "" {
		t.Error("ServerVersion is empty")
	}
	if res.RTT <= 0 {
		t.Errorf("RTT = %s, want > 0", res.RTT)
	}
	if res.MaxConnections <= 0 {
		t.Errorf("MaxConnections = %d, want > 0", res.MaxConnections)
	}
	if res.TLS {
		t.Error("TLS = true on an sslmode=disable connection")
	}
	for _, name := range []string{"reachability", "server", "capacity"} {
		if c, _ := res.Check(name); c.Status != results.CheckPass {
			t.Errorf("%s = %s (%s), want pass", name, c.Status, c.Reason)
		}
	}
	if c, _ := res.Check("consistency"); c.Status != results.CheckPass {
		t.Errorf("consistency = %s (%s), want pass", c.Status, c.Reason)
	}
}

func TestCapacity(t *testing.T) {
	s := startServer(t, 20)
	ctx := context.Background()

	// Two other clients are connected while the check runs, the second as
	// a running service's backend would be.
	const runningService = "planrun-test-running-service"
	var extra *pgx.Conn
	for i := range 2 {
		dsn := s.DSN()
		if i == 1 {
			dsn += "&application_name=" + runningService // s.DSN() is a URL with a query
		}
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("extra connection %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		extra = c
	}
	// A closed connection's backend exits a moment after the client has
	// gone: wait until only the two extra clients are left, so that the
	// previous case's check connection is not counted.
	settle := func(t *testing.T) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var n int
			if err := extra.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 2 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d client backends, want 2", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// 20 − 3 reserved − 2 in use = 15 available.
	tests := []struct {
		name        string
		replicas    int
		size, over  int
		service     preflight.Config // ServiceProcesses, PoolUnused, ServiceApplicationName
		wantStatus  results.CheckStatus
		wantReasons []string
	}{
		{
			name: "two replicas do not fit", replicas: 2, size: 5, over: 10, wantStatus: results.CheckFail,
			wantReasons: []string{"needs 2 × (5 + 10) = 30 connections", "server allows 20 − 3 reserved − 2 in use = 15", "15 short"},
		},
		{
			name: "roomy", replicas: 1, size: 5, over: 5, wantStatus: results.CheckPass,
			wantReasons: []string{"needs 1 × (5 + 5) = 10 connections", "= 15 (5 spare)"},
		},
		{
			name: "fits without headroom", replicas: 1, size: 7, over: 7, wantStatus: results.CheckWarn,
			wantReasons: []string{"needs 1 × (7 + 7) = 14", "(1 spare)", "headroom"},
		},
		{
			name: "replicas default to one", replicas: 0, size: 15, over: 0, wantStatus: results.CheckWarn,
			wantReasons: []string{"needs 1 × (15 + 0) = 15", "(0 spare)"},
		},
		{
			name: "a service and planrun's pool", replicas: 1, size: 4, over: 3, wantStatus: results.CheckWarn,
			service:     preflight.Config{ServiceProcesses: 1},
			wantReasons: []string{"needs service 1 × (4 + 3) = 7 + planrun's pool 1 × (4 + 3) = 7 → 14 connections", "− 2 in use = 15 (1 spare)"},
		},
		{
			name: "only the service's pools", replicas: 3, size: 4, over: 3, wantStatus: results.CheckPass,
			service:     preflight.Config{ServiceProcesses: 1, PoolUnused: true},
			wantReasons: []string{"needs service 1 × (4 + 3) = 7 connections (planrun's pool opens none", "− 2 in use = 15 (8 spare)"},
		},
		{
			name: "a running service's open backend is part of its need", replicas: 1, size: 4, over: 4, wantStatus: results.CheckWarn,
			service: preflight.Config{ServiceProcesses: 1, ServiceApplicationName: runningService},
			wantReasons: []string{"needs service 1 × (4 + 4) = 8 (1 of the service's already open) + planrun's pool 1 × (4 + 4) = 8 → 16 connections",
				"server allows 20 − 3 reserved − 1 in use = 16 (0 spare)"},
		},
		{
			name: "too many service processes", replicas: 1, size: 4, over: 4, wantStatus: results.CheckFail,
			service:     preflight.Config{ServiceProcesses: 2},
			wantReasons: []string{"needs service 2 × (4 + 4) = 16 + planrun's pool 1 × (4 + 4) = 8 → 24 connections", "= 15: 9 short", "target.service.processes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settle(t)
			pool := roomyPool()
			pool.Size, pool.MaxOverflow = tt.size, tt.over
			cfg := tt.service
			cfg.ConnString, cfg.Pool, cfg.Replicas, cfg.Pings = s.DSN(), pool, tt.replicas, 3
			res := preflight.Run(ctx, cfg)
			c, ok := res.Check("capacity")
			if !ok {
				t.Fatalf("no capacity check in %+v", res.Checks)
			}
			t.Logf("capacity: %s: %s", c.Status, c.Reason)
			if c.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", c.Status, tt.wantStatus)
			}
			if !c.Critical {
				t.Error("capacity is not critical")
			}
			for _, want := range tt.wantReasons {
				if !strings.Contains(c.Reason, want) {
					t.Errorf("reason %q does not contain %q", c.Reason, want)
				}
			}
			failed, isFailed := res.Failed()
			if (tt.wantStatus == results.CheckFail) != isFailed || (isFailed && failed.Name != "capacity") {
				t.Errorf("Failed() = %+v, %t", failed, isFailed)
			}
			if res.MaxConnections != 20 {
				t.Errorf("MaxConnections = %d, want 20", res.MaxConnections)
			}
		})
	}
}

// closedPort returns a 127.0.0.1 port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// silentPort returns a 127.0.0.1 port that accepts TCP connections (the
// kernel completes the handshake) but never answers.
func silentPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestUnreachable(t *testing.T) {
	tests := []struct {
		name string
		port func(*testing.T) int
		want []string
	}{
		{name: "closed port", port: closedPort, want: []string{"connection refused", "is PostgreSQL running"}},
		{name: "silent port", port: silentPort, want: []string{"timed out after 1s", "firewall"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := tt.port(t)
			dsn := fmt.Sprintf("postgres://postgres:not-this-one@127.0.0.1:%d/postgres?sslmode=disable", port)
			pool := roomyPool()
			pool.ConnectTimeout = time.Second
			start := time.Now()
			res := preflight.Run(context.Background(), preflight.Config{ConnString: dsn, Pool: pool})
			took := time.Since(start)
			if took > 3*time.Second {
				t.Errorf("took %s with a 1s connect timeout", took)
			}
			if len(res.Checks) != 1 {
				t.Fatalf("checks = %+v, want only reachability", res.Checks)
			}
			c, failed := res.Failed()
			if !failed || c.Name != "reachability" || c.Status != results.CheckFail {
				t.Fatalf("Failed() = %+v, %t; want a failed reachability check", c, failed)
			}
			t.Logf("after %s: %s", took.Round(time.Millisecond), c.Reason)
			want := append([]string{fmt.Sprintf("127.0.0.1:%d", port)}, tt.want...)
			for _, w := range want {
				if !strings.Contains(c.Reason, w) {
					t.Errorf("reason %q does not contain %q", c.Reason, w)
				}
			}
			if strings.Contains(c.Reason, "not-this-one") {
				t.Errorf("reason shows the password: %q", c.Reason)
			}
			if strings.Contains(c.Reason, "\n") {
				t.Errorf("reason is not one line: %q", c.Reason)
			}
		})
	}
}

func TestUnknownDatabase(t *testing.T) {
	cfg, err := pgx.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("postgres://%s@%s:%d/planrun_no_such_db?sslmode=disable", cfg.User, cfg.Host, cfg.Port)
	res := preflight.Run(context.Background(), preflight.Config{ConnString: dsn, Pool: roomyPool()})
	c, failed := res.Failed()
	if !failed || c.Name != "reachability" {
		t.Fatalf("Failed() = %+v, %t", c, failed)
	}
	if !strings.Contains(c.Reason, `database "planrun_no_such_db" does not exist`) {
		t.Errorf("reason = %q", c.Reason)
	}
}

func TestWrongPassword(t *testing.T) {
	const (
		rightPW = "right-pw"
		wrongPW = "wr0ng-s3cret"
	)
	s := startServer(t, 20)
	ctx := context.Background()

	// Password authentication for pwuser, ahead of initdb's trust lines.
	hba := filepath.Join(s.DataDir(), "pg_hba.conf")
	old, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	line := "host all pwuser 127.0.0.1/32 scram-sha-256\n"
	if err := os.WriteFile(hba, append([]byte(line), old...), 0o600); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, sql := range []string{
		"SELECT pg_reload_conf()",
		"CREATE ROLE pwuser LOGIN PASSWORD '" + rightPW + "'",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	dsnWith := func(pw string) string {
		return fmt.Sprintf("postgres://pwuser:%s@127.0.0.1:%d/postgres?sslmode=disable", pw, s.Port())
	}

	t.Run("right password passes", func(t *testing.T) {
		res := preflight.Run(ctx, preflight.Config{ConnString: dsnWith(rightPW), Pool: roomyPool(), Pings: 3})
		if c, failed := res.Failed(); failed {
			t.Fatalf("%s failed: %s", c.Name, c.Reason)
		}
		assertNoSecret(t, res, rightPW)
	})
	t.Run("wrong password fails with a hint", func(t *testing.T) {
		dsn := dsnWith(wrongPW)
		res := preflight.Run(ctx, preflight.Config{ConnString: dsn, Pool: roomyPool()})
		c, failed := res.Failed()
		if !failed || c.Name != "reachability" {
			t.Fatalf("Failed() = %+v, %t", c, failed)
		}
		t.Logf("reason: %s", c.Reason)
		for _, w := range []string{fmt.Sprintf("127.0.0.1:%d", s.Port()), `user "pwuser"`, "authentication failed", "password", "pg_hba.conf"} {
			if !strings.Contains(c.Reason, w) {
				t.Errorf("reason %q does not contain %q", c.Reason, w)
			}
		}
		assertNoSecret(t, res, wrongPW)

		// The error pgx itself returns, explained directly, as the engine does.
		_, err := pgx.Connect(ctx, dsn)
		if err == nil {
			t.Fatal("connect with the wrong password succeeded")
		}
		if got := preflight.Explain(err, dsn); strings.Contains(got, wrongPW) || !strings.Contains(got, "authentication failed") {
			t.Errorf("Explain = %q", got)
		}
	})
}

// assertNoSecret fails when secret appears in any string of res.
func assertNoSecret(t *testing.T, res preflight.Result, secret string) {
	t.Helper()
	all := fmt.Sprintf("%+v", res)
	if strings.Contains(all, secret) {
		t.Errorf("result shows the password: %s", all)
	}
}
