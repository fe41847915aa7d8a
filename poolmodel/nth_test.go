package poolmodel

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNth checks the selection against sorting, on runs with many
// duplicates, sorted and reversed runs, and random ones.
func TestNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := map[string]func(n int) []int64{
		"random": func(n int) []int64 {
			a := make([]int64, n)
			for i := range a {
				a[i] = rng.Int64N(1_000_000)
			}
			return a
		},
		"duplicates": func(n int) []int64 {
			a := make([]int64, n)
			for i := range a {
				a[i] = rng.Int64N(3)
			}
			return a
		},
		"ascending": func(n int) []int64 {
			a := make([]int64, n)
			for i := range a {
				a[i] = int64(i)
			}
			return a
		},
		"descending": func(n int) []int64 {
			a := make([]int64, n)
			for i := range a {
				a[i] = int64(n - i)
			}
			return a
		},
	}
	for name, gen := range inputs {
		for _, n := range []int{1, 2, 17, 100, 1000, 10_007} {
			a := gen(n)
			sorted := slices.Sorted(slices.Values(a))
			for _, k := range []int{0, n / 2, n * 9 / 10, n - 1} {
				b := slices.Clone(a)
				if got := nth(b, k); got != sorted[k] {
					t.Fatalf("%s n=%d: nth(%d) = %d, want %d", name, n, k, got, sorted[k])
				}
				if mx := slices.Max(b[:k+1]); mx != sorted[k] {
					t.Fatalf("%s n=%d k=%d: %d before the k-th", name, n, k, mx)
				}
				if mn := slices.Min(b[k:]); mn != sorted[k] {
					t.Fatalf("%s n=%d k=%d: %d after the k-th", name, n, k, mn)
				}
			}
		}
	}
}
