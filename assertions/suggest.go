package assertions

import "strings"

// suggest returns the name closest to word, or "" when none is close enough
// to be a plausible typo. Distance is optimal-string-alignment (a swap of two
// neighbours counts as one edit), case-insensitive, with one refinement: a
// digit replaced by another digit costs a tenth of their difference, so that
// `acquire.p96` suggests the nearest percentile, `acquire.p95`.
func suggest(word string, candidates []string) string {
	best, bestDist := "", -1.0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	n := len([]rune(word))
	switch {
	case bestDist < 0 || n < 2:
		return ""
	case bestDist <= 1, bestDist <= 2 && n >= 5, bestDist <= 3 && n >= 12:
		return best
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b in
// runes, with digit-for-digit substitutions weighted by their difference.
func editDistance(a, b string) float64 {
	ra, rb := []rune(a), []rune(b)
	d := make([][]float64, len(ra)+1)
	for i := range d {
		d[i] = make([]float64, len(rb)+1)
		d[i][0] = float64(i)
	}
	for j := range d[0] {
		d[0][j] = float64(j)
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+substCost(ra[i-1], rb[j-1]))
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func substCost(a, b rune) float64 {
	switch {
	case a == b:
		return 0
	case isDigit(a) && isDigit(b):
		diff := a - b
		if diff < 0 {
			diff = -diff
		}
		return float64(diff) / 10
	}
	return 1
}
