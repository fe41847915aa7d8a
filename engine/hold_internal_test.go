package engine

import (
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/planrun/planrun/schema"
)

// TestHoldRange: a hold range is drawn uniformly within its ends, both
// reachable as think's are; a fixed hold draws nothing, so a seed replays
// the operation picks, think times and args it did before holds had ranges.
func TestHoldRange(t *testing.T) {
	const lo, hi = 10 * time.Millisecond, 10*time.Millisecond + 3
	op := &operation{Hold: schema.DurationRange{Min: lo, Max: hi}}
	r := mrand.New(mrand.NewPCG(1, 2))
	seen := map[time.Duration]int{}
	for range 4000 {
		d := op.hold(r)
		if d < lo || d > hi {
			t.Fatalf("hold %v outside %v..%v", d, lo, hi)
		}
		seen[d]++
	}
	for d := lo; d <= hi; d++ {
		// 1000 expected per value; 4 standard deviations is about ±110.
		if n := seen[d]; n < 850 || n > 1150 {
			t.Errorf("hold %v drawn %d times of 4000, want about 1000 (uniform over 4 values): %v", d, n, seen)
		}
	}

	fixed := &operation{Hold: schema.DurationRange{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}}
	a, b := mrand.New(mrand.NewPCG(3, 4)), mrand.New(mrand.NewPCG(3, 4))
	if d := fixed.hold(a); d != 20*time.Millisecond {
		t.Errorf("fixed hold %v, want 20ms", d)
	}
	if x, y := a.Uint64(), b.Uint64(); x != y {
		t.Errorf("a fixed hold drew from the random source: next draw %d, want %d", x, y)
	}
}
