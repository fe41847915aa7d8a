package engine

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/planrun/planrun/internal/selfwatch"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/metrics"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// benchLivePlan is a closed scenario of four operations over two replicas:
// what one live second handles in a typical plan.
const benchLivePlan = `version: 1
name: bench-live
target: {url: "postgres://planrun@127.0.0.1:1/none", replicas: 2}
pool: {size: 10}
mixes:
  m:
    - {name: read, sql: SELECT 1, weight: 6}
    - {name: write, sql: SELECT 2, weight: 2}
    - {name: report, sql: SELECT 3, weight: 1}
    - {name: pair, transaction: [SELECT 4, SELECT 5], weight: 1}
scenarios:
  - {name: s, users: 50, duration: 10m}
`

// benchScenarioRun is a scenario that ran a minute of operations spread
// over the histograms' range, without a server: its pools never connect.
func benchScenarioRun(b *testing.B, opts RunOptions) *scenarioRun {
	b.Helper()
	plan, err := schema.Parse("bench.yaml", []byte(benchLivePlan), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	prog, err := Compile(plan, Options{})
	if err != nil {
		b.Fatal(err)
	}
	e, _ := newRun(prog, opts)
	sc := prog.scenarios[0]
	reps, err := e.newReplicaSet(context.Background(), sc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(reps.close)
	r := &scenarioRun{sc: sc, env: e, replicas: reps, col: newCollector(sc, e.capacity(), len(reps.pools))}
	r.index = 1
	r.self = selfwatch.Start(0)
	b.Cleanup(func() { r.self.Stop() })
	r.start = time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 * 1000 {
		d := time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		res := opResult{op: i % len(sc.Mix.Ops), acquire: d / 4, acquired: true, nQueries: 1, hold: d / 2, total: d, category: -1}
		res.queries[0] = d / 2
		r.col.recs[i%len(r.col.recs)].add(&res)
	}
	r.col.step(time.Second, 50, false)
	return r
}

// BenchmarkLiveSecond is the live work of one second of a scenario, on the
// sampler goroutine: the series step, then the live stream's snapshot
// handed to a progress line's sink (which only reads it), and with the
// Prometheus collector (which counts the histograms into its buckets) and
// an assertion sink that stops nothing.
func BenchmarkLiveSecond(b *testing.B) {
	nop := live.SinkFunc(func(*live.Snapshot) *results.Outcome { return nil })
	for _, tc := range []struct {
		name  string
		sinks []live.Sink
	}{
		{"none", nil},
		{"progress", []live.Sink{nop}},
		{"progress+metrics+assertions", []live.Sink{metrics.NewCollector(), nop, nop}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := benchScenarioRun(b, RunOptions{Live: tc.sinks})
			b.ReportAllocs()
			el := time.Second
			for b.Loop() {
				el += time.Second
				p := r.col.step(el, 50, false)
				r.secondDone(p, el)
			}
		})
	}
}
