package compare

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/planrun/planrun/results"
)

// Noise estimation. docs/compare.md ("Noise") describes the method for users;
// the constants below are the ones it quotes.
const (
	// Confidence is the two-sided confidence level of every interval compare
	// builds: 95%.
	Confidence = 0.95
	// BootstrapResamples is the number of bootstrap resamples of a run's
	// windows.
	BootstrapResamples = 2000
	// MinTailSamples is how many samples must lie beyond a percentile for
	// it to be judged: 10 (a p99 needs 1,000 samples, a p95 200).
	MinTailSamples = 10
	// MinWindows is the number of full windows a scenario needs before its
	// window-to-window spread is used as an estimate of its noise.
	MinWindows = 2

	// z975 is the standard normal quantile at 97.5%.
	z975 = 1.959963984540054
	// bootstrapSeed makes every bootstrap reproducible: the same reports
	// give the same output, run after run.
	bootstrapSeed1, bootstrapSeed2 = 0x706c616e72756e, 0x636f6d70617265
)

// FamilyFactor is the factor that widens a two-sided 95% interval into the
// Bonferroni interval for m rows judged together: z(1 − 0.025/m) / z(0.975).
// With one row it is 1; with 20 rows 1.54; with 100 rows 1.78. The chance
// that any of the m rows passes its noise by chance is then at most about 5%
// (when each row's noise is right), not 1 − 0.95^m (64% for 20 rows).
func FamilyFactor(m int) float64 {
	if m <= 1 {
		return 1
	}
	alpha := (1 - Confidence) / float64(m)
	return normalQuantile(1-alpha/2) / z975
}

// normalQuantile is the inverse of the standard normal distribution
// function (Acklam's rational approximation, relative error below 1.2e-9).
func normalQuantile(p float64) float64 {
	a := [...]float64{-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00}
	b := [...]float64{-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01}
	cc := [...]float64{-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00}
	d := [...]float64{7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00}
	const plow = 0.02425
	switch {
	case p <= 0:
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p < plow:
		q := math.Sqrt(-2 * math.Log(p))
		return (((((cc[0]*q+cc[1])*q+cc[2])*q+cc[3])*q+cc[4])*q + cc[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q + 1)
	case p > 1-plow:
		return -normalQuantile(1 - p)
	}
	q := p - 0.5
	r := q * q
	return (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r + a[5]) * q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r + 1)
}

// tTable holds the 97.5% quantiles of Student's t for 1..30 degrees of
// freedom.
var tTable = [...]float64{
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
}

// t975 is the 97.5% quantile of Student's t with df degrees of freedom
// (df >= 1): the table up to 30, the Cornish–Fisher expansion beyond.
func t975(df int) float64 {
	if df < 1 {
		return math.Inf(1)
	}
	if df <= len(tTable) {
		return tTable[df-1]
	}
	z, v := z975, float64(df)
	return z + (z*z*z+z)/(4*v) + (5*math.Pow(z, 5)+16*z*z*z+3*z)/(96*v*v)
}

// smallSampleFactor widens a bootstrap percentile interval built from k
// values so that it is as wide as a Student-t interval would be: the
// bootstrap behaves as if the spread were known (normal quantile) and
// underestimates it by sqrt((k−1)/k). This is Hesterberg's "expanded
// percentile interval" in its simplest form.
func smallSampleFactor(k int) float64 {
	if k < 2 {
		return math.Inf(1)
	}
	return t975(k-1) / z975 * math.Sqrt(float64(k)/float64(k-1))
}

// window is one step of a scenario's series with its length.
type window struct {
	p   results.Point
	len time.Duration
}

// windows returns the full windows of a scenario's series: a window shorter
// than half a step (the partial one at the end, while the users drain) is
// left out.
func windows(s *results.Scenario) []window {
	step := s.SeriesStep
	if step <= 0 {
		step = time.Second
	}
	var out []window
	var prev time.Duration
	for _, p := range s.Series {
		l := p.T - prev
		prev = p.T
		if l < step/2 || p.Warmup { // a partial step, or the warm-up's
			continue
		}
		out = append(out, window{p, l})
	}
	return out
}

// spread is a window-based estimate of how far a run's figure could move
// if the run were repeated: the half-width of a 95% interval, in natural
// log units for positive figures (latencies, throughput: their noise is
// multiplicative, a run twice as slow is as likely as one half as slow), in
// the figure's own unit for the error rate.
type spread struct {
	half float64
	k    int // windows it came from
	ok   bool
}

// bootstrap estimates the interval of the weighted mean of values from the
// values of a run's windows: it resamples the windows with replacement
// BootstrapResamples times (fixed seed), takes the 2.5th and 97.5th
// percentiles of the resampled weighted means, and returns half their
// distance (in log units with logScale) widened by [smallSampleFactor].
// Fewer than MinWindows windows give ok false; in log units, a lower bound
// of 0 gives an infinite half-width.
func bootstrap(values, weights []float64, logScale bool) spread {
	k := len(values)
	if k < MinWindows {
		return spread{k: k}
	}
	rng := rand.New(rand.NewPCG(bootstrapSeed1, bootstrapSeed2))
	idx := make([]int, k)
	means := make([]float64, BootstrapResamples)
	for b := range means {
		for i := range idx {
			idx[i] = rng.IntN(k)
		}
		means[b] = weightedMean(values, weights, idx)
	}
	slices.Sort(means)
	alpha := (1 - Confidence) / 2
	lo := means[int(math.Floor(alpha*BootstrapResamples))]
	hi := means[int(math.Ceil((1-alpha)*BootstrapResamples))-1]
	var half float64
	switch {
	case !logScale:
		half = (hi - lo) / 2
	case lo <= 0:
		half = math.Inf(1)
	default:
		half = (math.Log(hi) - math.Log(lo)) / 2
	}
	return spread{half: half * smallSampleFactor(k), k: k, ok: true}
}

