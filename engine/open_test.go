package engine_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// compileOpen compiles a plan written with `users` whose first scenario is
// then made an open model of rate arrivals per second (uniform spacing):
// the plan's rate syntax is decoded by the schema, built here in Go.
func compileOpen(t *testing.T, src string, rate float64) *engine.Program {
	t.Helper()
	plan, err := schema.Parse(t.Name()+".yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	plan.Target.URL = localpgtest.DSN(t)
	plan.Target.ApplicationName = fmt.Sprintf("planrun-test-%d-%d", os.Getpid(), appSeq.Add(1))
	sc := &plan.Scenarios[0]
	sc.Users, sc.Rate, sc.Arrival = 0, schema.Rate(rate), "uniform"
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}
	return prog
}

// logOpen logs every figure of an open-model scenario the tests judge.
func logOpen(t *testing.T, sc results.Scenario) {
	t.Helper()
	t.Logf("model %s, target %.4g/s, arrivals %d, ops %d, errors %d %v, dropped %d, throughput %.4g/s, elapsed %v",
		sc.Model, sc.Rate, sc.Arrivals, sc.Ops, sc.Errors, sc.ErrorsBy, sc.Dropped, sc.Throughput, sc.Elapsed)
	t.Logf("op p50 %v p95 %v p99 %v max %v; acquire p50 %v p99 %v max %v; hold mean %v; lag p50 %v p99 %v max %v; in flight mean %.2f max %d (max_users %d)",
		sc.Op.P50, sc.Op.P95, sc.Op.P99, sc.Op.Max, sc.Acquire.P50, sc.Acquire.P99, sc.Acquire.Max, sc.Hold.Mean,
		sc.Lag.P50, sc.Lag.P99, sc.Lag.Max, sc.InFlight.Mean, sc.InFlight.Max, sc.MaxUsers)
	// The ground truth below holds for a generator that kept to its
	// schedule; when this run's own measurement criterion says it did not
	// (what makes a run INCONCLUSIVE), the machine set the pace and the
	// queueing figures describe it, not the pool.
	limit := schema.DefaultMaxLag
	if late := sc.Generator.TimerLateness.P99; sc.Lag.P99 > limit || late > limit {
		t.Skipf("the load generator fell behind on this busy machine (lag p99 %v, timer lateness p99 %v, limit %v): the run would be INCONCLUSIVE, so its queueing figures are not judged",
			sc.Lag.P99, late, limit)
	}
}

