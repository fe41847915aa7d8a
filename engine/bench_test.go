package engine_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
)

// benchPlan is SELECT 1 by 8 users without think time on 8 connections,
// in autocommit: each checkout sends what pgbench -M prepared sends per
// transaction, one prepared SELECT 1 (the default read_committed would add
// a BEGIN and a ROLLBACK round trip per checkout, as SQLAlchemy does).
const benchPlan = `
version: 1
name: bench
pool: {size: 8, max_overflow: 0, timeout: 30s, isolation_level: autocommit}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: 8, duration: 3s}
`

// BenchmarkThroughputVsBarePool compares a plan's throughput (SELECT 1,
// 8 users, no think) with other clients of the same concurrency on the same
// server, in one run: measuring must not disturb the load. The others are
//   - bare: a pgxpool loop that does nothing but acquire/query/release,
//     without any timeout or cancellation (the floor);
//   - bare-timeout: the same loop bounding each acquire by the pool timeout
//     (context.WithTimeout, the pgxpool way to get SQLAlchemy's pool_timeout:
//     the same semantics as the plan);
//   - pgbench -M prepared -n -c 8 -j 2 -T 3 with a script of SELECT 1, when
//     pgbench is found on PATH or next to the PostgreSQL binaries.
//
// It reports the rates and planrun's ratio to each, planrun's own CPU time
// (user + system, getrusage over its run) and heap allocations per
// operation, and pgbench's CPU time per transaction (its rusage). Run it with
// -benchtime=1x -count=3 or more on an otherwise idle machine: client and
// server share its cores.
func BenchmarkThroughputVsBarePool(b *testing.B) {
	const users, d = 8, 3 * time.Second
	pgbench := findPgbench()
	if pgbench == "" {
		b.Log("pgbench not found on PATH nor next to the PostgreSQL binaries: its metrics are skipped")
	}
	for range b.N {
		rate := map[string]float64{}
		var planrunCPU, planrunAllocs, pgbenchCPU float64
		clients := []struct {
			name string
			run  func() float64
		}{
			{"planrun", func() float64 {
				prog := compileTB(b, benchPlan, engine.Options{})
				var cost usage
				cost.start()
				r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
				if err != nil {
					b.Fatal(err)
				}
				// Run's own setup (preflight, pool warm-up) is in the cost:
				// a few ms over a run of 3 s.
				ops := float64(r.Scenarios[0].Ops)
				cpu, allocs := cost.stop()
				planrunCPU, planrunAllocs = cpu.Seconds()*1e6/ops, float64(allocs)/ops
				return r.Scenarios[0].Throughput
			}},
			{"bare", func() float64 { return bareLoop(b, users, d, 0) }},
			{"bare-timeout", func() float64 { return bareLoop(b, users, d, 30*time.Second) }},
			{"pgbench", func() float64 {
				tps, cpuPerTx := runPgbench(b, pgbench, users, d)
				pgbenchCPU = cpuPerTx.Seconds() * 1e6
				return tps
			}},
		}
		if pgbench == "" {
			clients = clients[:3]
		}
		// Each round starts with the next client, so that none is always
		// measured first (or last) when load from elsewhere comes and goes.
		first := int(benchRound.Add(1))
		for k := range clients {
			c := clients[(first+k)%len(clients)]
			rate[c.name] = c.run()
		}
		planrun := rate["planrun"]
		for _, c := range clients {
			b.ReportMetric(rate[c.name], c.name+"-ops/s")
			if c.name != "planrun" {
				b.ReportMetric(planrun/rate[c.name], "ratio-"+c.name)
			}
		}
		b.ReportMetric(planrunCPU, "planrun-cpu-µs/op")
		b.ReportMetric(planrunAllocs, "planrun-allocs/op")
		if pgbench != "" {
			b.ReportMetric(pgbenchCPU, "pgbench-cpu-µs/tx")
		}
	}
}

