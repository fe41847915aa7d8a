package engine

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

func TestSplitCount(t *testing.T) {
	cases := []struct {
		name     string
		n, count int
		want     []int
	}{
		{"7 users over 3", 7, 3, []int{2, 2, 3}},
		{"1 user over 2: one slice idles", 1, 2, []int{0, 1}},
		{"0 over 4", 0, 4, []int{0, 0, 0, 0}},
		{"even", 12, 4, []int{3, 3, 3, 3}},
		{"5 over 7", 5, 7, []int{0, 1, 1, 0, 1, 1, 1}},
		{"whole", 9, 1, []int{9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []int
			for i := 1; i <= c.count; i++ {
				got = append(got, splitCount(c.n, i, c.count))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("shares %v, want %v", got, c.want)
			}
		})
	}
}

// TestSplitCountAddsUp: for every n and count the shares sum to n and each
// is within 1 of n/count, also where n·i would overflow.
func TestSplitCountAddsUp(t *testing.T) {
	check := func(n, count int) {
		sum := 0
		for i := 1; i <= count; i++ {
			s := splitCount(n, i, count)
			if d := float64(s) - float64(n)/float64(count); d <= -1 || d >= 1 {
				t.Fatalf("%d over %d: share %d of segment %d is not within 1 of %g", n, count, s, i, float64(n)/float64(count))
			}
			sum += s
		}
		if sum != n {
			t.Fatalf("%d over %d: shares sum to %d", n, count, sum)
		}
	}
	for n := range 60 {
		for count := 1; count <= 13; count++ {
			check(n, count)
		}
	}
	check(math.MaxInt64/3, MaxSegments)
	check(1_000_003, 997)
}

