package engine

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

// seededProgram compiles a two-scenario plan (open Poisson, then closed) with
// the given seed (nil: none).
func seededProgram(t *testing.T, seed *int64) *Program {
	t.Helper()
	plan, err := schema.Parse("seed.yaml", []byte(`
version: 1
name: seeds
mixes:
  m:
    - {name: a, sql: SELECT 1, weight: 1}
    - {name: b, sql: SELECT 2, weight: 2}
    - {name: c, sql: SELECT 3, weight: 3}
scenarios:
  - {name: open, users: 1, duration: 5s}
  - {name: closed, users: 3, duration: 5s, think: 1ms..50ms}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	plan.Seed = seed
	plan.Scenarios[0].Users, plan.Scenarios[0].Rate = 0, 200
	prog, err := Compile(plan, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// draws is what a program's random streams give: the open scenario's
// arrivals and picks, and a closed user's picks and think times.
type draws struct {
	at    []time.Duration
	ops   []string
	user  []string
	think []time.Duration
}

func drawsOf(prog *Program) draws {
	var d draws
	s := newArrivalStream(prog.scenarios[0])
	for {
		at, op, ok := s.Next()
		if !ok {
			break
		}
		d.at = append(d.at, at)
		d.ops = append(d.ops, op.Name)
	}
	u := newUser(2, prog.scenarios[1], nil, nil, 0)
	for range 100 {
		d.user = append(d.user, u.sc.Mix.pick(u.rng.Float64()).Name)
		d.think = append(d.think, u.think())
	}
	return d
}

// TestSeedReplays: the same seed schedules the same arrivals and picks the
// same operations (and think times) in two compilations; another seed
// differs; without a seed the program draws one.
func TestSeedReplays(t *testing.T) {
	s1, s2 := int64(42), int64(43)
	a, b := drawsOf(seededProgram(t, &s1)), drawsOf(seededProgram(t, &s1))
	c := drawsOf(seededProgram(t, &s2))
	if len(a.at) < 800 || len(a.at) > 1200 {
		t.Fatalf("%d arrivals at 200/s over 5s", len(a.at))
	}
	if !slices.Equal(a.at, b.at) || !slices.Equal(a.ops, b.ops) || !slices.Equal(a.user, b.user) || !slices.Equal(a.think, b.think) {
		t.Error("the same seed gave different draws")
	}
	if slices.Equal(a.at, c.at) || slices.Equal(a.ops, c.ops) || slices.Equal(a.user, c.user) || slices.Equal(a.think, c.think) {
		t.Error("seeds 42 and 43 gave equal draws")
	}
	if p := seededProgram(t, &s1); p.Seed != 42 {
		t.Errorf("program seed %d, want the plan's 42", p.Seed)
	}
	if p, q := seededProgram(t, nil), seededProgram(t, nil); p.Seed == q.Seed {
		t.Errorf("two programs without a seed both drew %d", p.Seed)
	}
	t.Logf("seed 42: %d arrivals, first %v, ops %v…", len(a.at), a.at[:3], a.ops[:6])
}

// TestCompileOpen: a rate makes an open model whose stages give the
// durations, scaled by --time-scale (rates are not).
func TestCompileOpen(t *testing.T) {
	prog := seededProgram(t, nil)
	sc := prog.scenarios[0]
	if sc.Open == nil || sc.Open.MaxInFlight != schema.DefaultMaxInFlight || sc.Open.Arrival != arrivePoisson {
		t.Fatalf("open model %+v", sc.Open)
	}
	if sc.Shape.Duration() != 5*time.Second || sc.concurrency() != schema.DefaultMaxInFlight {
		t.Errorf("duration %v, concurrency %d", sc.Shape.Duration(), sc.concurrency())
	}
	if got := sc.Open.meanRate(); got < 199.999 || got > 200.001 {
		t.Errorf("mean rate %v, want 200", got)
	}
	m := &openModel{Profile: []rateStage{{Rate: 100, Duration: 10 * time.Second}, {Rate: 300, Ramp: 10 * time.Second, Duration: 10 * time.Second}}}
	if got := m.meanRate(); got < 149.999 || got > 150.001 { // (1000 + 2000) / 20 s
		t.Errorf("mean rate of 100/s then a ramp to 300/s: %v, want 150", got)
	}
	if got := m.rateAt(15 * time.Second); got != 200 {
		t.Errorf("rate halfway up the ramp %v, want 200", got)
	}
	if prog.scenarios[1].Open != nil {
		t.Error("a users scenario compiled as an open model")
	}
}

// The dispatch benchmarks compare the two ways to start an arrival: hand
// it to a parked, reusable worker (a user with its timer, VM and buffers
// ready) or start a goroutine with a fresh user per arrival. The work is
// empty, so only the dispatch is measured. Run:
//
//	go test -run - -bench Dispatch -benchmem ./engine/
func BenchmarkDispatchReusableWorker(b *testing.B) {
	sc := &scenario{Name: "bench", Mix: &mix{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var idle []*user
	serve := func(u *user) {
		for range u.jobs {
			wg.Done()
			mu.Lock()
			idle = append(idle, u)
			mu.Unlock()
		}
	}
	var all []*user
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		wg.Add(1)
		mu.Lock()
		var u *user
		if n := len(idle); n > 0 {
			u, idle = idle[n-1], idle[:n-1]
		}
		mu.Unlock()
		if u == nil {
			u = newUser(i, sc, nil, nil, 0)
			u.jobs = make(chan arrival, 1)
			all = append(all, u)
			go serve(u)
		}
		u.jobs <- arrival{}
	}
	wg.Wait()
	for _, u := range all {
		close(u.jobs)
	}
	b.ReportMetric(float64(len(all)), "workers")
}

func BenchmarkDispatchGoroutinePerArrival(b *testing.B) {
	sc := &scenario{Name: "bench", Mix: &mix{}}
	var wg sync.WaitGroup
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		wg.Add(1)
		go func(u *user, a arrival) {
			_ = a
			wg.Done()
		}(newUser(i, sc, nil, nil, 0), arrival{})
	}
	wg.Wait()
}
