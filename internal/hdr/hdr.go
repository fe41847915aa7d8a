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
// of a partial result (live assertions, progress). h holds nanoseconds.
func Figures(h *hdrhistogram.Histogram) results.Latency {
	return FiguresIn(h, time.Nanosecond)
}

// FiguresIn is [Figures] for a histogram whose values count unit (the
// load generator's own lateness is recorded in microseconds): every figure
// is converted to a duration. An empty or nil histogram gives the zero
// Latency.
func FiguresIn(h *hdrhistogram.Histogram, unit time.Duration) results.Latency {
	if h == nil || h.TotalCount() == 0 {
		return results.Latency{}
	}
	d := func(v int64) time.Duration { return time.Duration(v) * unit }
	return results.Latency{
		Count: h.TotalCount(),
		Min:   d(h.Min()),
		Mean:  time.Duration(h.Mean() * float64(unit)),
		P50:   d(h.ValueAtQuantile(50)),
		P90:   d(h.ValueAtQuantile(90)),
		P95:   d(h.ValueAtQuantile(95)),
		P99:   d(h.ValueAtQuantile(99)),
		Max:   d(h.Max()),
	}
}

// Bound combines latency summaries without their histograms: counts
// summed, the min of the minimums, the max of the maximums, the mean
// weighted by count, and each percentile the largest of the inputs' (an
// upper bound of the true percentile: the p-th percentile of the union
// never exceeds the largest of the parts'). Summaries of no values are
// skipped. The result has no histogram.
func Bound(ls ...results.Latency) results.Latency {
	var out results.Latency
	var weighted float64
	for _, l := range ls {
		if l.Count == 0 {
			continue
		}
		if out.Count == 0 || l.Min < out.Min {
			out.Min = l.Min
		}
		out.Count += l.Count
		weighted += float64(l.Mean) * float64(l.Count)
		out.P50 = max(out.P50, l.P50)
		out.P90 = max(out.P90, l.P90)
		out.P95 = max(out.P95, l.P95)
		out.P99 = max(out.P99, l.P99)
		out.Max = max(out.Max, l.Max)
	}
	if out.Count > 0 {
		out.Mean = time.Duration(weighted / float64(out.Count))
	}
	return out
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

// Add merges the values of src into dst. It fails, naming the range,
// when values of src lie outside dst's (they are left out of dst).
func Add(dst, src *hdrhistogram.Histogram) error {
	if dropped := dst.Merge(src); dropped > 0 {
		return fmt.Errorf("merge histograms: %d values outside the range %d to %d", dropped, dst.LowestTrackableValue(), dst.HighestTrackableValue())
	}
	return nil
}
