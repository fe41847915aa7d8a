package preflight_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/engine/preflight"
	"github.com/planrun/planrun/results"
)

func TestCapacityJudge(t *testing.T) {
	base := preflight.Capacity{Replicas: 2, Size: 20, MaxOverflow: 30, MaxConnections: 100, Reserved: 3, InUse: 12,
		RoleLimit: -1, DatabaseLimit: -1, User: "app", Database: "finance"}
	tests := []struct {
		name   string
		edit   func(*preflight.Capacity)
		status results.CheckStatus
		reason string
	}{
		{"does not fit", func(*preflight.Capacity) {}, results.CheckFail,
			"needs 2 × (20 + 30) = 100 connections, server allows 100 − 3 reserved − 12 in use = 85: 15 short"},
		{"fits", func(c *preflight.Capacity) { c.Replicas = 1 }, results.CheckPass,
			"needs 1 × (20 + 30) = 50 connections, server allows 100 − 3 reserved − 12 in use = 85 (35 spare)"},
		{"exactly full", func(c *preflight.Capacity) { c.InUse = 47; c.Replicas = 1 }, results.CheckWarn, "(0 spare); less than 10% headroom"},
		{"role limit", func(c *preflight.Capacity) { c.Replicas = 1; c.RoleLimit = 40; c.RoleInUse = 2 }, results.CheckFail,
			`role "app" allows 40 (connection limit) − 2 in use = 38`},
		{"database limit", func(c *preflight.Capacity) { c.Replicas = 1; c.DatabaseLimit = 50; c.DatabaseInUse = 1 }, results.CheckFail,
			`database "finance" allows 50 (connection limit) − 1 in use = 49`},
		// With a service: its pools count, and planrun's own only when the
		// mixes hold SQL operations (Replicas > 0).
		{"service and planrun's pool", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses, c.Size, c.MaxOverflow = 1, 2, 4, 2 },
			results.CheckPass, "needs service 2 × (4 + 2) = 12 + planrun's pool 1 × (4 + 2) = 6 → 18 connections, server allows 100 − 3 reserved − 12 in use = 85 (67 spare)"},
		{"service and planrun's pools", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses, c.Size, c.MaxOverflow = 2, 1, 4, 2 },
			results.CheckPass, "needs service 1 × (4 + 2) = 6 + planrun's pools 2 × (4 + 2) = 12 → 18 connections"},
		{"service only", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses = 0, 1 }, results.CheckPass,
			"needs service 1 × (20 + 30) = 50 connections (planrun's pool opens none: every operation is HTTP), server allows 100 − 3 reserved − 12 in use = 85 (35 spare)"},
		{"service does not fit", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses = 0, 2 }, results.CheckFail,
			"needs service 2 × (20 + 30) = 100 connections (planrun's pool opens none: every operation is HTTP), server allows 100 − 3 reserved − 12 in use = 85: 15 short; lower pool size/max_overflow, target.service.processes or replicas"},
		{"service and pool do not fit together", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses = 1, 1 }, results.CheckFail,
			"needs service 1 × (20 + 30) = 50 + planrun's pool 1 × (20 + 30) = 50 → 100 connections, server allows 100 − 3 reserved − 12 in use = 85: 15 short"},
		{"running service's open backends", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses, c.ServiceOpen = 0, 1, 5 }, results.CheckPass,
			"needs service 1 × (20 + 30) = 50 connections (5 of the service's already open; planrun's pool opens none: every operation is HTTP)"},
		{"running service's open backends and planrun's pool", func(c *preflight.Capacity) { c.Replicas, c.ServiceProcesses, c.ServiceOpen = 1, 1, 5 }, results.CheckFail,
			"needs service 1 × (20 + 30) = 50 (5 of the service's already open) + planrun's pool 1 × (20 + 30) = 50 → 100 connections"},
		{"service over the role limit", func(c *preflight.Capacity) {
			c.Replicas, c.ServiceProcesses, c.Size, c.MaxOverflow, c.RoleLimit, c.RoleInUse = 1, 1, 10, 10, 30, 1
		}, results.CheckFail,
			`needs service 1 × (10 + 10) = 20 + planrun's pool 1 × (10 + 10) = 20 → 40 connections, role "app" allows 30 (connection limit) − 1 in use = 29`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			got := c.Judge()
			if got.Status != tt.status || !strings.Contains(got.Reason, tt.reason) || !got.Critical {
				t.Errorf("Judge() = %+v\nwant status %s, critical, reason containing %q", got, tt.status, tt.reason)
			}
		})
	}
}

