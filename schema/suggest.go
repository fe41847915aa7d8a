package schema

import (
	"sort"
	"strings"
)

// suggest returns the candidate closest to word, or "" when none is close
// enough to be a plausible typo: one edit (a transposition counts as one), or
// two edits for words of five runes or more.
func suggest(word string, candidates []string) string {
	const maxLen = 64 // longer names are no typos; and the distance is quadratic
	if len(word) > maxLen {
		return ""
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		if len(c) > maxLen {
			continue
		}
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	n := len([]rune(word))
	switch {
	case bestDist < 0 || n < 2:
		return ""
	case bestDist <= 1, bestDist == 2 && n >= 5:
		return best
	}
	return ""
}

// didYouMean builds a hint for an unknown name: "did you mean `x`?" when a
// candidate is close, otherwise the list of valid names.
func didYouMean(word, what string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return "did you mean `" + s + "`?"
	}
	if len(candidates) == 0 {
		return ""
	}
	return "valid " + what + ": " + quoteList(candidates)
}

// quoteList renders names as "`a`, `b`, `c`" in sorted order.
func quoteList(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	for i := range s {
		s[i] = "`" + s[i] + "`"
	}
	return strings.Join(s, ", ")
}

// editDistance is the optimal-string-alignment distance between a and b in
// runes: insertions, deletions, substitutions and adjacent transpositions.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
