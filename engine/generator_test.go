package engine_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/internal/selfwatch"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

const generatorPlan = `
version: 1
name: generator
pool: {size: 2, max_overflow: 0, timeout: 10s}
mixes:
  m:
    # work the server's CPU clock (10 ms ticks) sees even when a busy
    # machine lets the niced server run little: a few ms a statement
    - {name: hold, sql: "SELECT count(*) FROM generate_series(1, 50000)", hold: 5ms}
scenarios:
  - {name: s, users: 4, duration: 2s}
`

// TestGeneratorFiguresOnARealRun: every scenario records what the load
// generator measured of itself. The 10 ms timer fired about once per 10 ms
// of the scenario (missed marks are recorded too), the CPU figures are
// within the machine's cores, the server's CPU is known on the embedded
// server and unknown (-1) on an external target, and without a service
// there is no service CPU (-1).
func TestGeneratorFiguresOnARealRun(t *testing.T) {
	t.Run("external target", func(t *testing.T) {
		r := run(t, compile(t, generatorPlan, engine.Options{}), engine.RunOptions{})
		g := checkGenerator(t, r.Scenarios[0])
		if g.ServerCPU != -1 {
			t.Errorf("server CPU %v on an external target, want -1 (unknown)", g.ServerCPU)
		}
	})
	t.Run("embedded server", func(t *testing.T) {
		plan, err := schema.Parse("generator.yaml", []byte(generatorPlan), func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		prog, err := engine.Compile(plan, engine.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := engine.Run(context.Background(), prog, engine.RunOptions{})
		if err != nil {
			t.Fatalf("run on the embedded server: %v", err)
		}
		if !r.Target.Embedded {
			t.Fatalf("the run did not use the embedded server: %+v", r.Target)
		}
		g := checkGenerator(t, r.Scenarios[0])
		if runtime.GOOS == "linux" && (g.ServerCPU <= 0 || g.ServerCPU > float64(g.Cores)+0.1) {
			t.Errorf("embedded server CPU %.3f cores, want above 0 (it served %d ops) and at most %d", g.ServerCPU, r.Scenarios[0].Ops, g.Cores)
		}
	})
}

func checkGenerator(t *testing.T, sc results.Scenario) results.Generator {
	t.Helper()
	g := sc.Generator
	t.Logf("scenario %s: %v elapsed, %d ops; timer lateness count %d p50 %v p99 %v max %v; CPU %.3f, server %.3f, machine %.3f of %d cores",
		sc.Name, sc.Elapsed, sc.Ops, g.TimerLateness.Count, g.TimerLateness.P50, g.TimerLateness.P99, g.TimerLateness.Max, g.CPU, g.ServerCPU, g.MachineCPU, g.Cores)
	if g.ServiceCPU != -1 {
		t.Errorf("service CPU %v without a service, want -1 (none)", g.ServiceCPU)
	}
	if g.Cores != runtime.NumCPU() {
		t.Errorf("cores %d, want %d", g.Cores, runtime.NumCPU())
	}
	if g.CPU < 0 || g.CPU > float64(g.Cores)+0.1 {
		t.Errorf("planrun CPU %.3f cores, want between 0 and %d", g.CPU, g.Cores)
	}
	if runtime.GOOS == "linux" && (g.MachineCPU < 0 || g.MachineCPU > float64(g.Cores)+0.01) {
		t.Errorf("machine CPU %.3f cores, want between 0 and %d", g.MachineCPU, g.Cores)
	}
	// One mark per 10 ms of the watch, which spans the scenario's elapsed
	// time (drain included) give or take the final collection.
	want := float64(sc.Elapsed) / float64(selfwatch.Period)
	if n := float64(g.TimerLateness.Count); n < 0.5*want || n > 1.5*want {
		t.Errorf("%v timer marks in %v, want about %.0f", n, sc.Elapsed, want)
	}
	l := g.TimerLateness
	if l.Min <= 0 || l.P50 < l.Min || l.P99 < l.P50 || l.Max < l.P99 || l.Max > sc.Elapsed+time.Second {
		t.Errorf("timer lateness not ordered or out of range: %+v", l)
	}
	return g
}
