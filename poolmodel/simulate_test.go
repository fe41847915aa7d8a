package poolmodel_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/planrun/planrun/poolmodel"
)

// TestUniformBelowCapacity: fixed gaps and fixed holds with room to spare
// never queue, exactly: at most ⌈hold/gap⌉ ≤ c connections are busy.
func TestUniformBelowCapacity(t *testing.T) {
	h := constHist(t, 35*time.Millisecond, 100)
	H := histMean(h)         // the bucket's median value, 35ms within 0.1 %
	const rate, c = 100.0, 4 // a gap of 10ms: 4 holds overlap at most
	p, err := poolmodel.Simulate(poolmodel.Workload{Rate: rate, Arrival: poolmodel.Uniform, Hold: h},
		poolmodel.Config{Connections: c}, poolmodel.Options{Acquires: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	if p.PWait != 0 || p.Wait.Max != 0 || p.Wait.P99 != 0 || p.Wait.Mean != 0 || p.TimeoutRate != 0 {
		t.Errorf("waits below capacity: PWait %v, wait %+v, timeouts %v", p.PWait, p.Wait, p.TimeoutRate)
	}
	if p.Wait.Count != 20_000 || p.Acquires != 20_000 {
		t.Errorf("counted %d acquires (Acquires %d), want 20000", p.Wait.Count, p.Acquires)
	}
	if !within(p.Throughput, rate, 1e-9) {
		t.Errorf("Throughput = %v, want %v", p.Throughput, rate)
	}
	// Over whole periods the busy time is one hold per gap.
	if want := H.Seconds() * rate / c; !within(p.Utilization, want, 1e-6) {
		t.Errorf("Utilization = %v, want hold/(gap·c) = %v", p.Utilization, want)
	}
	// One connection fewer and every acquire but the ones that find the
	// pool as it fills waits: the queue grows by a hold each 4 gaps.
	p, err = poolmodel.Simulate(poolmodel.Workload{Rate: rate, Arrival: poolmodel.Uniform, Hold: h},
		poolmodel.Config{Connections: c - 1}, poolmodel.Options{Acquires: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	if p.Stable || p.PWait < 0.99 {
		t.Errorf("over capacity: Stable %v, PWait %v; want false, ~1", p.Stable, p.PWait)
	}
}

// TestTimeouts: an overloaded pool serves c/hold acquires per second and
// times out the rest: in steady state TimeoutRate = 1 − c/(λ·hold).
func TestTimeouts(t *testing.T) {
	const hold = 20 * time.Millisecond
	const c = 10
	hists := []struct {
		name string
		h    *hdrhistogram.Histogram
		// tol is the throughput's tolerance: c / the mean of the holds
		// served, exact for a fixed hold, 0.9 % of noise at 13k
		// exponential ones.
		tol float64
	}{
		{"fixed hold", constHist(t, hold, 1000), 0.001},
		{"exponential hold", expHold(), 0.03},
	}
	for _, hc := range hists {
		for _, load := range []float64{1.5, 3} { // offered load / c
			t.Run(fmt.Sprintf("%s/load=%.1fc", hc.name, load), func(t *testing.T) {
				w, H := poolmodel.Workload{Hold: hc.h}, histMean(hc.h)
				w.Rate = load * c / H.Seconds()
				timeout := 10 * H
				p, err := poolmodel.Simulate(w, poolmodel.Config{Connections: c, Timeout: timeout},
					poolmodel.Options{Acquires: 40_000, Seed: 5})
				if err != nil {
					t.Fatal(err)
				}
				want := 1 - 1/load
				served := float64(c) / H.Seconds()
				t.Logf("timeout rate %.4f (want %.4f), throughput %.1f/s (c/hold %.1f), utilization %.4f, wait p95 %v",
					p.TimeoutRate, want, p.Throughput, served, p.Utilization, p.Wait.P95)
				if !within(p.TimeoutRate, want, 0.03) {
					t.Errorf("TimeoutRate = %.4f, want 1 − c/(λ·hold) = %.4f", p.TimeoutRate, want)
				}
				if !within(p.Throughput, served, hc.tol) {
					t.Errorf("Throughput = %.1f/s, want c/hold = %.1f/s", p.Throughput, served)
				}
				if p.Utilization < 0.99 {
					t.Errorf("Utilization = %.4f, want ~1", p.Utilization)
				}
				if !p.Stable || p.PWait < p.TimeoutRate {
					t.Errorf("Stable %v, PWait %v < TimeoutRate %v", p.Stable, p.PWait, p.TimeoutRate)
				}
				// Timeouts count at their wait, like planrun's measured acquire.
				if p.Wait.Max != timeout || !within(float64(p.Wait.P99), float64(timeout), 0.001) {
					t.Errorf("wait max %v, p99 %v: want the timeout %v", p.Wait.Max, p.Wait.P99, timeout)
				}
			})
		}
	}
}

// TestClosed checks a closed model against Little's law: with no think
// time and a fixed hold H, users ≤ c never wait and complete users/H per
// second; users > c keep every connection busy: c/H per second, and each
// acquire waits users·H/c − H on average.
func TestClosed(t *testing.T) {
	h := constHist(t, 10*time.Millisecond, 1000)
	H := histMean(h)
	for _, tc := range []struct{ users, c int }{{5, 10}, {10, 10}, {25, 10}, {40, 8}, {7, 1}} {
		t.Run(fmt.Sprintf("users=%d/c=%d", tc.users, tc.c), func(t *testing.T) {
			p, err := poolmodel.Simulate(poolmodel.Workload{Users: tc.users, Hold: h},
				poolmodel.Config{Connections: tc.c}, poolmodel.Options{Acquires: 10_000})
			if err != nil {
				t.Fatal(err)
			}
			busy := min(tc.users, tc.c)
			if want := float64(busy) / H.Seconds(); !within(p.Throughput, want, 1e-3) {
				t.Errorf("Throughput = %.2f/s, want %d/hold = %.2f/s", p.Throughput, busy, want)
			}
			if want := float64(busy) / float64(tc.c); !within(p.Utilization, want, 1e-3) {
				t.Errorf("Utilization = %.4f, want %.4f", p.Utilization, want)
			}
			want := time.Duration(0)
			if tc.users > tc.c {
				want = time.Duration(float64(tc.users)*float64(H)/float64(tc.c)) - H
			}
			if (p.Wait.Mean - want).Abs() > time.Duration(1e-3*float64(H)) {
				t.Errorf("mean wait = %v, want users·hold/c − hold = %v", p.Wait.Mean, want)
			}
			if tc.users <= tc.c && p.PWait != 0 {
				t.Errorf("PWait = %v with a connection per user", p.PWait)
			}
		})
	}
	// With think time drawn from 5ms..15ms (mean 10ms) and a connection
	// each, a user completes one acquire per think + hold.
	p, err := poolmodel.Simulate(poolmodel.Workload{Users: 10, ThinkMin: 5 * time.Millisecond, ThinkMax: 15 * time.Millisecond, Hold: h},
		poolmodel.Config{Connections: 10}, poolmodel.Options{Acquires: 20_000})
	if err != nil {
		t.Fatal(err)
	}
	if want := 10 / (10*time.Millisecond + H).Seconds(); !within(p.Throughput, want, 0.01) {
		t.Errorf("with think: Throughput = %.2f/s, want users/(think+hold) = %.2f/s", p.Throughput, want)
	}
}

// TestDeterminism: the same seed replays the same prediction; another
// seed gives a close one.
func TestDeterminism(t *testing.T) {
	w := poolmodel.Workload{Rate: 400, Hold: expHold()} // ρ = 0.8 at c = 5
	cfg := poolmodel.Config{Connections: 5, Timeout: 30 * time.Millisecond}
	sim := func(seed uint64) poolmodel.Prediction {
		p, err := poolmodel.Simulate(w, cfg, poolmodel.Options{Acquires: 20_000, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, other := sim(1), sim(1), sim(2)
	if a != b {
		t.Errorf("same seed, different predictions:\n%+v\n%+v", a, b)
	}
	if a == other {
		t.Error("seeds 1 and 2 gave identical predictions")
	}
	// PWait ≈ 0.55 with a relative noise of ~3 % at 20k acquires (and
	// 1 % for the utilization): 15 % and 5 % apart are over three standard
	// deviations of a difference.
	if !within(other.PWait, a.PWait, 0.15) || !within(other.Utilization, a.Utilization, 0.05) {
		t.Errorf("seeds 1 and 2 far apart: PWait %.4f vs %.4f, utilization %.4f vs %.4f",
			a.PWait, other.PWait, a.Utilization, other.Utilization)
	}
}

// TestSmallest: on a monotone case, bisection finds the size a linear scan
// finds.
func TestSmallest(t *testing.T) {
	w := poolmodel.Workload{Rate: 1000, Hold: expHold()} // 10 erlangs
	opts := poolmodel.Options{Acquires: 5_000, Seed: 9}
	const timeout = 100 * time.Millisecond
	const lo, hi = 1, 25
	var scan []poolmodel.Prediction // scan[c-lo]
	for c := lo; c <= hi; c++ {
		p, err := poolmodel.Simulate(w, poolmodel.Config{Connections: c, Timeout: timeout}, opts)
		if err != nil {
			t.Fatal(err)
		}
		scan = append(scan, p)
	}
	targets := []struct {
		name  string
		meets func(poolmodel.Prediction) bool
	}{
		{"p95 ≤ 5ms", func(p poolmodel.Prediction) bool { return p.Wait.P95 <= 5*time.Millisecond }},
		{"p99 ≤ 1ms, no timeout", func(p poolmodel.Prediction) bool { return p.Wait.P99 <= time.Millisecond && p.TimeoutRate == 0 }},
		{"PWait ≤ 1 %", func(p poolmodel.Prediction) bool { return p.PWait <= 0.01 }},
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			first := -1
			for i, p := range scan {
				switch ok := tc.meets(p); {
				case ok && first < 0:
					first = lo + i
				case !ok && first >= 0:
					t.Fatalf("not monotone: c=%d fails, c=%d met the target", lo+i, first)
				}
			}
			if first < 0 {
				t.Fatalf("no size in %d..%d meets the target", lo, hi)
			}
			c, p, ok, err := poolmodel.Smallest(w, timeout, lo, hi, tc.meets, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || c != first || p != scan[c-lo] {
				t.Errorf("Smallest = %d (ok %v, prediction for %d), linear scan %d", c, ok, p.Connections, first)
			}
			t.Logf("smallest %d: wait p95 %v p99 %v, PWait %.4f, timeouts %.4f", c, p.Wait.P95, p.Wait.P99, p.PWait, p.TimeoutRate)
		})
	}
	if c, p, ok, err := poolmodel.Smallest(w, timeout, 1, 8, targets[2].meets, opts); err != nil || ok || c != 8 || p != scan[8-lo] {
		t.Errorf("target out of range: Smallest = %d, %v, %v (prediction for %d); want 8, false, nil", c, ok, err, p.Connections)
	}
	if _, _, _, err := poolmodel.Smallest(w, timeout, 0, 8, targets[2].meets, opts); err == nil {
		t.Error("range 0..8: no error")
	}
	if _, _, _, err := poolmodel.Smallest(poolmodel.Workload{Rate: 1}, timeout, 1, 8, targets[2].meets, opts); err == nil {
		t.Error("no hold times: no error")
	}
}

// TestInvalid: every problem is reported, none fixed silently.
func TestInvalid(t *testing.T) {
	h := constHist(t, time.Millisecond, 10)
	cases := []struct {
		name string
		w    poolmodel.Workload
		c    poolmodel.Config
		o    poolmodel.Options
		want []string
	}{
		{"no load", poolmodel.Workload{Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"no load"}},
		{"rate and users", poolmodel.Workload{Rate: 1, Users: 2, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"both a rate"}},
		{"no hold", poolmodel.Workload{Rate: 1, Hold: newHist()}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"hold histogram is empty"}},
		{"nil hold", poolmodel.Workload{Rate: 1}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"hold histogram is empty"}},
		{"uniform users", poolmodel.Workload{Users: 1, Arrival: poolmodel.Uniform, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"open model"}},
		{"bad arrival", poolmodel.Workload{Rate: 1, Arrival: "bursty", Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{`"bursty"`}},
		{"think with rate", poolmodel.Workload{Rate: 1, ThinkMax: time.Second, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"closed model"}},
		{"think reversed", poolmodel.Workload{Users: 1, ThinkMin: 2 * time.Second, ThinkMax: time.Second, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"min ≤ max"}},
		{"pool", poolmodel.Workload{Rate: 1, Hold: h}, poolmodel.Config{Timeout: -1}, poolmodel.Options{}, []string{"connections 0", "timeout -1ns"}},
		{"acquires", poolmodel.Workload{Rate: 1, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{Acquires: -1}, []string{"acquires -1"}},
		{"century", poolmodel.Workload{Rate: 1e-6, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"century"}},
		{"closed century", poolmodel.Workload{Users: 1, ThinkMin: 365 * 24 * time.Hour, ThinkMax: 365 * 24 * time.Hour, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{Acquires: 200}, []string{"century"}},
		{"think too long", poolmodel.Workload{Users: 1, ThinkMax: 1 << 62, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"max ≤"}},
		{"users", poolmodel.Workload{Users: -1, Hold: h}, poolmodel.Config{Connections: 1}, poolmodel.Options{}, []string{"users -1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := poolmodel.Simulate(tc.w, tc.c, tc.o)
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// BenchmarkSimulate: the default 200k acquires (plus 20k of warm-up) of
// an M/G/c pool at ρ = 0.9, c = 20, and of a closed model.
func BenchmarkSimulate(b *testing.B) {
	h := expHold()
	for _, bc := range []struct {
		name string
		w    poolmodel.Workload
		c    poolmodel.Config
	}{
		{"open/c=20/rho=0.9", poolmodel.Workload{Rate: 1800, Hold: h}, poolmodel.Config{Connections: 20}},
		{"open/c=20/overloaded+timeout", poolmodel.Workload{Rate: 3000, Hold: h}, poolmodel.Config{Connections: 20, Timeout: 100 * time.Millisecond}},
		{"closed/users=100/c=20", poolmodel.Workload{Users: 100, ThinkMin: 50 * time.Millisecond, ThinkMax: 150 * time.Millisecond, Hold: h}, poolmodel.Config{Connections: 20}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := poolmodel.Simulate(bc.w, bc.c, poolmodel.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHugeTimeout: a timeout beyond any simulated instant never fires
// (its deadline saturates instead of overflowing).
func TestHugeTimeout(t *testing.T) {
	h := constHist(t, 10*time.Millisecond, 10)
	p, err := poolmodel.Simulate(poolmodel.Workload{Rate: 200, Hold: h},
		poolmodel.Config{Connections: 1, Timeout: time.Duration(1<<63 - 1)}, poolmodel.Options{Acquires: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if p.TimeoutRate != 0 || p.PWait < 0.99 {
		t.Errorf("TimeoutRate %v, PWait %v: want 0 and every acquire waiting", p.TimeoutRate, p.PWait)
	}
}
