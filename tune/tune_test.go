package tune_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/planrun/planrun/tune"
)

// step is one call of the try function.
type step struct {
	c      tune.Config
	why    string
	repeat bool
}

// threshold passes from size min on (at any max_overflow ≥ minOverflow),
// except the configurations in odd, which give their own outcomes in turn.
type world struct {
	minSize, minOverflow int
	odd                  map[tune.Config][]tune.Outcome
	steps                []step
}

func (w *world) try(c tune.Config, why string, repeat bool) (tune.Outcome, error) {
	w.steps = append(w.steps, step{c, why, repeat})
	if os := w.odd[c]; len(os) > 0 {
		w.odd[c] = os[1:]
		return os[0], nil
	}
	if c.Size >= w.minSize && c.MaxOverflow >= w.minOverflow {
		return tune.Pass, nil
	}
	return tune.Fail, nil
}

func sizes(steps []step) []int {
	var out []int
	for _, s := range steps {
		out = append(out, s.c.Size)
	}
	return out
}

func TestSearch(t *testing.T) {
	cfg := func(s, o int) tune.Config { return tune.Config{Size: s, MaxOverflow: o} }
	ptr := func(c tune.Config) *tune.Config { return &c }
	tests := []struct {
		name      string
		w         world
		plan      tune.Config
		model     *tune.Config
		sizes     tune.Range
		overflows *tune.Range
		// want
		stop      string
		found     bool
		smallest  tune.Config
		bracket   tune.Bracket
		triedSize []int
	}{
		{
			name: "monotone, bisection from the midpoint",
			w:    world{minSize: 3},
			plan: cfg(8, 0), sizes: tune.Range{From: 1, To: 6},
			// plan 8 passes (out of range); 1..6: mid 3 pass, 1 fail... 0..3 → mid 1 fail, 2 fail
			stop: tune.StopFound, found: true, smallest: cfg(3, 0), bracket: tune.Bracket{Fail: 2, Pass: 3},
			triedSize: []int{8, 3, 1, 2},
		},
		{
			name: "the model's candidate narrows the bracket",
			w:    world{minSize: 4},
			plan: cfg(5, 0), model: ptr(cfg(4, 0)), sizes: tune.Range{From: 1, To: 10},
			// plan 5 pass, model 4 pass → bracket (0, 4): mid 2 fail, 3 fail
			stop: tune.StopFound, found: true, smallest: cfg(4, 0), bracket: tune.Bracket{Fail: 3, Pass: 4},
			triedSize: []int{5, 4, 2, 3},
		},
		{
			name: "a model candidate outside the sizes asked for is not tried",
			w:    world{minSize: 4},
			plan: cfg(2, 0), model: ptr(cfg(4, 0)), sizes: tune.Range{From: 1, To: 2},
			// plan 2 fails, so 1 does too; the model's 4 would pass but is beyond --size
			stop: tune.StopNone, found: false, bracket: tune.Bracket{Fail: 2, Pass: 3},
			triedSize: []int{2},
		},
		{
			name: "a model candidate at another max_overflow is not evidence for the size bisection",
			w:    world{minSize: 2},
			plan: cfg(4, 1), model: ptr(cfg(1, 0)), sizes: tune.Range{From: 1, To: 4},
			// model (1,0) fails but proves nothing at max_overflow 1; plan 4 passes → (0, 4): mid 2 pass, 1 fail
			stop: tune.StopFound, found: true, smallest: cfg(2, 1), bracket: tune.Bracket{Fail: 1, Pass: 2},
			triedSize: []int{4, 1, 2, 1},
		},
		{
			name: "a failing model candidate at the plan's max_overflow is evidence",
			w:    world{minSize: 2},
			plan: cfg(4, 1), model: ptr(cfg(1, 1)), sizes: tune.Range{From: 1, To: 4},
			// model (1,1) fails; plan 4 passes → (1, 4): mid 2 pass → done
			stop: tune.StopFound, found: true, smallest: cfg(2, 1), bracket: tune.Bracket{Fail: 1, Pass: 2},
			triedSize: []int{4, 1, 2},
		},
		{
			name: "the lowest passes",
			w:    world{minSize: 1},
			plan: cfg(3, 0), sizes: tune.Range{From: 1, To: 6},
			// plan 3 pass → (0,3): mid 1 pass → done
			stop: tune.StopFound, found: true, smallest: cfg(1, 0), bracket: tune.Bracket{Fail: 0, Pass: 1},
			triedSize: []int{3, 1},
		},
		{
			name: "nothing in the range passes",
			w:    world{minSize: 9},
			plan: cfg(3, 0), sizes: tune.Range{From: 1, To: 6},
			// plan 3 fail → (3,7): mid 5 fail, 6 fail
			stop: tune.StopNone, found: false, bracket: tune.Bracket{Fail: 6, Pass: 7},
			triedSize: []int{3, 5, 6},
		},
		{
			name: "an inconclusive step is repeated once, then stops the bisection",
			w: world{minSize: 3, odd: map[tune.Config][]tune.Outcome{
				cfg(3, 0): {tune.Inconclusive, tune.Inconclusive},
			}},
			plan: cfg(6, 0), sizes: tune.Range{From: 1, To: 6},
			// plan 6 pass → (0,6): mid 3 inconclusive twice → stop with (0,6)
			stop: tune.StopInconclusive, found: true, smallest: cfg(6, 0), bracket: tune.Bracket{Fail: 0, Pass: 6},
			triedSize: []int{6, 3, 3},
		},
		{
			name: "an inconclusive step that the repeat decides",
			w: world{minSize: 3, odd: map[tune.Config][]tune.Outcome{
				cfg(3, 0): {tune.Inconclusive, tune.Pass},
			}},
			plan: cfg(6, 0), sizes: tune.Range{From: 1, To: 6},
			stop: tune.StopFound, found: true, smallest: cfg(3, 0), bracket: tune.Bracket{Fail: 2, Pass: 3},
			triedSize: []int{6, 3, 3, 1, 2},
		},
		{
			name: "everything inconclusive",
			w: world{minSize: 1, odd: map[tune.Config][]tune.Outcome{
				cfg(4, 0): {tune.Inconclusive, tune.Inconclusive},
				cfg(2, 0): {tune.Inconclusive, tune.Inconclusive},
			}},
			plan: cfg(4, 0), sizes: tune.Range{From: 1, To: 4},
			// plan not evidence → (0,5): mid 2 inconclusive twice → stop
			stop: tune.StopInconclusive, found: false, bracket: tune.Bracket{Fail: 0, Pass: 5},
			triedSize: []int{4, 4, 2, 2},
		},
		{
			name: "overflow bisected at the size found",
			w:    world{minSize: 2, minOverflow: 3},
			plan: cfg(4, 8), sizes: tune.Range{From: 1, To: 4}, overflows: &tune.Range{From: 0, To: 8},
			// size: plan (4,8) pass → (0,4): 2 pass, 1 fail → size 2.
			// overflow at 2: (2,8) known pass → (-1,8): mid 3 pass, 1 fail, 2 fail
			stop: tune.StopFound, found: true, smallest: cfg(2, 3), bracket: tune.Bracket{Fail: 1, Pass: 2},
			triedSize: []int{4, 2, 1, 2, 2, 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			res, err := tune.Search(tt.plan, func() *tune.Config { return tt.model }, tt.sizes, tt.overflows, w.try)
			if err != nil {
				t.Fatal(err)
			}
			if res.Stop != tt.stop || res.Found != tt.found || (tt.found && res.Smallest != tt.smallest) || res.Size != tt.bracket {
				t.Errorf("got stop %s, found %v, smallest %v, size bracket %+v; want %s, %v, %v, %+v\nsteps: %+v",
					res.Stop, res.Found, res.Smallest, res.Size, tt.stop, tt.found, tt.smallest, tt.bracket, w.steps)
			}
			if got := sizes(w.steps); !slices.Equal(got, tt.triedSize) {
				t.Errorf("tried sizes %v, want %v (steps %+v)", got, tt.triedSize, w.steps)
			}
			// No configuration is tried twice except as the repeat of an inconclusive one.
			seen := map[tune.Config]bool{}
			for _, s := range w.steps {
				if seen[s.c] && !s.repeat {
					t.Errorf("%v tried again without being a repeat: %+v", s.c, w.steps)
				}
				seen[s.c] = true
			}
		})
	}
}

