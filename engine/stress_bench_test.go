package engine_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/schema"
)

// stressScale shortens plans/production.yaml's stress scenario (3 minutes)
// for BenchmarkStressCPUPerOp: 18 s.
const stressScale = 0.1

// BenchmarkStressCPUPerOp measures planrun's own CPU per operation in
// plans/production.yaml's stress scenario (100 users, think 20-60 ms, the
// app mix), as the plan's own generator figures report it (getrusage over
// the scenario ÷ its operations), at time scale 0.1, on a throwaway server
// of its own reached through its Unix socket, as the embedded server is:
//   - network: as the plan is written, through the in-process proxy with
//     500 µs of latency per round trip (engine/netproxy);
//   - direct: the same plan without target.network, so the difference is
//     what the proxy costs;
//   - pgbench: when pgbench is found, the same checkout as the plan's
//     balance operation (BEGIN ISOLATION LEVEL READ COMMITTED; the
//     pre-ping SELECT 1; the balance SELECT; ROLLBACK: four round trips,
//     prepared) by 100 clients at the operation rate the direct run
//     reached, directly to the server: libpq's CPU per transaction for the
//     same round trips, the floor a client on this machine pays for them.
//
// It reports cpu-µs/op for each, planrun's ops/s and, with the network,
// the proxy's delivery lateness p50. Run it with -benchtime=1x -count=3 on
// an otherwise idle machine.
func BenchmarkStressCPUPerOp(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "plans", "production.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := localpg.Start(context.Background(), localpg.Options{MaxConnections: 200, StartTimeout: 2 * time.Minute})
	if err != nil {
		b.Skipf("no PostgreSQL to start: %v", err)
	}
	b.Cleanup(func() { _ = srv.Stop() })
	dsn := fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", filepath.Dir(srv.Socket()), srv.Port())
	pgbench := findPgbench()
	for range b.N {
		var directRate float64
		for _, network := range []bool{true, false} {
			cpuPerOp, rate, late := stressRun(b, src, dsn, network)
			name := map[bool]string{true: "network", false: "direct"}[network]
			b.ReportMetric(cpuPerOp, name+"-cpu-µs/op")
			b.ReportMetric(rate, name+"-ops/s")
			if network {
				b.ReportMetric(late, "network-late-p50-µs")
			} else {
				directRate = rate
			}
		}
		if pgbench != "" {
			b.ReportMetric(pgbenchCheckouts(b, pgbench, srv, directRate), "pgbench-cpu-µs/tx")
		}
	}
}

// stressRun runs the stress scenario of the production plan src against
// dsn, with or without its target.network, and returns planrun's CPU per
// operation in µs, the throughput and the proxy's lateness p50 in µs.
func stressRun(b *testing.B, src []byte, dsn string, network bool) (cpuPerOp, rate, lateP50 float64) {
	plan, err := schema.Parse("production.yaml", src, func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	plan.Target.URL = dsn
	if !network {
		plan.Target.Network = nil
	}
	prog, err := engine.Compile(plan, engine.Options{TimeScale: stressScale, Scenarios: []string{"stress"}})
	if err != nil {
		b.Fatal(err)
	}
	r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s := r.Scenarios[0]
	if s.Ops == 0 || s.Generator.CPU < 0 {
		b.Fatalf("stress: %d operations, generator CPU %v", s.Ops, s.Generator.CPU)
	}
	cpu := s.Generator.CPU * s.Elapsed.Seconds()
	return cpu * 1e6 / float64(s.Ops), s.Throughput, float64(s.Generator.ProxyLateness.P50.Microseconds())
}

// pgbenchCheckouts runs pgbench with the balance operation's checkout as
// its transaction, 100 clients at rate transactions a second for 15 s on
// srv, and returns pgbench's CPU time (user + system) per transaction in µs.
func pgbenchCheckouts(b *testing.B, pgbench string, srv *localpg.Server, rate float64) float64 {
	dir := b.TempDir()
	setup := filepath.Join(dir, "setup.sql")
	script := filepath.Join(dir, "checkout.sql")
	if err := os.WriteFile(setup, []byte(`CREATE TABLE IF NOT EXISTS planrun_accounts (id int PRIMARY KEY, balance bigint NOT NULL);
INSERT INTO planrun_accounts SELECT g, 100000 FROM generate_series(1, 10000) g ON CONFLICT DO NOTHING;
`), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(script, []byte(`\set id random(1, 10000)
BEGIN ISOLATION LEVEL READ COMMITTED;
SELECT 1;
SELECT balance FROM planrun_accounts WHERE id = :id;
ROLLBACK;
`), 0o600); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "PGHOST="+filepath.Dir(srv.Socket()), "PGPORT="+strconv.Itoa(srv.Port()),
		"PGUSER=postgres", "PGDATABASE=postgres", "PGAPPNAME=planrun-bench-pgbench")
	psql := filepath.Join(filepath.Dir(pgbench), "psql")
	if out, err := (&exec.Cmd{Path: psql, Args: []string{psql, "-q", "-f", setup}, Env: env}).CombinedOutput(); err != nil {
		b.Fatalf("psql: %v\n%s", err, out)
	}
	cmd := exec.Command(pgbench, "-M", "prepared", "-n", "-c", "100", "-j", "2",
		"-R", strconv.Itoa(int(rate)), "-T", "15", "-f", script)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	return float64(pgbenchCPUPerTx(b, cmd, out)) / 1e3
}
