package merge

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/results"
)

// latency merges the segments' summaries of one latency. When every
// summary with values carries its histogram, the histograms are merged and
// the result is exactly the summary of all the values; otherwise they are
// combined conservatively (see [summaries]).
func latency(ls []results.Latency) (results.Latency, error) {
	var hs []*hdrhistogram.Histogram
	for _, l := range ls {
		if l.Count == 0 {
			continue
		}
		if l.Histogram == "" {
			return summaries(ls), nil
		}
		h, err := hdr.Decode(l)
		if err != nil {
			return results.Latency{}, err
		}
		hs = append(hs, h)
	}
	sum, err := hdr.Merge(hs...)
	if err != nil {
		return results.Latency{}, err
	}
	return hdr.Summarize(sum), nil
}

// summaries combines latency summaries without their histograms: counts
// summed, the min of the minimums, the max of the maximums, the mean
// weighted by count, and each percentile the largest of the inputs' (an
// upper bound of the true percentile: the p-th percentile of the union
// never exceeds the largest of the parts'). The result has no histogram.
func summaries(ls []results.Latency) results.Latency {
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
