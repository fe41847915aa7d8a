package engine_test

import (
	"testing"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/results"
)

// busyBounds checks utilization.mean against Little's law on the same run:
// the time-weighted busy level integrated over the measured window is the
// sum of the checkouts' busy times, and each lies between the checkout's
// hold (acquire's return to release's return) and hold + acquire (the pool
// counts the slot from the moment it grants it, and a connect in it). With
// no warm-up every checkout lies inside the window, so
//
//	Σ hold ≤ mean × capacity × elapsed ≤ Σ (hold + acquire).
//
// The lower bound gets 5 % for the moment between the pool's release and
// the user's clock reading, which a busy machine may stretch.
func busyBounds(t *testing.T, sc results.Scenario, capacity int) {
	t.Helper()
	busy := sc.Utilization.Mean * float64(capacity) * sc.Elapsed.Seconds()
	lo := float64(sc.Hold.Count) * sc.Hold.Mean.Seconds()
	hi := lo + float64(sc.Acquire.Count)*sc.Acquire.Mean.Seconds()
	t.Logf("busy %.3f connection-seconds: holds %.3f, holds + acquires %.3f (%d checkouts, hold mean %v, acquire mean %v, elapsed %v)",
		busy, lo, hi, sc.Hold.Count, sc.Hold.Mean, sc.Acquire.Mean, sc.Elapsed)
	if busy < 0.95*lo || busy > 1.01*hi {
		t.Errorf("utilization.mean %.4f × %d connections × %v = %.3f connection-seconds, want within [%.3f, %.3f] (Σ hold .. Σ hold + acquire)",
			sc.Utilization.Mean, capacity, sc.Elapsed, busy, 0.95*lo, 1.01*hi)
	}
}

// TestUtilizationSaturated: 12 users on 4 connections with a fixed hold and
// no think time keep the pool full from the first connects to the drain:
// utilization max and p95 are 1, the mean close to 1, and never below the
// share of the time the pool was exhausted (exhausted means full).
func TestUtilizationSaturated(t *testing.T) {
	prog := compile(t, `
version: 1
name: saturated
pool: {size: 4, max_overflow: 0, timeout: 30s}
mixes:
  m:
    - {name: a, sql: SELECT 1, hold: 20ms}
scenarios:
  - {name: s, users: 12, duration: 2s}
`, engine.Options{})
	sc := run(t, prog, engine.RunOptions{}).Scenarios[0]
	if sc.Errors != 0 {
		t.Fatalf("errors %v", sc.ErrorsBy)
	}
	u, ex := sc.Utilization, sc.Exhaustion
	t.Logf("utilization %+v, exhaustion %+v", u, ex)
	if ex.Events < 1 || u.Max != 1 || u.P95 != 1 {
		t.Errorf("exhaustion events %d, utilization max %v p95 %v: want ≥ 1 event, max and p95 1", ex.Events, u.Max, u.P95)
	}
	if u.Mean < ex.Share || u.Mean < 0.9 || u.Mean > 1 {
		t.Errorf("utilization.mean %.4f, want ≥ exhaustion.share %.4f and in 0.9..1", u.Mean, ex.Share)
	}
	busyBounds(t, sc, 4)
	if len(sc.Replicas) != 1 || sc.Replicas[0].Utilization != u {
		t.Errorf("one replica: its utilization %+v, want the total's %+v", sc.Replicas, u)
	}
}

// TestUtilizationLittlesLaw: 3 users on 8 connections with a known hold and
// think time: the mean is what Little's law gives for the throughput and
// hold the same run measured, and the level never passed the 3 users.
func TestUtilizationLittlesLaw(t *testing.T) {
	prog := compile(t, `
version: 1
name: littles-law-utilization
pool: {size: 8, max_overflow: 0, timeout: 30s}
mixes:
  m:
    - {name: a, sql: SELECT 1, hold: 20ms}
scenarios:
  - {name: s, users: 3, duration: 2s, think: 20ms}
`, engine.Options{})
	sc := run(t, prog, engine.RunOptions{}).Scenarios[0]
	if sc.Errors != 0 {
		t.Fatalf("errors %v", sc.ErrorsBy)
	}
	u := sc.Utilization
	t.Logf("utilization %+v, exhaustion %+v", u, sc.Exhaustion)
	// λ·W/C with λ the checkouts over the elapsed time, W the hold.
	little := float64(sc.Hold.Count) / sc.Elapsed.Seconds() * sc.Hold.Mean.Seconds() / 8
	t.Logf("Little's law: λ %.1f/s × hold %v / 8 = %.4f", float64(sc.Hold.Count)/sc.Elapsed.Seconds(), sc.Hold.Mean, little)
	busyBounds(t, sc, 8)
	if u.Max > 3.0/8 || u.Max < 1.0/8 || u.P95 > u.Max || u.Mean > u.P95 {
		t.Errorf("utilization %+v: want mean ≤ p95 ≤ max ≤ 3 users of 8", u)
	}
	if sc.Exhaustion.Events != 0 {
		t.Errorf("%d exhaustion events with 3 users on 8 connections", sc.Exhaustion.Events)
	}
}

// TestUtilizationCatchesBriefExhaustion: Poisson arrivals keeping 1.5 of 3
// connections busy on average exhaust the pool for a few milliseconds at a
// time, mostly between the 100 ms samples of the pool's state: utilization
// comes from the pool's events, so any exhaustion shows as max 1.
func TestUtilizationCatchesBriefExhaustion(t *testing.T) {
	prog := compile(t, `
version: 1
name: brief-exhaustion
pool: {size: 3, max_overflow: 0, timeout: 30s}
mixes:
  m:
    - {name: a, sql: SELECT 1, hold: 5ms}
scenarios:
  - {name: s, rate: 200/s, duration: 2s}
`, engine.Options{})
	sc := run(t, prog, engine.RunOptions{}).Scenarios[0]
	u, ex := sc.Utilization, sc.Exhaustion
	t.Logf("utilization %+v, exhaustion %+v, ops %d", u, ex, sc.Ops)
	if ex.Events < 1 || u.Max != 1 {
		t.Errorf("%d exhaustion events (%v in all), but utilization.max %v: want 1", ex.Events, ex.Total, u.Max)
	}
	if u.Mean < ex.Share {
		t.Errorf("utilization.mean %.4f below exhaustion.share %.4f", u.Mean, ex.Share)
	}
	busyBounds(t, sc, 3)
}
