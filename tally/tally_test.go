package tally_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/tally"
)

var mix = []tally.Op{{Name: "read", Weight: 3}, {Name: "write", Weight: 1}}

// outcomes draws n operation results of every kind: successes, errors of
// each category, dropped and cancelled ones, some with more statements
// than Result holds (extra: recorded with AddQuery), some scheduled.
func outcomes(n int) (rs []tally.Result, extra [][]time.Duration) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		d := func() time.Duration { return time.Duration(rng.Int64N(int64(50 * time.Millisecond))) }
		r := tally.Result{Op: rng.IntN(len(mix)), Category: -1, Total: d()}
		if rng.IntN(10) == 0 {
			r.Category = rng.IntN(len(results.ErrorCategories))
		}
		if r.Category != tally.Dropped {
			r.Acquire, r.Acquired = d(), rng.IntN(20) != 0
			r.Hold = d()
			r.NQueries = rng.IntN(len(r.Queries) + 1)
			for i := range r.NQueries {
				r.Queries[i] = d()
			}
			r.Scheduled, r.Lag = rng.IntN(2) == 0, d()
		}
		var more []time.Duration
		if r.NQueries == len(r.Queries) {
			more = []time.Duration{d(), d()}
		}
		rs, extra = append(rs, r), append(extra, more)
	}
	return rs, extra
}

func record(t *tally.Scenario, r *tally.Result, more []time.Duration) {
	for _, d := range more {
		t.AddQuery(r.Op, d)
	}
	t.Add(r)
	t.AddArrival()
}

func summary(t *tally.Scenario) *results.Scenario {
	out := &results.Scenario{ErrorsBy: map[string]int64{}}
	t.Summary(out, 10*time.Second, true)
	return out
}

// TestMergeEqualsOneTally: operations recorded into two tallies then
// merged summarise exactly as the same operations recorded into one:
// counts, rates and every histogram (encoded), scenario-wide and per
// operation.
func TestMergeEqualsOneTally(t *testing.T) {
	rs, extra := outcomes(5000)
	one, a, b := tally.New(mix, true), tally.New(mix, true), tally.New(mix, true)
	for i := range rs {
		record(one, &rs[i], extra[i])
		if i%3 == 0 {
			record(a, &rs[i], extra[i])
		} else {
			record(b, &rs[i], extra[i])
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	want, got := summary(one), summary(a)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("merged:\n%+v\nwant one tally's:\n%+v", got, want)
	}
	if want.Ops == 0 || want.Errors == 0 || want.Cancelled == 0 || want.Dropped == 0 || want.Lag.Count == 0 || want.Operations[1].Query.Histogram == "" {
		t.Fatalf("the outcomes do not exercise every figure: %+v", want)
	}
	// The figures themselves, against what was recorded.
	var ops, errs, cancelled, queries int64
	for i, r := range rs {
		queries += int64(len(extra[i])) // recorded while the operation ran, whatever its end
		switch {
		case r.Category == tally.Cancelled:
			cancelled++
			continue
		case r.Category >= 0:
			errs++
		}
		ops++
		queries += int64(r.NQueries)
	}
	if want.Ops != ops || want.Errors != errs || want.Cancelled != cancelled || want.Query.Count != queries || want.Arrivals != int64(len(rs)) {
		t.Errorf("ops %d errors %d cancelled %d queries %d arrivals %d; want %d, %d, %d, %d, %d",
			want.Ops, want.Errors, want.Cancelled, want.Query.Count, want.Arrivals, ops, errs, cancelled, queries, len(rs))
	}
	if tp := float64(ops-errs) / 10; want.Throughput != tp {
		t.Errorf("throughput %v, want %v", want.Throughput, tp)
	}
	if s := want.Operations[0].Share + want.Operations[1].Share; math.Abs(s-1) > 1e-12 {
		t.Errorf("shares add up to %v", s)
	}
}

// TestFromScenarioRoundTrips: a scenario written by Summary decodes into a
// tally that writes it again unchanged; merged with an empty tally too.
func TestFromScenarioRoundTrips(t *testing.T) {
	rs, extra := outcomes(2000)
	src := tally.New(mix, true)
	for i := range rs {
		record(src, &rs[i], extra[i])
	}
	src.AddSampleLag(3 * time.Millisecond)
	want := summary(src)
	back, err := tally.FromScenario(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(back); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n%+v\nwant:\n%+v", got, want)
	}
	empty, err := tally.FromScenario(&results.Scenario{})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Merge(back); err != nil {
		t.Fatal(err)
	}
	if got := summary(empty); !reflect.DeepEqual(got, want) {
		t.Fatalf("merged into an empty tally:\n%+v\nwant:\n%+v", got, want)
	}
}

// TestMergeRefusesOverflow: a count whose sum goes past 2^63−1 is refused,
// naming it; it never wraps around.
func TestMergeRefusesOverflow(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*results.Scenario)
	}{
		{"ops", func(s *results.Scenario) { s.Ops = math.MaxInt64 - 1 }},
		{"errors_by.query", func(s *results.Scenario) { s.ErrorsBy = map[string]int64{results.ErrQuery: math.MaxInt64} }},
		{"errors_by.custom", func(s *results.Scenario) { s.ErrorsBy = map[string]int64{"custom": math.MaxInt64} }},
		{"operation read: errors", func(s *results.Scenario) { s.Operations = []results.Operation{{Name: "read", Errors: math.MaxInt64}} }},
	}
	for _, c := range cases {
		sc := &results.Scenario{}
		c.edit(sc)
		a, err := tally.FromScenario(sc)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := tally.FromScenario(sc)
		err = a.Merge(b)
		var over *tally.OverflowError
		if !errors.As(err, &over) || over.Field != c.field {
			t.Errorf("%s: error %v, want an overflow of %s", c.field, err, c.field)
		}
	}
}

