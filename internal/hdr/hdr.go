// Package hdr converts between HdrHistograms and the latency summaries of a
// JSON report (results.Latency), so that saved histograms can be decoded,
// merged and summarised again (planrun merge).
package hdr

import (
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/results"
)

// ErrNoHistogram is returned by [Decode] for a summary without a histogram
// (a report of an older planrun, or a figure kept only as a summary).
var ErrNoHistogram = errors.New("the latency summary carries no histogram")

// Summarize summarises h: count, min, mean, p50/p90/p95/p99
// (ValueAtQuantile, 0..100) and max, in nanoseconds, with h itself encoded
// (V2 compressed, base64) in Histogram. An empty or nil histogram gives the
// zero Latency.
func Summarize(h *hdrhistogram.Histogram) results.Latency {
	l := Figures(h)
	if l.Count > 0 {
		if b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
			l.Histogram = string(b)
		}
	}
	return l
}

// Figures is [Summarize] without the encoded histogram: the cheap summary
// of a partial result (live assertions, progress).
func Figures(h *hdrhistogram.Histogram) results.Latency {
	if h == nil || h.TotalCount() == 0 {
		return results.Latency{}
	}
	return results.Latency{
		Count: h.TotalCount(),
		Min:   time.Duration(h.Min()),
		Mean:  time.Duration(h.Mean()),
		P50:   time.Duration(h.ValueAtQuantile(50)),
		P90:   time.Duration(h.ValueAtQuantile(90)),
		P95:   time.Duration(h.ValueAtQuantile(95)),
		P99:   time.Duration(h.ValueAtQuantile(99)),
		Max:   time.Duration(h.Max()),
	}
}

// Decode returns the histogram l carries. It fails with [ErrNoHistogram]
// when l has none, when its geometry is not one planrun writes
// ([results.CheckHistogram]: it would take more memory than planrun's own
// histograms), and when the histogram cannot be decoded or its count
// differs from l.Count (the summary and the histogram disagree).
func Decode(l results.Latency) (*hdrhistogram.Histogram, error) {
	if l.Histogram == "" {
		return nil, ErrNoHistogram
	}
	if _, err := results.CheckHistogram(l.Histogram); err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	h, err := hdrhistogram.Decode([]byte(l.Histogram))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if h.TotalCount() != l.Count {
		return nil, fmt.Errorf("decode histogram: it holds %d values, its summary says %d", h.TotalCount(), l.Count)
	}
	return h, nil
}

// Merge returns a new histogram holding every value of hs (nil entries
// skipped), with the first histogram's range and precision; nil when hs
// holds none. It changes none of hs, and fails when a value lies outside
// that range.
func Merge(hs ...*hdrhistogram.Histogram) (*hdrhistogram.Histogram, error) {
	var sum *hdrhistogram.Histogram
	for _, h := range hs {
		if h == nil {
			continue
		}
		if sum == nil {
			sum = hdrhistogram.Import(h.Export())
			continue
		}
		if dropped := sum.Merge(h); dropped > 0 {
			return nil, fmt.Errorf("merge histograms: %d values outside the range %d to %d", dropped, sum.LowestTrackableValue(), sum.HighestTrackableValue())
		}
	}
	return sum, nil
}
