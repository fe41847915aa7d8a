package compare_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/compare"
	"github.com/planrun/planrun/results"
)

// TestWideHistogramIsNotDecoded: a histogram whose geometry planrun does
// not write (1 to MaxInt64 at 5 significant figures: 60 bytes that decode
// into 49 MB, issue 22) is not decoded even when a caller hands compare a
// report the reader did not check: the summary is used, with a note.
func TestWideHistogramIsNotDecoded(t *testing.T) {
	h := hdrhistogram.New(1, math.MaxInt64, 5)
	if err := h.RecordValue(int64(2 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	wide := func(s *results.Scenario) {
		s.Acquire = results.Latency{Count: 1, Min: 2 * ms, Mean: 2 * ms, P50: 2 * ms, P90: 2 * ms, P95: 2 * ms, P99: 2 * ms, Max: 2 * ms, Histogram: string(enc)}
	}
	c := compare.Baselines([]*results.Run{run(scenario("normal", wide))}, run(scenario("normal", wide)), compare.Options{Tolerance: 0.1})
	found := false
	for _, n := range c.Notes {
		found = found || strings.Contains(n, "cannot be read") && strings.Contains(n, "5 significant figures")
	}
	if !found {
		t.Errorf("notes %q; want one saying the histogram cannot be read (5 significant figures)", c.Notes)
	}
}
