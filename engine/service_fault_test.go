package engine_test

import (
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/results"
)

// TestServiceStallRecovery stalls the path between the reference service
// and its database (planrun's proxy, which the service's pool goes
// through) for 2 s, while requests that each hold one of the service's 2
// connections for 100 ms arrive at 10/s, half the 20/s those 2
// connections can serve at most. The stall shows in the service's response
// times, and the recovery after it is the service's: its backlog drains at
// no more than 20 − 10 = 10 requests a second, so its requests stay slow for
// seconds after the proxy forwards again, while planrun's own pool took no
// load at all. At the drain the server's count of the service's backends
// and the proxy's count of its connections agree.
func TestServiceStallRecovery(t *testing.T) {
	py := servicePython(t)
	prog := compileServicePlan(t, `
version: 1
name: svc-stall
target:
  network: {}
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    env: {POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", POOL_TIMEOUT: "20", ACCOUNTS: "10"}
pool: {size: 2, max_overflow: 0, timeout: 20s}
mixes:
  api:
    - name: report
      http: GET /report?hold_ms=100
      timeout: 30s
scenarios:
  - name: s
    rate: 10/s
    arrival: uniform
    duration: 12s
    recovery_threshold: 300ms
    faults:
      - {at: 2s, fault: stall, for: 2s}
`, map[string]string{"PYTHON": py}, "")
	var l logs
	r := run(t, prog, engine.RunOptions{Logf: l.logf})
	sc := r.Scenarios[0]
	if sc.Status != results.StatusCompleted || len(sc.Faults) != 1 {
		t.Fatalf("status %s, %d faults\n%s", sc.Status, len(sc.Faults), l.String())
	}
	f := sc.Faults[0]
	if f.Status != results.FaultApplied || f.Recovery == nil {
		t.Fatalf("fault %s (%s), recovery %v", f.Status, f.Effect, f.Recovery)
	}
	stalled := f.Ended - f.Started
	rec := f.Recovery
	t.Logf("stalled %v; op p50 %v p95 %v max %v; %d ops, %d errors %v; recovery %s %v; at the drain %+v",
		stalled, sc.Op.P50, sc.Op.P95, sc.Op.Max, sc.Ops, sc.Errors, sc.ErrorsBy, rec.Status, rec.Duration, sc.Service.AtDrain)
	if sc.Errors != 0 {
		t.Errorf("a 2 s stall under a 20 s pool timeout should fail nothing: %v", sc.ErrorSamples)
	}
	// A request that arrived as the stall began waited for its end.
	if sc.Op.Max < stalled-100*time.Millisecond {
		t.Errorf("slowest request %v, want at least the stall (%v) less one arrival gap", sc.Op.Max, stalled)
	}
	// Ground truth: no request completes during the stall, so at its end
	// at least 10 × stalled requests wait; the service serves at most 20/s
	// (2 connections, each request holding one 100 ms), so the queue
	// shrinks by at most 10/s, and a request is slower than 300 ms while
	// more than (300 − 100) ms × 20/s = 4 wait before it. Its requests are
	// therefore slow for at least (10 × stalled − 4) / 10 s after the
	// stall, about 1.6 s; half of it leaves room for how the stall's own
	// edges and the 100 ms intervals fall. (The service serves fewer than
	// 20/s, its pre-ping and its own work included: the real recovery is
	// longer.)
	floor := time.Duration((10*stalled.Seconds() - 4) / 10 * float64(time.Second) / 2)
	if rec.Status != results.RecoveryRecovered || rec.Duration < floor {
		t.Errorf("recovery %s %v, want recovered after at least %v: the service's requests were slow that long after the stall", rec.Status, rec.Duration, floor)
	}
	// At the drain, a quiet moment, the server and the proxy count the
	// service's connections alike: every one goes through the proxy.
	if a := sc.Service.AtDrain; a == nil || a.Backends == 0 || a.Backends > 2 || a.Mismatch() != "" {
		t.Errorf("service connections at the drain %+v: want the server's count and the proxy's equal, 1..2", a)
	}
	if sc.Acquire.Count != 0 {
		t.Errorf("acquire count %d: planrun's own pool took load", sc.Acquire.Count)
	}
}
