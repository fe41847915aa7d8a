package engine

import (
	"math"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

func TestThinkUniformEnds(t *testing.T) {
	first := func(uint64) uint64 { return 0 }
	last := func(n uint64) uint64 { return n - 1 }
	full := func() uint64 { return math.MaxUint64 }
	tests := []struct {
		name         string
		lo, hi       time.Duration
		wantLo, want time.Duration // with below → 0, and below → n-1 / full → max
	}{
		{"fixed", 5, 5, 5, 5},
		{"max below min", 9, 1, 9, 9},
		{"a range", 50 * time.Millisecond, 150 * time.Millisecond, 50 * time.Millisecond, 150 * time.Millisecond},
		{"0ns..MaxInt64ns", 0, math.MaxInt64, 0, math.MaxInt64},
		{"the whole int64 range", math.MinInt64, math.MaxInt64, math.MinInt64, math.MaxInt64},
		{"negative ends", -10, -5, -10, -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := uniform(tt.lo, tt.hi, first, func() uint64 { return 0 }); got != tt.wantLo {
				t.Errorf("lowest draw = %d, want %d", got, tt.wantLo)
			}
			if got := uniform(tt.lo, tt.hi, last, full); got != tt.want {
				t.Errorf("highest draw = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestThinkTimeFullRange(t *testing.T) {
	for _, r := range []schema.DurationRange{
		{Min: 0, Max: math.MaxInt64},
		{Min: 1, Max: math.MaxInt64},
		{Min: math.MinInt64, Max: math.MaxInt64},
		{Min: 50 * time.Millisecond, Max: 150 * time.Millisecond},
	} {
		for range 1000 {
			if d := thinkTime(r); d < r.Min || d > r.Max {
				t.Fatalf("thinkTime(%v) = %d, out of range", r, d)
			}
		}
	}
}

func TestThinkTimeIsUniform(t *testing.T) {
	// Both ends are drawn, and nothing outside them, for a small range.
	r := schema.DurationRange{Min: 10, Max: 13}
	seen := map[time.Duration]int{}
	for range 4000 {
		seen[thinkTime(r)]++
	}
	for d := r.Min; d <= r.Max; d++ {
		if seen[d] < 800 {
			t.Errorf("%d drawn %d times in 4000, want about 1000", d, seen[d])
		}
	}
	if len(seen) != 4 {
		t.Errorf("drew %v, want only 10..13", seen)
	}
}

func TestShapeScaledSaturates(t *testing.T) {
	r := ramp{{Users: 1, Ramp: time.Second, Duration: 2000000 * time.Hour}, {Users: 2, Duration: 2000000 * time.Hour}}
	for _, f := range []float64{1, 1e10, math.MaxFloat64} {
		s := r.Scaled(f)
		if d := s.Duration(); d != math.MaxInt64 {
			t.Errorf("Scaled(%g).Duration() = %d, want math.MaxInt64 (saturated)", f, d)
		}
		for _, st := range s {
			if st.Duration <= 0 || st.Ramp < 0 {
				t.Errorf("Scaled(%g) has stage %+v", f, st)
			}
		}
		if end := s.StageEnd(2); end != math.MaxInt64 {
			t.Errorf("Scaled(%g).StageEnd(2) = %d, want math.MaxInt64", f, end)
		}
		// Unscaled, the second stage starts at 2000000h and runs to the
		// saturated end; scaled, the first stage alone takes every duration.
		want := 1
		if f == 1 {
			want = 2
		}
		if u := s.Users(math.MaxInt64 - 1); u != want {
			t.Errorf("Scaled(%g).Users(max-1) = %d, want %d", f, u, want)
		}
	}
	if s := r.Scaled(math.NaN()); s.Duration() != 0 {
		t.Errorf("Scaled(NaN).Duration() = %d, want 0", s.Duration())
	}
}

func TestShapeRehearsal(t *testing.T) {
	r := ramp{{Users: 10, Ramp: 10 * time.Second, Duration: time.Minute}}.Scaled(0.5)
	want := ramp{{Users: 10, Ramp: 5 * time.Second, Duration: 30 * time.Second}}
	if r[0] != want[0] {
		t.Errorf("Scaled(0.5) = %+v, want %+v", r, want)
	}
}
