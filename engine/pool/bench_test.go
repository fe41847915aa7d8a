package pool_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/pool"
)

// BenchmarkAcquireRelease measures one Acquire + Release of an idle
// connection (no query), from parallel goroutines on a pool of Size 8.
func BenchmarkAcquireRelease(b *testing.B) { benchAcquireRelease(b, false) }

// BenchmarkAcquireReleaseLevels is BenchmarkAcquireRelease with the level
// log the engine keeps for utilization (Config.RecordLevels), taken every
// 100 ms as the engine does.
func BenchmarkAcquireReleaseLevels(b *testing.B) { benchAcquireRelease(b, true) }

func benchAcquireRelease(b *testing.B, levels bool) {
	dsn := localpgtest.DSN(b)
	const size = 8
	p := newPool(b, pool.Config{ConnString: dsn, ApplicationName: appName(b), Size: size, Timeout: 30 * time.Second, RecordLevels: levels})
	if levels {
		done := make(chan struct{})
		defer close(done)
		go func() {
			var spare []pool.LevelChange
			for {
				select {
				case <-done:
					return
				case <-time.After(100 * time.Millisecond):
					spare = p.TakeLevels(spare)
				}
			}
		}()
	}
	ctx := context.Background()
	var warm []*pool.Conn
	for range size {
		c, err := p.Acquire(ctx)
		if err != nil {
			b.Fatalf("Acquire: %v", err)
		}
		warm = append(warm, c)
	}
	for _, c := range warm {
		p.Release(c)
	}

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := p.Acquire(ctx)
			if err != nil {
				b.Errorf("Acquire: %v", err)
				return
			}
			p.Release(c)
		}
	})
	b.StopTimer()
	if st := p.Stats(); st.Opened != size || st.ClosedOverflow != 0 {
		b.Errorf("stats %+v: want Opened %d and no closes", st, size)
	}
}

// BenchmarkAcquireReleasePgxpool is BenchmarkAcquireRelease on a bare
// pgxpool (no acquire timeout): the reference for this package's overhead.
func BenchmarkAcquireReleasePgxpool(b *testing.B) {
	const size = 8
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(localpgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = size
	cfg.ConnConfig.RuntimeParams["application_name"] = appName(b)
	pp, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pp.Close()
	var warm []*pgxpool.Conn
	for range size {
		c, err := pp.Acquire(ctx)
		if err != nil {
			b.Fatalf("Acquire: %v", err)
		}
		warm = append(warm, c)
	}
	for _, c := range warm {
		c.Release()
	}

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := pp.Acquire(ctx)
			if err != nil {
				b.Errorf("Acquire: %v", err)
				return
			}
			c.Release()
		}
	})
}

