package hdr_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/results"
)

// engineHist is a histogram of the engine's geometry (package tally):
// 1 µs to one hour, 3 significant figures, values in ns.
func engineHist(values ...time.Duration) *hdrhistogram.Histogram {
	h := hdrhistogram.New(1000, int64(time.Hour), 3)
	for _, v := range values {
		if err := h.RecordValue(int64(v)); err != nil {
			panic(err)
		}
	}
	return h
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestSummarizeGivesTheEnginesFigures(t *testing.T) {
	var values []time.Duration
	for i := 1; i <= 1000; i++ {
		values = append(values, time.Duration(i)*137*time.Microsecond)
	}
	h := engineHist(values...)
	got := hdr.Summarize(h)
	// What engine/collector.go's latency(h, true) computes.
	want := results.Latency{
		Count: h.TotalCount(),
		Min:   time.Duration(h.Min()),
		Mean:  time.Duration(h.Mean()),
		P50:   time.Duration(h.ValueAtQuantile(50)),
		P90:   time.Duration(h.ValueAtQuantile(90)),
		P95:   time.Duration(h.ValueAtQuantile(95)),
		P99:   time.Duration(h.ValueAtQuantile(99)),
		Max:   time.Duration(h.Max()),
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	want.Histogram = string(b)
	if got != want {
		t.Fatalf("Summarize = %+v\nwant %+v", got, want)
	}
	if got.Count != 1000 || got.P50 < ms(68) || got.P50 > ms(69) {
		t.Errorf("count %d p50 %v; want 1000 and about 68.5ms", got.Count, got.P50)
	}
	if z := hdr.Summarize(engineHist()); z != (results.Latency{}) {
		t.Errorf("empty histogram: %+v, want the zero Latency", z)
	}
	if z := hdr.Summarize(nil); z != (results.Latency{}) {
		t.Errorf("nil histogram: %+v, want the zero Latency", z)
	}
}

func TestDecodeRoundTrips(t *testing.T) {
	l := hdr.Summarize(engineHist(ms(1), ms(2), ms(3)))
	h, err := hdr.Decode(l)
	if err != nil {
		t.Fatal(err)
	}
	if again := hdr.Summarize(h); again != l {
		t.Errorf("decoded then summarised: %+v, want %+v", again, l)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := hdr.Summarize(engineHist(ms(1), ms(2)))
	for name, tc := range map[string]struct {
		l    results.Latency
		want string
	}{
		"no histogram":   {results.Latency{Count: 3}, hdr.ErrNoHistogram.Error()},
		"not base64":     {results.Latency{Count: 1, Histogram: "%%%"}, "decode histogram: "},
		"count disagree": {func() results.Latency { l := good; l.Count = 5; return l }(), "it holds 2 values, its summary says 5"},
		// 60 bytes that decode into 49 MB (issue 22): refused from the header.
		"1 to MaxInt64 at 5 digits": {func() results.Latency {
			h := hdrhistogram.New(1, math.MaxInt64, 5)
			_ = h.RecordValue(int64(ms(2)))
			return hdr.Summarize(h)
		}(), "decode histogram: it has 5 significant figures; planrun writes 1 to 3"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := hdr.Decode(tc.l)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := hdr.Decode(results.Latency{}); !errors.Is(err, hdr.ErrNoHistogram) {
		t.Errorf("Decode(zero) = %v, want ErrNoHistogram", err)
	}
}

func TestAddEqualsOneHistogramOfAllValues(t *testing.T) {
	a := []time.Duration{ms(1), ms(5), ms(9), ms(200)}
	b := []time.Duration{ms(2), ms(3), 1500 * time.Microsecond}
	ha, hb := engineHist(a...), engineHist(b...)
	if err := hdr.Add(ha, hb); err != nil {
		t.Fatal(err)
	}
	all := engineHist(append(append([]time.Duration{}, a...), b...)...)
	if got, want := hdr.Summarize(ha), hdr.Summarize(all); got != want {
		t.Errorf("merged %+v\nwant  %+v", got, want)
	}
	if hb.TotalCount() != int64(len(b)) {
		t.Errorf("Add changed its source: %d values, want %d", hb.TotalCount(), len(b))
	}
}

func TestAddRefusesValuesOutOfRange(t *testing.T) {
	small := hdrhistogram.New(1, 1000, 3)
	big := engineHist(time.Second)
	if err := hdr.Add(small, big); err == nil {
		t.Fatal("Add into a histogram too small: no error")
	}
}

// TestFiguresIn: a histogram of microseconds summarises as durations:
// every figure is the histogram's own, times the unit.
func TestFiguresIn(t *testing.T) {
	us := hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
	for _, v := range []int64{120, 450, 900, 2000, 15000} {
		_ = us.RecordValue(v)
	}
	d := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	want := results.Latency{Count: 5, Min: d(us.Min()), Mean: time.Duration(us.Mean() * 1000),
		P50: d(us.ValueAtQuantile(50)), P90: d(us.ValueAtQuantile(90)), P95: d(us.ValueAtQuantile(95)),
		P99: d(us.ValueAtQuantile(99)), Max: d(us.Max())}
	if got := hdr.FiguresIn(us, time.Microsecond); got != want || got.Min != 120*time.Microsecond {
		t.Errorf("FiguresIn(µs) %+v\nwant %+v", got, want)
	}
	if z := hdr.FiguresIn(nil, time.Microsecond); z != (results.Latency{}) {
		t.Errorf("FiguresIn(nil) = %+v", z)
	}
}
