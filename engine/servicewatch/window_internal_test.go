package servicewatch

import (
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
