package svgchart

import (
	"math"
	"strconv"
	"strings"
)

// Nines is how far the percentile plot goes: p99.999 (five nines).
const Nines = 5

// pointsPerDecade is how many points [PercentileCurve] takes per decade of 1/(1−q).
const pointsPerDecade = 20

// PercentileCurve is the points of a percentile plot's curve: valueAt(q)
// at quantiles q (0..1) from 0 to 1 − 10^−Nines (p99.999), evenly spaced
// on the [PercentileAxis], pointsPerDecade per decade.
func PercentileCurve(valueAt func(q float64) float64) []Point {
	pts := make([]Point, 0, Nines*pointsPerDecade+1)
	for k := 0; k <= Nines*pointsPerDecade; k++ {
		q := 1 - math.Pow(10, -float64(k)/pointsPerDecade)
		pts = append(pts, Point{X: PercentileX(q), Y: valueAt(q)})
	}
	return pts
}

// PercentileX is where quantile q (0..1) lies on the percentile plot's
// X axis: 1/(1−q), drawn on a log scale (1 is p0, 10 is p90, 100 is p99).
func PercentileX(q float64) float64 { return 1 / (1 - q) }

// PercentileAxis is the classic HdrHistogram percentile plot's X axis: a
// log scale of 1/(1−q) from p0 to p99.999, labelled in percentiles.
func PercentileAxis() Axis {
	return Axis{Label: "percentile", Log: true, Min: 1, Max: math.Pow(10, Nines), Format: formatPercentile}
}

// formatPercentile labels a position x = 1/(1−q) by its percentile: "p0",
// "p90", "p99.9".
func formatPercentile(x float64) string {
	if x <= 1 {
		return "p0"
	}
	p := 100 * (1 - 1/x)
	s := strconv.FormatFloat(p, 'f', 4, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return "p" + s
}