func TestTimeoutsJudge(t *testing.T) {
	pool := results.Pool{Timeout: 30 * time.Second}
	tests := []struct {
		name   string
		t      preflight.Timeouts
		pool   results.Pool
		status results.CheckStatus
		reason string
	}{
		{"off", preflight.Timeouts{}, pool, results.CheckWarn, "statement_timeout 0 (off), idle_in_transaction_session_timeout 0 (off); with no statement_timeout"},
		{"shorter than pool timeout", preflight.Timeouts{StatementTimeout: 5 * time.Second, IdleInTransactionSessionTimeout: time.Minute}, pool,
			results.CheckPass, "statement_timeout 5s, idle_in_transaction_session_timeout 1m0s"},
		{"as long as pool timeout", preflight.Timeouts{StatementTimeout: 30 * time.Second}, pool, results.CheckWarn, "not shorter than pool.timeout (30s)"},
		{"no pool timeout", preflight.Timeouts{}, results.Pool{}, results.CheckPass, "statement_timeout 0 (off)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.t.Judge(tt.pool)
			if got.Status != tt.status || !strings.Contains(got.Reason, tt.reason) || got.Critical {
				t.Errorf("Judge() = %+v\nwant status %s, not critical, reason containing %q", got, tt.status, tt.reason)
			}
		})
	}
}

func TestConsistency(t *testing.T) {
	good := results.Pool{Size: 20, MaxOverflow: 30, Timeout: 30 * time.Second, Recycle: 30 * time.Minute, PrePing: true, ConnectTimeout: 5 * time.Second}
	tests := []struct {
		name     string
		edit     func(*results.Pool)
		maxThink time.Duration
		want     []string // empty: pass
	}{
		{"production plan", func(*results.Pool) {}, 150 * time.Millisecond, nil},
		{"no connections", func(p *results.Pool) { p.Size, p.MaxOverflow = 0, 0 }, 0, []string{"can never hand out"}},
		{"overflow only", func(p *results.Pool) { p.Size = 0 }, 0, []string{"size 0 with max_overflow 30"}},
		{"timeout below connect timeout", func(p *results.Pool) { p.Timeout = 2 * time.Second }, 0, []string{"timeout 2s < connect_timeout 5s"}},
		{"short recycle", func(p *results.Pool) { p.Recycle = 30 * time.Second }, 0, []string{"recycle 30s < 1m0s"}},
		{"recycle within think time", func(p *results.Pool) { p.Recycle = 2 * time.Minute }, 5 * time.Minute, []string{"recycle 2m0s ≤ the longest think time 5m0s"}},
		{"no pre-ping and no recycle", func(p *results.Pool) { p.PrePing, p.Recycle = false, 0 }, 0, []string{"pre_ping off and recycle 0"}},
		{"pre-ping off with recycle", func(p *results.Pool) { p.PrePing = false }, 0, nil},
		{"several at once", func(p *results.Pool) { p.Size = 0; p.Recycle = 10 * time.Second }, 0, []string{"size 0", "; recycle 10s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			tt.edit(&p)
			got := preflight.Consistency(p, tt.maxThink)
			if got.Critical || got.Name != "consistency" {
				t.Errorf("Consistency() = %+v: want a non-critical consistency check", got)
			}
			if len(tt.want) == 0 {
				if got.Status != results.CheckPass {
					t.Errorf("Consistency() = %+v, want pass", got)
				}
				return
			}
			if got.Status != results.CheckWarn {
				t.Errorf("status = %s, want warn", got.Status)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Reason, w) {
					t.Errorf("reason %q does not contain %q", got.Reason, w)
				}
			}
		})
	}
}