// TestSummaryWithoutHistogram: a saved latency without its histogram (an
// older report) is combined conservatively: counts summed, the largest
// percentile, no histogram.
func TestSummaryWithoutHistogram(t *testing.T) {
	rs, extra := outcomes(500)
	src := tally.New(mix, false)
	for i := range rs {
		record(src, &rs[i], extra[i])
	}
	full := summary(src)
	bare := *full
	bare.Acquire.Histogram = ""
	bare.Acquire.P99 += time.Millisecond
	a, err := tally.FromScenario(full)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tally.FromScenario(&bare)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	got := summary(a)
	if got.Acquire.Histogram != "" || got.Acquire.Count != 2*full.Acquire.Count || got.Acquire.P99 != bare.Acquire.P99 {
		t.Errorf("acquire %+v; want no histogram, count %d, p99 %v", got.Acquire, 2*full.Acquire.Count, bare.Acquire.P99)
	}
	if got.Op.Histogram == "" || got.Op.Count != 2*full.Op.Count {
		t.Errorf("op %+v; want its histogram merged", got.Op)
	}
}

// TestAddDoesNotAllocate: recording an operation allocates nothing.
func TestAddDoesNotAllocate(t *testing.T) {
	s := tally.New(mix, true)
	r := tally.Result{Op: 1, Acquire: time.Millisecond, Acquired: true, NQueries: 2, Total: 3 * time.Millisecond, Category: -1, Scheduled: true, Lag: time.Millisecond}
	if n := testing.AllocsPerRun(1000, func() { s.Add(&r) }); n != 0 {
		t.Errorf("Add allocates %.1f times per operation", n)
	}
}

// TestResetForgets: a reset tally summarises as a new one.
func TestResetForgets(t *testing.T) {
	rs, extra := outcomes(100)
	s := tally.New(mix, true)
	for i := range rs {
		record(s, &rs[i], extra[i])
	}
	s.Reset()
	if !s.Empty() {
		t.Error("not empty after Reset")
	}
	if got, want := summary(s), summary(tally.New(mix, true)); !reflect.DeepEqual(got, want) {
		t.Errorf("after Reset:\n%+v\nwant:\n%+v", got, want)
	}
}
