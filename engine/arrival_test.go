package engine

import (
	"math"
	mrand "math/rand/v2"
	"testing"
	"time"
)

func seeded(seed uint64) *mrand.Rand { return mrand.New(mrand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func arrivals(t *testing.T, s *schedule) []time.Duration {
	t.Helper()
	var out []time.Duration
	for {
		at, ok := s.Next()
		if !ok {
			return out
		}
		if n := len(out); n > 0 && at < out[n-1] {
			t.Fatalf("arrival %d at %v is before arrival %d at %v", n, at, n-1, out[n-1])
		}
		out = append(out, at)
	}
}

// TestUniformSpacing: a fixed rate gives exactly rate × duration arrivals,
// 1/rate apart, the first at the start.
func TestUniformSpacing(t *testing.T) {
	got := arrivals(t, newSchedule([]rateStage{{Rate: 150, Duration: 8 * time.Second}}, arriveUniform, nil))
	if len(got) != 1200 {
		t.Fatalf("150/s for 8s gave %d arrivals, want 1200", len(got))
	}
	for i, at := range got {
		want := time.Duration(float64(i) / 150 * float64(time.Second))
		if d := at - want; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("arrival %d at %v, want %v", i, at, want)
		}
	}
}

// TestPoissonGaps: inter-arrival gaps have mean 1/rate and a coefficient of
// variation of 1, as exponential gaps do.
func TestPoissonGaps(t *testing.T) {
	const rate = 1000.0
	got := arrivals(t, newSchedule([]rateStage{{Rate: rate, Duration: 200 * time.Second}}, arrivePoisson, seeded(1)))
	n := len(got)
	// 200,000 expected; a Poisson count has standard deviation √200000 ≈ 447.
	if math.Abs(float64(n)-200000) > 5*447 {
		t.Fatalf("%d arrivals, want 200000 ± %d", n, 5*447)
	}
	var sum, sumSq float64
	for i := 1; i < n; i++ {
		g := (got[i] - got[i-1]).Seconds()
		sum += g
		sumSq += g * g
	}
	mean := sum / float64(n-1)
	cv := math.Sqrt(sumSq/float64(n-1)-mean*mean) / mean
	if math.Abs(mean*rate-1) > 0.01 {
		t.Errorf("mean gap %.6fs, want %.6fs within 1%%", mean, 1/rate)
	}
	if math.Abs(cv-1) > 0.02 {
		t.Errorf("coefficient of variation %.4f, want 1 ± 0.02", cv)
	}
}

// TestRampedProfile: a ramp from 0 to 100/s over 10 s, a hold, a step down
// and a pause give the arrivals the rate's integral says, in each part.
func TestRampedProfile(t *testing.T) {
	profile := []rateStage{
		{Rate: 100, Ramp: 10 * time.Second, Duration: 20 * time.Second}, // 500 in the ramp, 1000 in the hold
		{Rate: 0, Duration: 5 * time.Second},                            // a pause: none
		{Rate: 20, Duration: 5 * time.Second},                           // 100
	}
	count := func(got []time.Duration, from, to time.Duration) int {
		n := 0
		for _, at := range got {
			if at >= from && at < to {
				n++
			}
		}
		return n
	}
	parts := []struct {
		from, to time.Duration
		want     float64
	}{{0, 5 * time.Second, 125}, {5 * time.Second, 10 * time.Second, 375}, {10 * time.Second, 20 * time.Second, 1000}, {20 * time.Second, 25 * time.Second, 0}, {25 * time.Second, 30 * time.Second, 100}}

	uni := arrivals(t, newSchedule(profile, arriveUniform, nil))
	if len(uni) != 1600 {
		t.Errorf("uniform: %d arrivals, want 1600", len(uni))
	}
	for _, p := range parts {
		if got := count(uni, p.from, p.to); math.Abs(float64(got)-p.want) > 1 {
			t.Errorf("uniform: %d arrivals in [%v, %v), want %v ± 1", got, p.from, p.to, p.want)
		}
	}
	// Poisson: over 20 seeds, each part's mean count is within 4 standard errors.
	const runs = 20
	sums := make([]float64, len(parts))
	for seed := range uint64(runs) {
		got := arrivals(t, newSchedule(profile, arrivePoisson, seeded(seed)))
		for i, p := range parts {
			sums[i] += float64(count(got, p.from, p.to))
		}
	}
	for i, p := range parts {
		mean, se := sums[i]/runs, math.Sqrt(p.want/runs)
		if math.Abs(mean-p.want) > 4*se+0.01 {
			t.Errorf("poisson: mean %.1f arrivals in [%v, %v), want %v ± %.1f", mean, p.from, p.to, p.want, 4*se)
		}
	}
}

// TestScheduleSeed: the same seed gives the same schedule, another seed another.
func TestScheduleSeed(t *testing.T) {
	profile := []rateStage{{Rate: 50, Duration: 10 * time.Second}}
	a := arrivals(t, newSchedule(profile, arrivePoisson, seeded(42)))
	b := arrivals(t, newSchedule(profile, arrivePoisson, seeded(42)))
	c := arrivals(t, newSchedule(profile, arrivePoisson, seeded(43)))
	if len(a) != len(b) {
		t.Fatalf("same seed: %d and %d arrivals", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed: arrival %d at %v and %v", i, a[i], b[i])
		}
	}
	same := len(a) == len(c)
	for i := 0; same && i < len(a); i++ {
		same = a[i] == c[i]
	}
	if same {
		t.Error("seeds 42 and 43 gave the same schedule")
	}
}
