// Package suggest finds the name a user probably meant: the "did you mean"
// of plan errors (unknown keys, mixes, scenarios) and assertion names.
package suggest

import "strings"

// maxLen bounds the names compared: longer ones are no typos, and the
// distance is quadratic in their length.
const maxLen = 64

// Closest returns the candidate closest to word, or "" when none is close
// enough to be a plausible typo: one edit, two for words of five runes or
// more, three from twelve. The distance is optimal-string-alignment (a swap
// of two neighbours counts as one edit), case-insensitive, and a digit
// replaced by another costs a tenth of their difference, so that
// `acquire.p96` suggests the nearest percentile, `acquire.p95`.
func Closest(word string, candidates []string) string {
	if len(word) > maxLen {
		return ""
	}
	best, bestDist := "", -1.0
	for _, c := range candidates {
		if len(c) > maxLen {
			continue
		}
		d := distance(strings.ToLower(word), strings.ToLower(c))
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

// distance is the optimal-string-alignment distance between a and b in
// runes, with digit-for-digit substitutions weighted by their difference.
func distance(a, b string) float64 {
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
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+substitution(ra[i-1], rb[j-1]))
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func substitution(a, b rune) float64 {
	switch {
	case a == b:
		return 0
	case '0' <= a && a <= '9' && '0' <= b && b <= '9':
		diff := a - b
		if diff < 0 {
			diff = -diff
		}
		return float64(diff) / 10
	}
	return 1
}
