package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"size", "max_overflow", "timeout", "recycle", "pre_ping", "connect_timeout", "leak_threshold"}
	metrics := []string{"acquire.p50", "acquire.p90", "acquire.p95", "acquire.p99", "query.p95"}
	cases := []struct {
		name, word string
		candidates []string
		want       string
	}{
		{"missing letter", "max_overlow", keys, "max_overflow"},
		{"swapped letters", "tiemout", keys, "timeout"},
		{"case", "TIMEOUT", keys, "timeout"},
		{"nearest percentile", "acquire.p96", metrics, "acquire.p95"},
		{"misspelt group", "acqiure.p95", metrics, "acquire.p95"},
		{"nothing close", "colour", keys, ""},
		{"too short to guess", "x", keys, ""},
		{"no candidates", "size", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Closest(c.word, c.candidates); got != c.want {
				t.Errorf("Closest(%q) = %q, want %q", c.word, got, c.want)
			}
		})
	}
}
