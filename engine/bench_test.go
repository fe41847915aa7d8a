package engine_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/pgtest"
)

// benchPlan is SELECT 1 by 8 users without think time on 8 connections.
const benchPlan = `
version: 1
name: bench
pool: {size: 8, max_overflow: 0, timeout: 30s}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: 8, duration: 3s}
`

// BenchmarkThroughputVsBarePool compares a plan's throughput (SELECT 1,
// 8 users, no think) with bare pgxpool loops of the same concurrency on the
// same server, in one run: measuring must not disturb the load. The bare
// loops run twice: as a program that bounds each acquire by the pool timeout
// (context.WithTimeout, the pgxpool way to get SQLAlchemy's pool_timeout:
// the same semantics as the plan) and, as a floor that does nothing but
// acquire/query/release, without any timeout or cancellation. It reports the
// three rates and planrun's ratio to each; run it with -benchtime=1x -count=5
// on an otherwise idle machine: client and server share its cores.
func BenchmarkThroughputVsBarePool(b *testing.B) {
	const users, d = 8, 3 * time.Second
	for range b.N {
		floor := bareLoop(b, users, d, 0)
		timeout := bareLoop(b, users, d, 30*time.Second)
		prog := compileTB(b, benchPlan, engine.Options{})
		r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		planrun := r.Scenarios[0].Throughput
		b.ReportMetric(floor, "bare-ops/s")
		b.ReportMetric(timeout, "bare-timeout-ops/s")
		b.ReportMetric(planrun, "planrun-ops/s")
		b.ReportMetric(planrun/floor, "ratio-bare")
		b.ReportMetric(planrun/timeout, "ratio-bare-timeout")
	}
}

// bareLoop runs users goroutines that acquire, SELECT 1 and release on a
// plain pgxpool for d and returns the operations per second. With a
// timeout, each acquire is bounded by it.
func bareLoop(b *testing.B, users int, d, timeout time.Duration) float64 {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(b))
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