func TestSegmentReplicas(t *testing.T) {
	cases := []struct {
		name     string
		r, count int
		want     [][]int
	}{
		{"5 over 2", 5, 2, [][]int{{1, 2}, {3, 4, 5}}},
		{"3 over 3", 3, 3, [][]int{{1}, {2}, {3}}},
		{"7 over 3", 7, 3, [][]int{{1, 2}, {3, 4}, {5, 6, 7}}},
		{"1 over 2 leaves one empty", 1, 2, [][]int{nil, {1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := 1; i <= c.count; i++ {
				if got := segmentReplicas(c.r, i, c.count); !slices.Equal(got, c.want[i-1]) {
					t.Errorf("segment %d/%d owns %v, want %v", i, c.count, got, c.want[i-1])
				}
			}
		})
	}
}

const splitPlan = `
version: 1
name: split
target: {url: "postgres://db/x", replicas: 5}
mixes:
  m:
    - {name: a, sql: SELECT 1}
scenarios:
  - {name: steady, users: 7, ramp_up: 1s, duration: 4s}
  - name: stages
    stages:
      - {users: 10, ramp: 1s, duration: 2s}
      - {users: 1, duration: 3s}
      - {users: 0, ramp: 1s, duration: 1s}
  - {name: open, rate: 100/s, duration: 3s, max_in_flight: 7}
  - name: open-stages
    arrival: uniform
    stages:
      - {rate: 50/s, duration: 2s}
      - {rate: 200/s, ramp: 1s, duration: 2s}
`

func splitProgram(t *testing.T, src string, seg results.Segment) (*Program, error) {
	t.Helper()
	plan, err := schema.Parse("split.yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	seed := int64(7)
	plan.Seed = &seed
	return Compile(plan, Options{Segment: seg})
}

// TestSplitPlan: the segments of a plan add up to it exactly, scenario by
// scenario and stage by stage, with the durations unchanged.
func TestSplitPlan(t *testing.T) {
	whole, err := splitProgram(t, splitPlan, results.Segment{})
	if err != nil {
		t.Fatal(err)
	}
	if whole.Segment != nil || !slices.Equal(whole.Replicas, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("whole plan: segment %+v, replicas %v", whole.Segment, whole.Replicas)
	}
	const n = 3
	var segs []*Program
	for i := 1; i <= n; i++ {
		p, err := splitProgram(t, splitPlan, results.Segment{Index: i, Count: n})
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, p)
	}
	wantUsers := map[string][][]int{ // scenario → per segment → per stage
		"steady": {{2}, {2}, {3}},
		"stages": {{3, 0, 0}, {3, 0, 0}, {4, 1, 0}},
	}
	for k, sc := range whole.scenarios {

		for i, p := range segs {
			got := p.scenarios[k]
			if got.Shape.Duration() != sc.Shape.Duration() || got.Shape.StageEnd(1) != sc.Shape.StageEnd(1) {
				t.Errorf("%s segment %d: duration %v, want the whole plan's %v", sc.Name, i+1, got.Shape.Duration(), sc.Shape.Duration())
			}
			if want, ok := wantUsers[sc.Name]; ok {
				var users []int
				for _, st := range got.Shape {
					users = append(users, st.Users)
				}
				if !slices.Equal(users, want[i]) {
					t.Errorf("%s segment %d: stage users %v, want %v", sc.Name, i+1, users, want[i])
				}
			}
			if got.seed == sc.seed || (i > 0 && got.seed == segs[0].scenarios[k].seed) {
				t.Errorf("%s segment %d: seed %d is not a seed of its own", sc.Name, i+1, got.seed)
			}
		}
		for st := range sc.Shape {
			sum := 0
			for _, p := range segs {
				sum += p.scenarios[k].Shape[st].Users
			}
			if sum != sc.Shape[st].Users {
				t.Errorf("%s stage %d: segments' users sum to %d, want %d", sc.Name, st+1, sum, sc.Shape[st].Users)
			}
		}
		if sc.Open != nil {
			inFlight := 0
			for st := range sc.Open.Profile {
				sum := 0.0
				for _, p := range segs {
					sum += p.scenarios[k].Open.Profile[st].Rate
				}
				if math.Abs(sum-sc.Open.Profile[st].Rate) > 1e-9 {
					t.Errorf("%s stage %d: segments' rates sum to %v, want %v", sc.Name, st+1, sum, sc.Open.Profile[st].Rate)
				}
			}
			for _, p := range segs {
				inFlight += p.scenarios[k].Open.MaxInFlight
			}
			if inFlight != sc.Open.MaxInFlight {
				t.Errorf("%s: segments' max_in_flight sum to %d, want %d", sc.Name, inFlight, sc.Open.MaxInFlight)
			}
		}

	}
	if got := segs[0].scenarios[2].Open.Profile[0].Rate; math.Abs(got-100.0/3) > 1e-12 {
		t.Errorf("rate 100/s over 3: segment 1 runs %v/s", got)
	}
	var all []int
	for i, p := range segs {
		if p.Segment == nil || p.Segment.Index != i+1 || p.Segment.Count != n || !slices.Equal(p.Segment.Replicas, p.Replicas) {
			t.Errorf("segment %d records %+v (replicas %v)", i+1, p.Segment, p.Replicas)
		}
		all = append(all, p.Replicas...)
	}
	if !slices.Equal(all, whole.Replicas) {
		t.Errorf("segments' replicas %v, want the plan's %v once each", all, whole.Replicas)
	}
}

// TestSplitArrivalsInterleave: the N segments' arrivals together are the
// whole plan's. Uniform ones interleave exactly (the phases); Poisson ones
// are independent streams whose counts add up to the plan's in expectation.
func TestSplitArrivalsInterleave(t *testing.T) {
	const n = 3
	whole, err := splitProgram(t, splitPlan, results.Segment{})
	if err != nil {
		t.Fatal(err)
	}
	uni := whole.scenarios[3]
	want := arrivals(t, newSchedule(uni.Open.Profile, uni.Open.Arrival, nil))
	var got []time.Duration
	var firsts [][]time.Duration
	var counts []int
	poisson := 0.0
	for i := 1; i <= n; i++ {
		p, err := splitProgram(t, splitPlan, results.Segment{Index: i, Count: n})
		if err != nil {
			t.Fatal(err)
		}
		sc := p.scenarios[3]
		a := arrivals(t, newSchedule(sc.Open.Profile, sc.Open.Arrival, nil))
		got = append(got, a...)
		counts = append(counts, len(a))
		op := p.scenarios[2]
		pa := arrivals(t, newSchedule(op.Open.Profile, op.Open.Arrival, op.rand(streamSchedule, 0)))
		poisson += float64(len(pa))
		firsts = append(firsts, pa[:3])
	}
	slices.Sort(got)
	if len(got) != len(want) {
		t.Fatalf("uniform: segments' arrivals %v add up to %d, the whole plan has %d", counts, len(got), len(want))
	}
	for k := range want {
		if d := got[k] - want[k]; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("uniform arrival %d: segments give %v, the whole plan %v", k, got[k], want[k])
		}
	}
	if slices.Equal(firsts[0], firsts[1]) || slices.Equal(firsts[1], firsts[2]) {
		t.Errorf("Poisson segments drew the same schedule: %v", firsts)
	}
	// 300 expected arrivals: a Poisson count is within 5 standard deviations.
	if math.Abs(poisson-300) > 5*math.Sqrt(300) {
		t.Errorf("Poisson segments: %v arrivals, want about 300", poisson)
	}
	t.Logf("uniform: %d arrivals = %v; Poisson: %v arrivals over 3 segments", len(want), counts, poisson)
}

// TestSplitErrors: a plan that cannot be split as asked is a plan error.
func TestSplitErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		seg  results.Segment
		want string
	}{
		{"fewer replicas than segments", strings.Replace(splitPlan, "replicas: 5", "replicas: 1", 1), results.Segment{Index: 1, Count: 2},
			"a segment runs at least one replica"},
		{"no url", strings.Replace(splitPlan, `url: "postgres://db/x", `, "", 1), results.Segment{Index: 2, Count: 2},
			"set target.url"},
		{"index beyond count", splitPlan, results.Segment{Index: 3, Count: 2}, "is not a segment"},
		{"too many", splitPlan, results.Segment{Index: 1, Count: MaxSegments + 1}, "is not a segment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := splitProgram(t, c.src, c.seg)
			var errs schema.Errors
			if !errors.As(err, &errs) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "split.yaml") {
				t.Fatalf("error %v, want a plan error naming split.yaml and saying %q", err, c.want)
			}
			t.Log(err)
		})
	}
	// One segment of one replica is the whole plan: --start-at alone.
	p, err := splitProgram(t, strings.Replace(splitPlan, "replicas: 5", "replicas: 1", 1), results.Segment{Index: 1, Count: 1})
	if err != nil || p.Segment == nil || !slices.Equal(p.Segment.Replicas, []int{1}) || p.scenarios[0].Shape[0].Users != 7 {
		t.Fatalf("segment 1/1: %v, %+v", err, p)
	}
}
