package report

import (
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/results"
)

// pointsEvery is n points, one every step, with i+1 ops, acquire p95 of
// i µs, and in use and waiting peaking at the middle point.
func pointsEvery(n int, step time.Duration) []results.Point {
	pts := make([]results.Point, n)
	for i := range pts {
		pts[i] = results.Point{T: time.Duration(i+1) * step, Ops: int64(i + 1), Errors: int64(i % 2),
			AcquireP95: time.Duration(i) * time.Microsecond, InUse: 3, Waiting: 1}
	}
	pts[n/2].InUse, pts[n/2].Waiting = 42, 17
	return pts
}

func TestDownsample(t *testing.T) {
	for _, n := range []int{1, 2, 99, 100, 101, 250, 600} {
		t.Run(time.Duration(n).String(), func(t *testing.T) {
			series := pointsEvery(n, time.Second)
			all := spans(series)
			got := downsample(all, maxChartPoints)
			if len(got) > maxChartPoints {
				t.Fatalf("%d points became %d, want at most %d", n, len(got), maxChartPoints)
			}
			if n <= maxChartPoints && len(got) != n {
				t.Fatalf("%d points became %d, want them all", n, len(got))
			}
			var ops, errs int64
			var inUse, waiting int
			var p95 time.Duration
			from := time.Duration(0)
			for _, s := range got {
				if s.From != from {
					t.Fatalf("a span starts at %v, want the previous end %v", s.From, from)
				}
				from = s.T
				ops, errs = ops+s.Ops, errs+s.Errors
				inUse, waiting, p95 = max(inUse, s.InUse), max(waiting, s.Waiting), max(p95, s.AcquireP95)
			}
			if from != series[n-1].T {
				t.Errorf("the spans end at %v, the series at %v", from, series[n-1].T)
			}
			wantOps := int64(n * (n + 1) / 2)
			if ops != wantOps || errs != int64(n/2) {
				t.Errorf("ops, errors = %d, %d; want %d, %d (sums preserved)", ops, errs, wantOps, n/2)
			}
			if inUse != 42 || waiting != 17 || p95 != time.Duration(n-1)*time.Microsecond {
				t.Errorf("peaks in use %d, waiting %d, p95 %v; want 42, 17, %v", inUse, waiting, p95, time.Duration(n-1)*time.Microsecond)
			}
		})
	}
}

// A span merged from k one-second points divides its summed ops by k
// seconds; a warm-up flag survives only when every merged point has it.
func TestDownsampleRate(t *testing.T) {
	series := make([]results.Point, 300)
	for i := range series {
		series[i] = results.Point{T: time.Duration(i+1) * time.Second, Ops: 50, Warmup: i < 4}
	}
	got := downsample(spans(series), maxChartPoints)
	if len(got) != 100 {
		t.Fatalf("300 points became %d, want 100 of 3", len(got))
	}
	for i, s := range got {
		if r, ok := s.rate(); !ok || r != 50 {
			t.Errorf("span %d (%v, %v] rate %v, want 50 ops/s", i, s.From, s.T, r)
		}
	}
	if !got[0].Warmup || got[1].Warmup {
		t.Errorf("warm-up flags %t, %t; want true (points 1–3), false (4 warm-up, 5–6 not)", got[0].Warmup, got[1].Warmup)
	}
}

// The last point of a series usually ends mid-step, when the scenario
// stopped: its ops are divided by its own length, not by a full step.
func TestSpanRatePartialLastInterval(t *testing.T) {
	series := []results.Point{
		{T: 1003 * time.Millisecond, Ops: 100},
		{T: 2 * time.Second, Ops: 100},
		{T: 2500 * time.Millisecond, Ops: 50},
		{T: 2500 * time.Millisecond, Ops: 0}, // a final step closed at the same instant
	}
	ss := spans(series)
	want := []float64{100 / 1.003, 100 / 0.997, 100}
	for i, w := range want {
		r, ok := ss[i].rate()
		if !ok || r < w-1e-9 || r > w+1e-9 {
			t.Errorf("point %d: %v ops/s, want %v", i, r, w)
		}
	}
	if _, ok := ss[3].rate(); ok {
		t.Error("an empty interval has a rate")
	}
}

func TestChartNumber(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0", 0.000123456: "0.000123", 1.23456: "1.23", 20.1: "20.1", 99.96: "100", 609.4: "609", 1234567.8: "1234568", -3.14159: "-3.14",
	} {
		if got := chartNumber(in); got != want {
			t.Errorf("chartNumber(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 1, 1: 1, 7: 8, 49: 50, 50: 50, 51: 60, 609: 800, 1001: 1500, 0.42: 0.5} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestMermaidText(t *testing.T) {
	got := mermaidText("a \"b\" `c` <d> #e; 100%\n\x1b f")
	for _, bad := range []string{`"`, "`", "<", ">", "#", ";", "%", "\n", "\x1b"} {
		if strings.Contains(got, bad) {
			t.Errorf("mermaidText kept %q: %q", bad, got)
		}
	}
	if !strings.HasPrefix(got, "a 'b' 'c' ‹d›") {
		t.Errorf("mermaidText = %q", got)
	}
}

// The time axis runs from the first point's end to the last's, in a unit
// that keeps its numbers short.
func TestTimeAxis(t *testing.T) {
	for _, tt := range []struct {
		last   time.Duration
		title  string
		lo, hi float64
	}{
		{38 * time.Second, "elapsed (s)", 1, 38},
		{10 * time.Minute, "elapsed (s)", 1, 600},
		{90 * time.Minute, "elapsed (min)", 1.0 / 60, 90},
		{20 * time.Hour, "elapsed (h)", 1.0 / 3600, 20},
	} {
		title, lo, hi := timeAxis(spans([]results.Point{{T: time.Second}, {T: tt.last}}))
		if title != tt.title || lo != tt.lo || hi != tt.hi {
			t.Errorf("last %v: %q %v --> %v, want %q %v --> %v", tt.last, title, lo, hi, tt.title, tt.lo, tt.hi)
		}
	}
	if _, lo, hi := timeAxis(spans([]results.Point{{T: time.Second}, {T: time.Second}})); hi <= lo {
		t.Errorf("points at one instant: axis %v --> %v", lo, hi)
	}
}
