package engine

import (
	"context"
	"math/rand/v2"
	"os"
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
	return benchScenarioRunWatching(b, opts, 0)
}

// benchScenarioRunWatching is benchScenarioRun with its selfwatch also
// measuring the CPU of process serverPID's tree (the embedded server's).
func benchScenarioRunWatching(b *testing.B, opts RunOptions, serverPID int) *scenarioRun {
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
	r.self = selfwatch.Start(selfwatch.Trees{Server: serverPID})
	b.Cleanup(func() { r.self.Stop() })
	r.start = time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 * 1000 {
		d := time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))
		res := opResult{Op: i % len(sc.Mix.Ops), Acquire: d / 4, Acquired: true, NQueries: 1, Hold: d / 2, Total: d, Category: -1}
		res.Queries[0] = d / 2
		r.col.recs[i%len(r.col.recs)].add(&res)
	}
	r.col.step(time.Second, 50, false)
	return r
}

// viewSink is a sink that only shows the stream, like the progress line.
type viewSink struct{}

func (viewSink) Live(*live.Snapshot) *results.Outcome { return nil }
func (viewSink) ReadsGenerator() bool                 { return false }

// BenchmarkLiveSecond is the live work of one second of a scenario, on the
// sampler goroutine: the series step, then the live stream's snapshot
// handed to the sinks of a run: none (--quiet), the progress line (which
// only reads it), and also the Prometheus collector (which counts the
// histograms into its buckets) and an abort_on_fail assertion sink (which
// reads the generator's figures too). With "server", the generator's
// figures read the CPU of a server's process tree (here this process's)
// from /proc, as with the embedded server.
func BenchmarkLiveSecond(b *testing.B) {
	judge := live.SinkFunc(func(*live.Snapshot) *results.Outcome { return nil })
	for _, tc := range []struct {
		name      string
		sinks     []live.Sink
		serverPID int
	}{
		{"none", nil, 0},
		{"progress", []live.Sink{viewSink{}}, 0},
		{"progress+metrics+assertions", []live.Sink{metrics.NewCollector(), viewSink{}, judge}, 0},
		{"server/progress", []live.Sink{viewSink{}}, os.Getpid()},
		{"server/progress+metrics", []live.Sink{metrics.NewCollector(), viewSink{}}, os.Getpid()},
		{"server/progress+metrics+assertions", []live.Sink{metrics.NewCollector(), viewSink{}, judge}, os.Getpid()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := benchScenarioRunWatching(b, RunOptions{Live: tc.sinks}, tc.serverPID)
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

// TestLiveHTTPOnly: the live stream's partial scenario says whether the
// scenario sends only HTTP requests (results.Scenario.HTTPOnly), as the
// final results do: the progress line then shows the service's pool, and
// live assertions do not judge planrun's own there. A mix with a SQL
// operation beside its requests is not HTTP-only.
func TestLiveHTTPOnly(t *testing.T) {
	const plan = `version: 1
name: live-http
target:
  url: "postgres://planrun@127.0.0.1:1/none"
  service: {url: "http://127.0.0.1:1"}
mixes:
  api:
    - {name: balance, http: GET /accounts/1}
    - {name: transfer, http: POST /transfers}
  both:
    - {name: fetch, http: GET /accounts/2}
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: web, mix: api, users: 2, duration: 1m}
  - {name: mixed, mix: both, users: 2, duration: 1m}
`
	p, err := schema.Parse("live.yaml", []byte(plan), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []*live.Snapshot
	sink := live.SinkFunc(func(s *live.Snapshot) *results.Outcome { got = append(got, s); return nil })
	e, _ := newRun(prog, RunOptions{Live: []live.Sink{sink}})
	for i, sc := range prog.scenarios {
		reps, err := e.newReplicaSet(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		r := &scenarioRun{sc: sc, env: e, replicas: reps, col: newCollector(sc, e.capacity(), len(reps.pools)), index: i + 1}
		r.self = selfwatch.Start(selfwatch.Trees{})
		r.start = time.Now()
		p := r.col.step(time.Second, 2, false)
		r.secondDone(p, time.Second)
		r.self.Stop()
		reps.close()
	}
	if len(got) != 2 {
		t.Fatalf("%d snapshots, want one per scenario", len(got))
	}
	for i, want := range []bool{true, false} {
		if s := got[i].Scenario; s.HTTPOnly != want {
			t.Errorf("scenario %s: HTTPOnly %v, want %v", s.Name, s.HTTPOnly, want)
		}
	}
}