func TestExplain(t *testing.T) {
	const secret = "s3cret-pw"
	dsn := "postgres://app:" + secret + "@db.example.com:6432/finance?sslmode=require&connect_timeout=3"
	dial := func(err error) error {
		return fmt.Errorf("failed to connect to `user=app database=finance`: db.example.com:6432: dial error: %w",
			&net.OpError{Op: "dial", Net: "tcp", Err: err})
	}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"refused", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), []string{"connection refused", "is PostgreSQL running"}},
		{"unknown host", dial(&net.DNSError{Name: "db.example.com", Err: "no such host", IsNotFound: true}), []string{`unknown host "db.example.com"`, "DNS"}},
		{"timeout", fmt.Errorf("dial: %w", context.DeadlineExceeded), []string{"timed out after 3s", "firewall"}},
		{"wrong password", dial(&pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "app"`}),
			[]string{`authentication failed for user "app"`, "28P01", "pg_hba.conf"}},
		{"no hba entry", &pgconn.PgError{Code: "28000", Message: `no pg_hba.conf entry for host "10.0.0.1", user "app", database "finance", no encryption`},
			[]string{"no pg_hba.conf entry", "add a pg_hba.conf line"}},
		{"no such role", &pgconn.PgError{Code: "28000", Message: `role "app" does not exist`}, []string{`role "app" does not exist`, "LOGIN"}},
		{"no such database", &pgconn.PgError{Code: "3D000", Message: `database "finance" does not exist`}, []string{`database "finance" does not exist`}},
		{"too many connections", &pgconn.PgError{Code: "53300", Message: "sorry, too many clients already"}, []string{"too many clients", "max_connections"}},
		{"tls refused", errors.New("failed to connect: server refused TLS connection"), []string{"does not accept TLS", "sslmode"}},
		{"untrusted certificate", dial(x509.UnknownAuthorityError{}), []string{"not trusted", "sslrootcert"}},
		{"refused on one address, untrusted on the other", errors.Join(dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), dial(x509.UnknownAuthorityError{})),
			[]string{"not trusted"}},
		{"other", errors.New("something odd with password=" + secret), []string{"something odd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := preflight.Explain(tt.err, dsn)
			t.Log(got)
			want := append([]string{`cannot connect to db.example.com:6432 (user "app", database "finance")`}, tt.want...)
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("Explain() = %q, want it to contain %q", got, w)
				}
			}
			if strings.Contains(got, secret) || strings.Contains(got, "\n") {
				t.Errorf("Explain() = %q: shows the password or spans lines", got)
			}
		})
	}

	t.Run("nil", func(t *testing.T) {
		if got := preflight.Explain(nil, dsn); got != "" {
			t.Errorf("Explain(nil) = %q", got)
		}
	})
	t.Run("bad connection string", func(t *testing.T) {
		bad := "postgres://app:" + secret + "@db.example.com:notaport/finance"
		_, err := pgconn.ParseConfig(bad)
		got := preflight.Explain(err, bad)
		if !strings.Contains(got, "invalid connection string") || strings.Contains(got, secret) {
			t.Errorf("Explain() = %q", got)
		}
	})
	t.Run("several hosts", func(t *testing.T) {
		multi := "postgres://app:" + secret + "@a.example.com:5432,b.example.com:5433/finance"
		got := preflight.Explain(errors.New("boom"), multi)
		if !strings.Contains(got, "a.example.com:5432, b.example.com:5433") {
			t.Errorf("Explain() = %q", got)
		}
	})
}
