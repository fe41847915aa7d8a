package schema

import (
	"sort"
	"strings"

	"github.com/planrun/planrun/internal/suggest"
)

// didYouMean builds a hint for an unknown name: "did you mean `x`?" when a
// candidate is close, otherwise the list of valid names.
func didYouMean(word, what string, candidates []string) string {
	if s := suggest.Closest(word, candidates); s != "" {
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
