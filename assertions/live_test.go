package assertions_test

import (
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

func compilePlan(p *schema.Plan) (*assertions.Set, error) { return assertions.Compile(p) }

// second hands sink the live snapshot of sc at elapsed into the scenario,
// of run r; it returns whether the sink stopped the scenario, and how.
func second(sink live.Sink, r *results.Run, sc results.Scenario, elapsed time.Duration, final bool) (bool, results.Outcome) {
	sc.Elapsed = elapsed
	o := sink.Live(&live.Snapshot{Run: r, Scenario: &sc, Index: 1, Count: 1, Final: final})
	if o == nil {
		return false, results.Outcome{}
	}
	return true, *o
}

func TestLiveNilWithoutAbortOnFail(t *testing.T) {
	if sink := mustCompile(t, assertion("leaks", "leaks == 0")).Live(); sink != nil {
		t.Error("Live returned a sink for a plan without abort_on_fail")
	}
}

func TestLive(t *testing.T) {
	guard := assertion("no long acquires", "acquire.max < 8s")
	guard.AbortOnFail = true
	guard.After = schema.Duration(10 * time.Second)
	peakOnly := assertion("peak errors", "errors < 100")
	peakOnly.AbortOnFail = true
	peakOnly.Scenarios = []string{"peak"}
	rec := assertion("recovery", "recovery < 1s")
	rec.AbortOnFail = true
	base := assertion("regression", "acquire.p95 < baseline.acquire.p95")
	base.AbortOnFail = true

	slow := scenario("stress")
	slow.Acquire.Max = 9 * time.Second
	fast := scenario("stress")
	errs := scenario("stress")
	errs.Errors = 500

	for _, tc := range []struct {
		name    string
		sc      results.Scenario
		elapsed time.Duration
		abort   bool
	}{
		{"failing before after", slow, 9 * time.Second, false},
		{"failing at after", slow, 10 * time.Second, true},
		{"failing after after", slow, 30 * time.Second, true},
		{"passing after after", fast, 30 * time.Second, false},
		{"other scenario's assertion", errs, 30 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := mustCompile(t, guard, peakOnly, rec, base)
			sink := set.Live()
			if sink == nil {
				t.Fatal("Live returned nil")
			}
			abort, o := second(sink, run(), tc.sc, tc.elapsed, false)
			if abort != tc.abort {
				t.Fatalf("abort = %v (%+v), want %v", abort, o, tc.abort)
			}
			if !abort {
				return
			}
			want := results.Outcome{
				Name: "no long acquires", Check: "acquire.max < 8s", Scenario: "stress", Severity: "critical",
				Status: "fail", Actual: "acquire.max = 9s", Aborted: true,
				Reason: "stopped the run " + map[time.Duration]string{10 * time.Second: "10s", 30 * time.Second: "30s"}[tc.elapsed] + " into the scenario",
			}
			if o != want {
				t.Errorf("outcome\n got %+v\nwant %+v", o, want)
			}
		})
	}
}

// TestLiveAbortMarksTheFinalOutcome: the assertion that stopped the run is
// reported failed and Aborted even if the partial scenario's final figures
// would pass.
func TestLiveAbortMarksTheFinalOutcome(t *testing.T) {
	guard := assertion("no long acquires", "acquire.max < 8s")
	guard.AbortOnFail = true
	set := mustCompile(t, guard, assertion("leaks", "leaks == 0"))
	r := run()
	sink := set.Live()
	slow := scenario("stress")
	slow.Acquire.Max = 9 * time.Second
	if abort, _ := second(sink, r, slow, 3*time.Second, false); !abort {
		t.Fatal("no abort")
	}
	final := scenario("stress")
	final.Status = "aborted"
	r.Scenarios = []results.Scenario{final}
	r.Status = results.StatusAborted
	r.Assertions, r.Verdict = set.Evaluate(r, nil)
	o := r.Assertions[0]
	if !o.Aborted || o.Status != "fail" || o.Reason != "stopped the run 3s into the scenario, when acquire.max = 9s" {
		t.Errorf("outcome = %+v", o)
	}
	if r.Assertions[1].Aborted {
		t.Errorf("another assertion is marked aborted: %+v", r.Assertions[1])
	}
	if r.Verdict.Pass {
		t.Error("an aborted run passed")
	}
}

// TestLiveLeavesTheFinalSnapshot: the final snapshot is judged by
// Evaluate, not live: it stops nothing and marks nothing aborted.
func TestLiveLeavesTheFinalSnapshot(t *testing.T) {
	guard := assertion("no long acquires", "acquire.max < 8s")
	guard.AbortOnFail = true
	set := mustCompile(t, guard)
	r := run()
	slow := scenario("stress")
	slow.Acquire.Max = 9 * time.Second
	if abort, o := second(set.Live(), r, slow, 3*time.Second, true); abort {
		t.Fatalf("the final snapshot stopped the run: %+v", o)
	}
	r.Scenarios = []results.Scenario{slow}
	r.Assertions, r.Verdict = set.Evaluate(r, nil)
	if o := r.Assertions[0]; o.Aborted || o.Status != "fail" {
		t.Errorf("outcome %+v: want failed, not aborted", o)
	}
}

func BenchmarkLive(b *testing.B) {
	guard := schema.Assertion{Name: "g", Check: schema.Expr{Src: "acquire.p95 < 200ms && success_rate > 0.95"}, AbortOnFail: true}
	set, err := assertions.Compile(&schema.Plan{Assertions: []schema.Assertion{guard}})
	if err != nil {
		b.Fatal(err)
	}
	sink := set.Live()
	sc := scenario("peak")
	sc.Acquire.P95 = time.Millisecond
	sc.Elapsed = time.Minute
	snap := &live.Snapshot{Run: run(), Scenario: &sc, Index: 1, Count: 1}
	b.ReportAllocs()
	for b.Loop() {
		sink.Live(snap)
	}
}
