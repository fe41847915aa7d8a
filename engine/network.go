package engine

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/planrun/planrun/engine/netproxy"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// startNetwork starts the simulated network (target.network) between the
// pool and the server, when the plan has one. Preflight, setup, teardown
// and the faults' own sessions connect directly. The returned function
// closes it.
func (e *runEnv) startNetwork() (closeProxy func(), f *Failure) {
	n := e.prog.Target.Network
	if n == nil {
		return func() {}, nil
	}
	network, address, err := upstream(e.dsn)
	if err != nil {
		return func() {}, &Failure{Stage: "target", Err: fmt.Errorf("network: %s", err)}
	}
	if e.server != nil {
		// The proxy writes to the embedded server through its Unix socket:
		// the same server without TLS, for much less of planrun's CPU than
		// TCP's loopback, which runs the receiving side in the writer.
		network, address = "unix", e.server.Socket()
	}
	p, err := netproxy.Start(netproxy.Config{
		Network: network, Address: address,
		Latency: n.Latency, Jitter: n.Jitter, Bandwidth: n.Bandwidth,
		Seed: e.prog.Seed, DialTimeout: e.prog.Pool.ConnectTimeout,
		// The pool dials it in-process (DialContext, see poolConfig); its
		// listener is then used by nothing, and a Unix socket needs no port.
		Unix: true,
	})
	if err != nil {
		return func() {}, &Failure{Stage: "target", Err: fmt.Errorf("network: start the proxy: %w", err)}
	}
	e.proxy = p
	e.logf("network: the pool connects through the in-process proxy to %s: %s; preflight and setup connect directly", address, describeNetwork(n))
	return func() {
		if err := p.Close(); err != nil {
			e.logf("network: close the proxy: %v", err)
		}
		e.proxy = nil
	}, nil
}

// describeNetwork says what a simulated network adds, for the log.
func describeNetwork(n *results.Network) string {
	s := "+" + humanize.Duration(n.Latency) + " per round trip"
	if n.Jitter > 0 {
		s += " ±" + humanize.Duration(n.Jitter)
	}
	if n.Bandwidth > 0 {
		s += ", " + humanize.Int(n.Bandwidth) + " B/s per connection and direction"
	}
	return s
}

// upstream is the server address the proxy forwards to: the first host of
// the connection string (a TCP host and port, or a Unix socket directory).
func upstream(dsn string) (network, address string, err error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "", "", fmt.Errorf("read the connection string: %w", err)
	}
	port := strconv.Itoa(int(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		return "unix", filepath.Join(cfg.Host, ".s.PGSQL."+port), nil
	}
	return "tcp", net.JoinHostPort(cfg.Host, port), nil
}

// faultScenarios lists the scenarios with a fault of kind, and the
// tables their faults name (for lock), each once.
func (e *runEnv) faultScenarios(kind string) (scenarios, tables []string) {
	seen := map[string]bool{}
	for _, sc := range e.prog.scenarios {
		has := false
		for _, f := range sc.Faults {
			if f.Kind != kind {
				continue
			}
			has = true
			if f.Table != "" && !seen[f.Table] {
				seen[f.Table] = true
				tables = append(tables, f.Table)
			}
		}
		if has {
			scenarios = append(scenarios, sc.Name)
		}
	}
	return scenarios, tables
}

// restartCheck is the preflight check of restart faults: planrun can only
// restart the embedded server. Critical. Nil when no scenario restarts.
func (e *runEnv) restartCheck() *results.Check {
	scenarios, _ := e.faultScenarios(schema.FaultRestart)
	if len(scenarios) == 0 {
		return nil
	}
	c := &results.Check{Name: "fault_restart", Status: results.CheckPass, Critical: true,
		Reason: "the embedded server can be restarted"}
	if e.server == nil {
		c.Status = results.CheckFail
		c.Reason = fmt.Sprintf("scenario %s restarts the server, which planrun can do only to the embedded server, not to a target.url: remove the restart fault or target.url", strings.Join(scenarios, ", "))
	}
	return c
}

// lockCheck warns when a lock fault's table does not exist after setup
// (the fault would fail). Nil when no scenario locks a table.
func (e *runEnv) lockCheck(ctx context.Context) *results.Check {
	scenarios, tables := e.faultScenarios(schema.FaultLock)
	if len(tables) == 0 {
		return nil
	}
	c := &results.Check{Name: "fault_lock", Status: results.CheckPass, Reason: "the tables to lock exist: " + strings.Join(tables, ", ")}
	var missing []string
	for _, t := range tables {
		var exists bool
		if err := e.monitor.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t).Scan(&exists); err != nil {
			c.Status, c.Reason = results.CheckWarn, fmt.Sprintf("could not look up table %s: %s", t, errorSample(err, ""))
			return c
		}
		if !exists {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		c.Status = results.CheckWarn
		c.Reason = fmt.Sprintf("no table %s after setup: the lock fault of scenario %s will fail; create it in setup or fix the name", strings.Join(missing, ", "), strings.Join(scenarios, ", "))
	}
	return c
}
