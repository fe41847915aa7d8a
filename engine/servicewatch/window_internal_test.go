package servicewatch

import (
	"time"

	"testing"

	"github.com/planrun/planrun/results"
)

func TestLevel(t *testing.T) {
	tests := []struct {
		name    string
		samples []int
		want    results.ServiceLevel
	}{
		{"no samples", nil, results.ServiceLevel{}},
		{"steady", []int{4, 4, 4}, results.ServiceLevel{Max: 4, Mean: 4, P95: 4}},
		// 20 samples: 19 at 1 are 95 %, so the one at 9 is above p95.
		{"one spike in twenty", append(repeat(1, 19), 9), results.ServiceLevel{Max: 9, Mean: 28.0 / 20, P95: 1}},
		// 19 samples: 18 at 1 are 94.7 %, short of 95 %.
		{"one spike in nineteen", append(repeat(1, 18), 9), results.ServiceLevel{Max: 9, Mean: 27.0 / 19, P95: 9}},
		{"zeros count", []int{0, 0, 0, 2}, results.ServiceLevel{Max: 2, Mean: 0.5, P95: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l levels
			for _, v := range tt.samples {
				l.add(v)
			}
			if got := l.level(); got != tt.want {
				t.Errorf("level of %v = %+v, want %+v", tt.samples, got, tt.want)
			}
		})
	}
}

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// TestRollingKeepsTheLastSpan: one sample a second for two minutes into a
// window of the last minute (slices of a second): its sum holds the
// samples of the slice under way and the 60 before it, whatever came
// earlier, and episodes seen in more than one slice count once.
func TestRollingKeepsTheLastSpan(t *testing.T) {
	start := time.Now()
	r := newRolling(start, time.Minute)
	episode := 0
	for sec := range 121 {
		at := start.Add(time.Duration(sec)*time.Second + time.Millisecond)
		level, ep := 1, 0
		switch {
		case sec >= 10 && sec < 20: // episode 1, long gone by the end
			level, ep = 9, 1
		case sec >= 100 && sec < 103: // episode 2, within the last minute
			level, ep = 5, 2
		case sec >= 110 && sec < 111: // episode 3
			level, ep = 5, 3
		}
		episode = max(episode, ep)
		r.at(at).add(Sample{InUse: level, Backends: level, Headroom: 100 - level}, ep, time.Duration(sec%10)*time.Second)
	}
	got := r.sum(start.Add(120*time.Second + 500*time.Millisecond))
	if got.n != 61 {
		t.Errorf("%d samples in the last minute, want 61 (seconds 60 to 120)", got.n)
	}
	if in := got.inUse.level(); in.Max != 5 {
		t.Errorf("in use %+v: want a max of 5 (the level of 9 is older than the window)", in)
	}
	if s := got.saturation(); s.Episodes != 2 || s.Longest != 2*time.Second {
		t.Errorf("saturation %+v: want episodes 2 and 3 (2 s as seen at second 102)", s)
	}
	if got.headroom != 95 {
		t.Errorf("headroom min %d, want 95", got.headroom)
	}
	var whole window
	for i := range r.ring {
		whole.merge(&r.ring[i])
	}
	if whole.n != 61 || whole.inUse.n != 61 {
		t.Errorf("the ring holds %d samples, want 61: nothing older is kept", whole.n)
	}
}