// usage measures this process's CPU time (user + system, getrusage) and
// heap allocations between start and stop.
type usage struct {
	cpu    time.Duration
	allocs uint64
}

func (u *usage) start() { u.cpu, u.allocs = selfCPU(), mallocs() }

// stop returns the CPU time and the allocations since start.
func (u *usage) stop() (time.Duration, uint64) {
	return selfCPU() - u.cpu, mallocs() - u.allocs
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mallocs() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.Mallocs
}

// benchRound rotates the order of the clients across the rounds of
// BenchmarkThroughputVsBarePool (-count runs them in one process).
var benchRound atomic.Int64

// bareLoop runs users goroutines that acquire, SELECT 1 and release on a
// plain pgxpool for d and returns the operations per second. With a
// timeout, each acquire is bounded by it.
func bareLoop(b *testing.B, users int, d, timeout time.Duration) float64 {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(localpgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = int32(users)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	acquire := func() (*pgxpool.Conn, error) {
		if timeout == 0 {
			return p.Acquire(ctx)
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return p.Acquire(actx)
	}
	var ops atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				c, err := acquire()
				if err != nil {
					continue
				}
				if _, err := c.Exec(ctx, "SELECT 1"); err == nil {
					ops.Add(1)
				}
				c.Release()
			}
		}()
	}
	wg.Wait()
	return float64(ops.Load()) / time.Since(start).Seconds()
}

// findPgbench returns the path of pgbench: on PATH, else next to the
// PostgreSQL server binaries; "" when neither has it.
func findPgbench() string {
	if path, err := exec.LookPath("pgbench"); err == nil {
		return path
	}
	if dir, err := localpg.FindBinaries(); err == nil {
		path := filepath.Join(dir, "pgbench")
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return ""
}

var pgbenchTPS = regexp.MustCompile(`(?m)^tps = ([0-9.]+)`)

// runPgbench runs pgbench with clients connections and a script of SELECT 1
// for d (whole seconds) against the test server and returns its tps and
// its own CPU time (user + system, from its rusage) per transaction.
func runPgbench(b *testing.B, pgbench string, clients int, d time.Duration) (float64, time.Duration) {
	cc, err := pgx.ParseConfig(localpgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	script := filepath.Join(b.TempDir(), "select1.sql")
	if err := os.WriteFile(script, []byte("SELECT 1;\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(pgbench, "-M", "prepared", "-n",
		"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())), "-f", script)
	cmd.Env = append(os.Environ(),
		"PGHOST="+cc.Host, fmt.Sprintf("PGPORT=%d", cc.Port), "PGUSER="+cc.User,
		"PGDATABASE="+cc.Database, "PGPASSWORD="+cc.Password, "PGAPPNAME=planrun-bench-pgbench")
	if cc.TLSConfig == nil {
		cmd.Env = append(cmd.Env, "PGSSLMODE=disable")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := pgbenchTPS.FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench: no tps in its output:\n%s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		b.Fatalf("pgbench: tps %q: %v", m[1], err)
	}
	return tps, pgbenchCPUPerTx(b, cmd, out)
}

// pgbenchCPUPerTx is the CPU time (user + system, its rusage) pgbench,
// which has exited with out as its output, spent per transaction.
func pgbenchCPUPerTx(b *testing.B, cmd *exec.Cmd, out []byte) time.Duration {
	b.Helper()
	tx := pgbenchTx.FindSubmatch(out)
	if tx == nil {
		b.Fatalf("pgbench: no transaction count in its output:\n%s", out)
	}
	n, err := strconv.ParseFloat(string(tx[1]), 64)
	if err != nil || n == 0 {
		b.Fatalf("pgbench: transactions %q: %v", tx[1], err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatal("pgbench: no rusage")
	}
	return time.Duration(float64(ru.Utime.Nano()+ru.Stime.Nano()) / n)
}

var pgbenchTx = regexp.MustCompile(`(?m)^number of transactions actually processed: ([0-9]+)`)
