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

// BenchmarkThroughputVsBarePool compares a plan's throughput (SELECT 1,
// 8 users, no think) with a bare pgxpool loop of the same concurrency on the
// same server, in one run: measuring must not disturb the load. It reports
// both rates and their ratio; run it with -benchtime=1x.
func BenchmarkThroughputVsBarePool(b *testing.B) {
	const users, seconds = 8, 3
	for range b.N {
		bare := bareLoop(b, users, seconds*time.Second)
		prog := compileTB(b, `
version: 1
name: bench
pool: {size: 8, max_overflow: 0}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: 8, duration: 3s}
`, engine.Options{})
		r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
		if err != nil {
			b.Fatal(err)
		}
		planrun := r.Scenarios[0].Throughput
		b.ReportMetric(bare, "bare-ops/s")
		b.ReportMetric(planrun, "planrun-ops/s")
		b.ReportMetric(planrun/bare, "ratio")
	}
}

// bareLoop runs users goroutines that acquire, SELECT 1 and release on a
// plain pgxpool for d and returns the operations per second.
func bareLoop(b *testing.B, users int, d time.Duration) float64 {
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
	var ops atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				c, err := p.Acquire(ctx)
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
