package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
)

// TestReplicasAreRealPools runs 3 replicas of a pool of 2 + 1 under 30
// users holding 50 ms: each replica is a pool of its own, so the server sees
// up to 3 × 3 = 9 backends of the plan's application_name and never more,
// and each replica opens at most its 3.
func TestReplicasAreRealPools(t *testing.T) {
	prog := compile(t, `
version: 1
name: replicas
target: {replicas: 3}
pool: {size: 2, max_overflow: 1, timeout: 10s}
mixes:
  m:
    - {name: hold, sql: SELECT 1, hold: 50ms}
scenarios:
  - {name: s, users: 30, duration: 3s}
`, engine.Options{})
	app := prog.Target.ApplicationName

	// Count the plan's backends on the server while it runs, every 20 ms.
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		maxSeen int
		polls   int
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := pgx.Connect(ctx, localpgtest.DSN(t))
		if err != nil {
			t.Errorf("monitor: %v", err)
			return
		}
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			var n int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n); err == nil {
				maxSeen = max(maxSeen, n)
				polls++
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	r := run(t, prog, engine.RunOptions{})
	cancel()
	wg.Wait()

	sc := r.Scenarios[0]
	t.Logf("server saw at most %d backends over %d polls; ops %d, errors %d; connections %+v", maxSeen, polls, sc.Ops, sc.Errors, sc.Connections)
	if maxSeen != 9 {
		t.Errorf("the server saw at most %d backends of the plan, want exactly 9 (3 replicas × (2 + 1))", maxSeen)
	}
	if len(sc.Replicas) != 3 {
		t.Fatalf("%d replicas in the results, want 3: %+v", len(sc.Replicas), sc.Replicas)
	}
	var acquires int64
	for i, rep := range sc.Replicas {
		t.Logf("replica %d: %+v", rep.Index, rep)
		if rep.Index != i+1 {
			t.Errorf("replica %d has index %d", i+1, rep.Index)
		}
		if rep.MaxOpen != 3 {
			t.Errorf("replica %d max open %d, want 3 (size 2 + overflow 1, 10 users each)", rep.Index, rep.MaxOpen)
		}
		if rep.Exhaustion.Events == 0 {
			t.Errorf("replica %d was never exhausted with 10 users on 3 connections", rep.Index)
		}
		acquires += rep.Acquires
	}
	if sc.Connections.MaxOpen != 9 {
		t.Errorf("connections.max_open %d, want 9 (the replicas' summed)", sc.Connections.MaxOpen)
	}
	// Every operation acquired once, on one replica (no errors here).
	if sc.Errors != 0 || acquires < sc.Ops {
		t.Errorf("replicas acquired %d times for %d operations (%d errors)", acquires, sc.Ops, sc.Errors)
	}
	// Little's law on 9 connections: throughput is 9 / hold, while the
	// users spend their time in operations. On a starved machine they also
	// wait for a CPU between two operations: then it is not checked.
	if gap := 30/sc.Throughput - sc.Op.Mean.Seconds(); gap > 0.1*sc.Op.Mean.Seconds() {
		t.Logf("load generator starved: %.1fms between operations per user; Little's law not applicable", gap*1000)
	} else {
		within(t, "throughput (ops/s)", sc.Throughput, 9/sc.Hold.Mean.Seconds(), 0.15)
	}
}

// TestOpenArrivalsSpreadOverReplicas: an open model's arrivals go to every
// replica, round-robin (equal shares) or at random (target.balance).
func TestOpenArrivalsSpreadOverReplicas(t *testing.T) {
	for _, balance := range []string{"round_robin", "random"} {
		t.Run(balance, func(t *testing.T) {
			sc := run(t, compile(t, `
version: 1
name: balance
target: {replicas: 2, balance: `+balance+`}
pool: {size: 2, max_overflow: 0}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, rate: 200/s, arrival: uniform, duration: 2s}
`, engine.Options{}), engine.RunOptions{}).Scenarios[0]
			if len(sc.Replicas) != 2 {
				t.Fatalf("replicas %+v", sc.Replicas)
			}
			a, b := sc.Replicas[0].Acquires, sc.Replicas[1].Acquires
			t.Logf("acquires %d and %d of %d ops", a, b, sc.Ops)
			if a+b < sc.Ops-sc.Errors || a == 0 || b == 0 {
				t.Errorf("acquires %d + %d for %d operations: both replicas should serve", a, b, sc.Ops)
			}
			if balance == "round_robin" && abs64(a-b) > 2 {
				t.Errorf("round robin: %d and %d acquires, want equal within 2", a, b)
			}
		})
	}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