// BenchmarkPoolLoop isolates the pool in a load loop: 8 goroutines acquire,
// run SELECT 1 and release, b.N operations in all, on 8 connections: this
// package's pool, and a bare pgxpool with and without a per-acquire timeout
// (context.WithTimeout, the pgxpool way to bound the wait). Compare the
// sub-benchmarks' ns/op (lower is faster) and allocs/op; on a busy machine
// prefer BenchmarkPoolLoopInterleaved for the ratio.
func BenchmarkPoolLoop(b *testing.B) {
	for _, l := range loopKinds {
		b.Run(l.name, func(b *testing.B) {
			op := l.open(b, loopWorkers)
			warmUp(b, loopWorkers, op)
			var left atomic.Int64
			left.Store(int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			runWorkers(loopWorkers, func() bool { return left.Add(-1) >= 0 }, op, b)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
		})
	}
}

// BenchmarkPoolLoopInterleaved runs the loops of BenchmarkPoolLoop in
// alternating rounds of 250 ms, 8 rounds each in a rotating order, so that
// load from other processes falls on all of them alike, and reports each one's rate and
// the pool's ratio to each pgxpool loop. Run it with -benchtime=1x.
func BenchmarkPoolLoopInterleaved(b *testing.B) {
	const round, rounds = 250 * time.Millisecond, 8
	ops := make([]func() error, len(loopKinds))
	for i, l := range loopKinds {
		ops[i] = l.open(b, loopWorkers)
		warmUp(b, loopWorkers, ops[i])
	}
	for range b.N {
		done := make([]int64, len(loopKinds))
		took := make([]time.Duration, len(loopKinds))
		for r := range rounds {
			for k := range ops {
				i := (r + k) % len(ops) // rotate the order: no kind always first
				op := ops[i]
				var n atomic.Int64
				start := time.Now()
				end := start.Add(round)
				runWorkers(loopWorkers, func() bool { return time.Now().Before(end) }, func() error {
					err := op()
					n.Add(1)
					return err
				}, b)
				took[i] += time.Since(start)
				done[i] += n.Load()
			}
		}
		rate := make([]float64, len(loopKinds))
		for i, l := range loopKinds {
			rate[i] = float64(done[i]) / took[i].Seconds()
			b.ReportMetric(rate[i], l.name+"-ops/s")
		}
		b.ReportMetric(rate[0]/rate[1], "ratio-pgxpool")
		b.ReportMetric(rate[0]/rate[2], "ratio-pgxpool-timeout")
	}
}

// loopWorkers is the concurrency of the loop benchmarks, and their number
// of connections.
const loopWorkers = 8

// loopKinds are the pools the loop benchmarks compare; this package's first.
var loopKinds = []struct {
	name string
	open func(tb testing.TB, conns int) (op func() error)
}{
	{"pool", openPoolLoop},
	{"pgxpool", func(tb testing.TB, conns int) func() error { return openPgxpoolLoop(tb, conns, 0) }},
	{"pgxpool-timeout", func(tb testing.TB, conns int) func() error { return openPgxpoolLoop(tb, conns, 30*time.Second) }},
}

// openPoolLoop returns one acquire, SELECT 1, release on a new pool of conns
// connections, closed at the end of the benchmark.
func openPoolLoop(tb testing.TB, conns int) func() error {
	ctx := context.Background()
	p := newPool(tb, pool.Config{ConnString: localpgtest.DSN(tb), ApplicationName: appName(tb), Size: conns, Timeout: 30 * time.Second})
	return func() error {
		c, err := p.Acquire(ctx)
		if err != nil {
			return err
		}
		_, err = c.PgConn().Exec(ctx, "SELECT 1")
		p.Release(c)
		return err
	}
}

// openPgxpoolLoop is openPoolLoop on a bare pgxpool; a timeout > 0 bounds
// each acquire with context.WithTimeout.
func openPgxpoolLoop(tb testing.TB, conns int, timeout time.Duration) func() error {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(localpgtest.DSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns = int32(conns)
	cfg.ConnConfig.RuntimeParams["application_name"] = appName(tb)
	pp, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pp.Close)
	return func() error {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			actx, cancel = context.WithTimeout(ctx, timeout)
		}
		c, err := pp.Acquire(actx)
		cancel()
		if err != nil {
			return err
		}
		_, err = c.Exec(ctx, "SELECT 1")
		c.Release()
		return err
	}
}

// warmUp runs op once from each of workers goroutines at the same time, so
// that every connection is open before measuring.
func warmUp(tb testing.TB, workers int, op func() error) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(); err != nil {
				tb.Errorf("warm-up: %v", err)
			}
		}()
	}
	wg.Wait()
}

// runWorkers runs op from workers goroutines while more() is true and waits
// for them.
func runWorkers(workers int, more func() bool, op func() error, tb testing.TB) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for more() {
				if err := op(); err != nil {
					tb.Errorf("op: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCheckoutExec measures one checkout as the engine runs it, from
// 8 parallel goroutines on 8 connections in autocommit: Acquire, a
// prepared SELECT with one int argument through [pool.Conn.Exec], Release.
// Its allocs/op are the statement path's per-operation allocations.
func BenchmarkCheckoutExec(b *testing.B) {
	ctx := context.Background()
	p := newPool(b, pool.Config{ConnString: localpgtest.DSN(b), ApplicationName: appName(b), Size: loopWorkers, Timeout: 30 * time.Second, IsolationLevel: pool.Autocommit})
	const sql = "SELECT $1::int + 1"
	op := func() error {
		c, err := p.Acquire(ctx)
		if err != nil {
			return err
		}
		err = c.Exec(ctx, sql, 41)
		p.Release(c)
		return err
	}
	warmUp(b, loopWorkers, op)
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	runWorkers(loopWorkers, func() bool { return left.Add(-1) >= 0 }, op, b)
}