// TestOpenUnderload: 150 arrivals/s, each holding a connection 20 ms, on 4
// connections (capacity 200/s): the pool keeps up, so the throughput is the
// arrival rate, acquires hardly wait and nothing is dropped.
func TestOpenUnderload(t *testing.T) {
	prog := compileOpen(t, `
version: 1
name: open-underload
pool: {size: 4, max_overflow: 0, timeout: 1s}
mixes:
  m:
    - {name: hold, sql: SELECT 1, hold: 20ms}
scenarios:
  - {name: s, users: 1, duration: 8s}
`, 150)
	r := run(t, prog, engine.RunOptions{})
	sc := r.Scenarios[0]
	logOpen(t, sc)
	if sc.Model != results.ModelOpen || sc.Rate != 150 {
		t.Errorf("model %q rate %v, want open at 150/s", sc.Model, sc.Rate)
	}
	if sc.Arrivals != 1200 || sc.Ops != 1200 {
		t.Errorf("arrivals %d, ops %d: want 1200 (150/s for 8s, uniform)", sc.Arrivals, sc.Ops)
	}
	// The premise is a pool with spare capacity: 4 connections over the
	// hold this run measured. A starved machine stretches the hold (late
	// timers, a slow server) until 150/s is an overload, whose queue may
	// reach the 1 s timeout; then only the throughput is checked, against
	// the capacity.
	capacity := 4 / sc.Hold.Mean.Seconds()
	t.Logf("capacity 4/hold = %.4g/s", capacity)
	if capacity < 1.1*150 {
		t.Logf("machine too busy: the hold stretched to %v, so 150/s is not an underload here; ground truth not applicable", sc.Hold.Mean)
		within(t, "throughput (ops/s) vs capacity", sc.Throughput, min(150, capacity), 0.05)
		return
	}
	if sc.Errors != 0 || sc.Dropped != 0 {
		t.Fatalf("errors %d (%v), dropped %d: want none", sc.Errors, sc.ErrorSamples, sc.Dropped)
	}
	// Completed operations over the arrivals' span (the throughput divides
	// by the elapsed time, which includes the drain of the last operation).
	within(t, "throughput (ops/s)", sc.Throughput, 150, 0.03)
	// The acquire ground truth assumes holds of about 20 ms. When a busy
	// server stretched them (p99 more than 1.5 × 20 ms), arrivals queue
	// behind slow holds as any queue with variable service does at 75 %
	// utilization: not what this test can judge.
	if sc.Hold.P99 > 30*time.Millisecond {
		t.Skipf("the server stretched the 20 ms holds to p99 %v (max %v): the acquire waits are queueing behind slow holds, not the underload ground truth", sc.Hold.P99, sc.Hold.Max)
	}
	// Acquires should not wait: arrivals 1/150 s apart find the connection
	// of the arrival 4 places earlier free unless its hold ran past 4/150 s
	// (26.7 ms), and then wait at most the excess. A busy machine stretches
	// holds (late timers) and bunches arrivals (lag), so the bound of 5 ms
	// is widened by the run's own hold p99 excess and its lag (p99 for
	// the acquire p95; the longest lag for the p99: one late burst of
	// arrivals queues a few of them for a hold).
	// A goroutine that waits for a CPU between acquire's start and end adds
	// that wait: the run's own timer lateness measures it.
	// For the p99, the longest hold: one hold stretched by a busy server
	// makes the next few arrivals on its connection wait.
	excess := max(0, sc.Hold.P99-4*time.Second/150)
	excessMax := max(0, sc.Hold.Max-4*time.Second/150)
	late := sc.Generator.TimerLateness
	limit95 := 5*time.Millisecond + sc.Lag.P99 + excess + late.P99
	// The pool starts empty: arrivals while its first connections open
	// queue, and the queue drains at capacity − 150/s. When that queue
	// spans more than the 5 % of the acquires the p95 leaves out (a
	// connect stalled by a busy machine), the p95 sees the connect's wait.
	if queued := sc.Connect.Max.Seconds() * 150 * capacity / (capacity - 150); queued > 0.05*float64(sc.Ops) {
		limit95 += sc.Connect.Max
	}
	// The pool starts empty: the first arrivals wait for connections to
	// open, which the p99 of 1,200 acquires can see.
	limit99 := 5*time.Millisecond + sc.Lag.Max + excessMax + late.Max + sc.Connect.Max
	t.Logf("acquire p95 %v (bound %v), p99 %v (bound %v): 5ms + lag p99 %v / max %v + hold p99 %v / max %v beyond 26.7ms (%v / %v) + timer lateness p99 %v / max %v (+ connect max %v for the p99)",
		sc.Acquire.P95, limit95, sc.Acquire.P99, limit99, sc.Lag.P99, sc.Lag.Max, sc.Hold.P99, sc.Hold.Max, excess, excessMax, late.P99, late.Max, sc.Connect.Max)
	if sc.Acquire.P95 > limit95 || sc.Acquire.P99 > limit99 {
		t.Errorf("acquire p95 %v / p99 %v, want under %v / %v", sc.Acquire.P95, sc.Acquire.P99, limit95, limit99)
	}
	// A few at once: the 4 connections' operations, the arrivals of a
	// late timer, and those that came while the first connections opened.
	if maxInFlight := 20 + int(sc.Connect.Max.Seconds()*150); sc.InFlight.Max == 0 || sc.InFlight.Max > maxInFlight || sc.MaxUsers < sc.InFlight.Max {
		t.Errorf("in flight max %d, max_users %d: want a few operations at once", sc.InFlight.Max, sc.MaxUsers)
	}
	if r.Seed == 0 && prog.Seed != 0 {
		t.Errorf("run seed %d, program seed %d", r.Seed, prog.Seed)
	}
}

