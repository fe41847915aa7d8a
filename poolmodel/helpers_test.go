package poolmodel_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// newHist returns an empty histogram of planrun's geometry for hold times
// (tally: 1µs to 1h, 3 significant figures).
func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(1000, int64(time.Hour), 3)
}

// constHist records the hold d n times.
func constHist(t testing.TB, d time.Duration, n int64) *hdrhistogram.Histogram {
	t.Helper()
	h := newHist()
	if err := h.RecordValues(int64(d), n); err != nil {
		t.Fatal(err)
	}
	return h
}

// histMean is the histogram's own mean hold: the expectation tests derive
// their figures from.
func histMean(h *hdrhistogram.Histogram) time.Duration {
	return time.Duration(math.Round(h.Mean()))
}

// within reports whether got is within rel (relative) of want.
func within(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// expHold is the exponential hold histogram the tests share: 200k values
// of mean 10ms, the distribution's quantiles at (i+½)/n (a sample without
// sampling noise), built once (it takes a tenth of a second under the
// race detector).
var expHold = sync.OnceValue(func() *hdrhistogram.Histogram {
	h := newHist()
	const n = 200_000
	for i := range n {
		u := (float64(i) + 0.5) / n
		_ = h.RecordValue(int64(-math.Log1p(-u) * float64(10*time.Millisecond)))
	}
	return h
})