func TestSearchOverflowSteps(t *testing.T) {
	w := &world{minSize: 2, minOverflow: 3}
	res, err := tune.Search(tune.Config{Size: 4, MaxOverflow: 8}, nil, tune.Range{From: 1, To: 4}, &tune.Range{From: 0, To: 8}, w.try)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range w.steps {
		got = append(got, fmt.Sprintf("%s %d/%d", s.why, s.c.Size, s.c.MaxOverflow))
	}
	want := []string{"plan 4/8", "size 2/8", "size 1/8", "overflow 2/3", "overflow 2/1", "overflow 2/2"}
	if !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if res.Overflow != (tune.Bracket{Fail: 2, Pass: 3}) {
		t.Errorf("overflow bracket %+v", res.Overflow)
	}
}

func TestSearchStopsOnError(t *testing.T) {
	stop := errors.New("interrupted")
	calls := 0
	res, err := tune.Search(tune.Config{Size: 4}, nil, tune.Range{From: 1, To: 8}, nil, func(c tune.Config, _ string, _ bool) (tune.Outcome, error) {
		calls++
		if calls == 3 {
			return tune.Unknown, stop
		}
		if c.Size >= 3 {
			return tune.Pass, nil
		}
		return tune.Fail, nil
	})
	if !errors.Is(err, stop) || res.Stop != tune.StopError {
		t.Fatalf("err %v, stop %s; want the try's error and %s", err, res.Stop, tune.StopError)
	}
	// plan 4 passes, then 2 fails, then the error: what was proved stands.
	if !res.Found || res.Smallest.Size != 4 || res.Conclusive != 2 {
		t.Errorf("result %+v; want size 4 found from 2 conclusive tries", res)
	}
}