// TestOpenOverload: 250 arrivals/s on a capacity of 200/s (4 connections,
// 20 ms each). The queue grows by 50 arrivals a second, so an arrival at t
// waits 50t/200 = 0.25t s, until the wait reaches the pool timeout (1 s at
// about t = 4 s); from then on the excess arrivals time out. The time
// series shows both; the throughput is the capacity.
func TestOpenOverload(t *testing.T) {
	prog := compileOpen(t, `
version: 1
name: open-overload
pool: {size: 4, max_overflow: 0, timeout: 1s}
mixes:
  m:
    - {name: hold, sql: SELECT 1, hold: 20ms}
scenarios:
  - {name: s, users: 1, duration: 8s}
`, 250)
	sc := run(t, prog, engine.RunOptions{}).Scenarios[0]
	logOpen(t, sc)
	for _, p := range sc.Series {
		t.Logf("t=%v ops %d errors %d acquire p50 %v p99 %v in flight %d waiting %d", p.T, p.Ops, p.Errors, p.AcquireP50, p.AcquireP99, p.InFlight, p.Waiting)
	}
	// Capacity from the same run: 4 connections each held for the measured
	// hold (20 ms plus the statement and the release).
	capacity := 4 / sc.Hold.Mean.Seconds()
	t.Logf("capacity 4/hold = %.4g/s (200/s for a hold of exactly 20ms); throughput/200 = %.3f", capacity, sc.Throughput/200)
	within(t, "throughput (ops/s) vs 4/hold", sc.Throughput, capacity, 0.05)
	if sc.Dropped != 0 {
		t.Errorf("dropped %d: max_in_flight (10000) was never reached", sc.Dropped)
	}
	timeouts := sc.ErrorsBy[results.ErrAcquireTimeout]
	if timeouts == 0 || timeouts != sc.Errors {
		t.Errorf("errors %v: want acquire timeouts only", sc.ErrorsBy)
	}
	if len(sc.Series) < 8 {
		t.Fatalf("series has %d points, want 8", len(sc.Series))
	}
	// The queue grows by rate − capacity a second, so an arrival at a waits
	// k·a with k = (250 − capacity)/capacity (0.25 at 200/s). A step holds
	// the operations that completed in it: an arrival at a completes at
	// (1+k)·a, so by completion time the wait grows at k/(1+k) (0.2) and
	// reaches the 1 s timeout at full = (1+k)/k s (5 s). Capacity is the
	// run's own, so a busy machine (longer holds) shifts the figures
	// rather than failing the test; the generator's lag widens the band.
	p := sc.Series
	k := (250 - capacity) / capacity
	growth, full := k/(1+k), (1+k)/k
	t.Logf("expected: waits grow %.3f s per second of arrival time, %.3f per second of completion time, reaching 1s at t=%.2fs", k, growth, full)
	var growing []results.Point // steps wholly before the waits reach the timeout, the first left out (connections opening)
	for _, q := range p[1:] {
		if q.T.Seconds() <= full-0.5 {
			growing = append(growing, q)
		}
	}
	if n := len(growing); n >= 2 {
		a, b := growing[0], growing[n-1]
		slope := (b.AcquireP50 - a.AcquireP50).Seconds() / (b.T - a.T).Seconds()
		slack := sc.Lag.P99.Seconds()
		t.Logf("acquire p50 growth from t=%v to t=%v: %.3f s per second (want %.3f by completion time, %.3f by arrival time)", a.T, b.T, slope, growth, k)
		if slope < 0.7*growth-slack || slope > 1.3*growth+slack {
			t.Errorf("acquire p50 grows %.3f s/s, want %.3f ± 30%%", slope, growth)
		}
	} else {
		t.Logf("the waits reached the timeout within %d step(s): growth not measurable on this machine", len(growing)+1)
	}
	// Until a second before that (holds vary), no acquire times out.
	for _, q := range p {
		if q.T.Seconds() > full-1 {
			break
		}
		if q.Errors != 0 {
			t.Errorf("t=%v: %d errors before the waits could reach the 1s timeout", q.T, q.Errors)
		}
	}
	// A second past that, the waits sit at the timeout and the excess
	// times out.
	for _, q := range p[:len(p)-1] {
		if q.T.Seconds() < full+1 {
			continue
		}
		if q.Errors == 0 {
			t.Errorf("t=%v: no acquire timeout once waits reached 1s", q.T)
		}
		if q.AcquireP99 < 800*time.Millisecond || q.AcquireP99 > 1100*time.Millisecond+sc.Lag.P99 {
			t.Errorf("t=%v: acquire p99 %v, want about the 1s timeout", q.T, q.AcquireP99)
		}
	}
}