// weightedMean of values[idx[i]] (all values when idx is nil).
func weightedMean(values, weights []float64, idx []int) float64 {
	var sum, wsum float64
	if idx == nil {
		for i, v := range values {
			sum += v * weights[i]
			wsum += weights[i]
		}
	} else {
		for _, i := range idx {
			sum += values[i] * weights[i]
			wsum += weights[i]
		}
	}
	if wsum == 0 {
		return 0
	}
	return sum / wsum
}

// windowNoise holds a scenario's window-based estimates, by series.
type windowNoise struct {
	acquire   map[float64]spread // by percentile: 50, 95, 99 (log units)
	query95   spread             // log units
	op95      spread             // log units; not ok for reports without it (schema 1)
	through   spread             // successful ops/s, log units
	errorRate spread             // absolute
	full      int                // full windows in the series
}

// scenarioNoise bootstraps every per-window series a scenario has.
func scenarioNoise(s *results.Scenario) windowNoise {
	ws := windows(s)
	n := windowNoise{acquire: map[float64]spread{}, full: len(ws)}
	latency := func(get func(results.Point) time.Duration) spread {
		var vs, wt []float64
		for _, w := range ws {
			if w.p.Ops > 0 {
				vs = append(vs, float64(get(w.p)))
				wt = append(wt, float64(w.p.Ops))
			}
		}
		return bootstrap(vs, wt, true)
	}
	n.acquire[50] = latency(func(p results.Point) time.Duration { return p.AcquireP50 })
	n.acquire[95] = latency(func(p results.Point) time.Duration { return p.AcquireP95 })
	n.acquire[99] = latency(func(p results.Point) time.Duration { return p.AcquireP99 })
	n.query95 = latency(func(p results.Point) time.Duration { return p.QueryP95 })
	for _, w := range ws {
		if w.p.OpP95 > 0 { // reports of schema 1 have no op p95 per window
			n.op95 = latency(func(p results.Point) time.Duration { return p.OpP95 })
			break
		}
	}

	var tv, tw, ev, ew []float64
	for _, w := range ws {
		tv = append(tv, float64(w.p.Ops-w.p.Errors)/w.len.Seconds())
		tw = append(tw, w.len.Seconds())
		if w.p.Ops > 0 {
			ev = append(ev, float64(w.p.Errors)/float64(w.p.Ops))
			ew = append(ew, float64(w.p.Ops))
		}
	}
	n.through = bootstrap(tv, tw, true)
	n.errorRate = bootstrap(ev, ew, false)
	return n
}

// h returns the half-width, 0 when not estimated.
func (s spread) h() float64 {
	if !s.ok {
		return 0
	}
	return s.half
}

// quantileInterval is the half-width, in log units, of the
// distribution-free 95% interval of the p-th percentile (0..100) of h: the
// values at the ranks n·q ± 1.96·sqrt(n·q·(1−q)). It is the sampling error
// of the percentile if the samples were independent; 0 for an empty
// histogram, +Inf when fewer than MinTailSamples samples lie beyond the
// percentile (or the upper rank is past the last sample).
func quantileInterval(h *hdrhistogram.Histogram, p float64) float64 {
	if h == nil || h.TotalCount() == 0 {
		return 0
	}
	n := float64(h.TotalCount())
	q := p / 100
	sd := math.Sqrt(n * q * (1 - q))
	if n*q+z975*sd > n || n*(1-q) < MinTailSamples {
		// Too few samples beyond the percentile: the interval's upper
		// end lies past the largest sample, or the tail is a handful of
		// events (one stall each) that another run need not have.
		return math.Inf(1)
	}
	lo := max(n*q-z975*sd, 1)
	hi := n*q + z975*sd
	vlo := float64(h.ValueAtQuantile(100 * lo / n))
	vhi := float64(h.ValueAtQuantile(100 * hi / n))
	if vlo <= 0 {
		return 0
	}
	return (math.Log(vhi) - math.Log(vlo)) / 2
}

// binomialHalf is the 95% half-width of a proportion p observed over n
// trials (normal approximation); 0 when n is 0.
func binomialHalf(p float64, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return z975 * math.Sqrt(p*(1-p)/float64(n))
}

// poissonHalf is the 95% half-width of the difference of two counts a and b
// taken as Poisson (normal approximation).
func poissonHalf(a, b float64) float64 {
	return z975 * math.Sqrt(max(a, 0)+max(b, 0))
}

// predictionHalf is the half-width of the 95% prediction interval for one
// more run, from the figures of several baseline runs: t(B−1) · s ·
// sqrt(1 + 1/B). 0 with fewer than two values.
func predictionHalf(values []float64) float64 {
	b := len(values)
	if b < 2 {
		return 0
	}
	var mean float64
	for _, v := range values {
		mean += v
	}
	mean /= float64(b)
	var ss float64
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	s := math.Sqrt(ss / float64(b-1))
	return t975(b-1) * s * math.Sqrt(1+1/float64(b))
}