// TestOpenCoordinatedOmission: 100 arrivals/s for 10 s while another
// connection holds an ACCESS EXCLUSIVE lock on the mix's table from t = 3 s
// to t = 5 s. The ~200 operations scheduled in the stall start on time and
// wait; measured from their scheduled start they carry that wait, so the
// op p95 is over 1 s while the median stays fast.
func TestOpenCoordinatedOmission(t *testing.T) {
	prog := compileOpen(t, `
version: 1
name: open-co
pool: {size: 4, max_overflow: 0, timeout: 10s}
setup:
  - CREATE TABLE IF NOT EXISTS open_co (id int)
  - INSERT INTO open_co VALUES (1)
teardown:
  - DROP TABLE IF EXISTS open_co
mixes:
  m:
    - {name: read, sql: SELECT count(*) FROM open_co}
scenarios:
  - {name: s, users: 1, duration: 10s}
`, 100)
	var once sync.Once
	stalled := make(chan error, 1)
	var stallAt, stallEnd time.Time
	stall := func(start time.Time) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, localpgtest.DSN(t))
		if err != nil {
			stalled <- err
			return
		}
		defer conn.Close(ctx)
		time.Sleep(time.Until(start.Add(3 * time.Second)))
		tx, err := conn.Begin(ctx)
		if err == nil {
			_, err = tx.Exec(ctx, "LOCK TABLE open_co IN ACCESS EXCLUSIVE MODE")
		}
		if err != nil {
			stalled <- err
			return
		}
		stallAt = time.Now()
		time.Sleep(2 * time.Second)
		err = tx.Commit(ctx)
		stallEnd = time.Now()
		stalled <- err
	}
	r := run(t, prog, engine.RunOptions{Live: onSecond(func(s *live.Snapshot) {
		once.Do(func() { go stall(time.Now().Add(-s.Scenario.Elapsed)) })
	})})
	if err := <-stalled; err != nil {
		t.Fatalf("stall: %v", err)
	}
	sc := r.Scenarios[0]
	logOpen(t, sc)
	start := sc.StartedAt
	t.Logf("stall from %v to %v after the scenario's start", stallAt.Sub(start), stallEnd.Sub(start))
	if sc.Errors != 0 {
		t.Fatalf("errors %v %v", sc.ErrorsBy, sc.ErrorSamples)
	}
	within(t, "operations", float64(sc.Ops), 1000, 0.02)
	if sc.Op.P95 < time.Second {
		t.Errorf("op p95 %v: the stalled operations lost their wait (coordinated omission)", sc.Op.P95)
	}
	if limit := 50*time.Millisecond + sc.Lag.P50; sc.Op.P50 >= limit {
		t.Errorf("op p50 %v, want under %v", sc.Op.P50, limit)
	}
	// The longest operation was scheduled at the stall's start and waited
	// it all.
	if sc.Op.Max < 1800*time.Millisecond {
		t.Errorf("op max %v, want about the 2s stall", sc.Op.Max)
	}
}
