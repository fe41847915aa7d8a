// Package humanize formats measurements for people, the same way in every
// table, report, progress line and assertion value planrun prints.
package humanize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration renders d for people with at most three significant digits and
// no trailing zeros: 850ns, 412µs, 1.24ms, 22ms, 312ms, 8.1s, 30s, 1m30s, 1h05m.
// Every int64 is printed, math.MinInt64 included (its magnitude is one more
// than math.MaxInt64's, a difference the rounding to minutes does not show).
func Duration(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			d++ // -d would overflow back to MinInt64
		}
		return "-" + Duration(-d)
	}
	if d == 0 {
		return "0s"
	}
	d = roundSignificant(d, 3)
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return threeDigits(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return threeDigits(float64(d)/float64(time.Millisecond)) + "ms"
	case d < time.Minute:
		return threeDigits(float64(d)/float64(time.Second)) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int64(d/time.Minute), int64(d%time.Minute/time.Second))
	default:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%dh%02dm", int64(d/time.Hour), int64(d%time.Hour/time.Minute))
	}
}

// roundSignificant rounds d to n significant decimal digits, so that the unit
// is chosen after rounding (999.6ms becomes 1.00s, not 1000ms).
func roundSignificant(d time.Duration, n int) time.Duration {
	digits := len(strconv.FormatInt(int64(d), 10))
	if digits <= n {
		return d
	}
	unit := time.Duration(math.Pow10(digits - n))
	// Round saturates at math.MaxInt64 rather than wrapping.
	return d.Round(unit)
}

// threeDigits prints v (1 <= v < 1000) with at most three significant
// digits, without trailing zeros.
func threeDigits(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	default:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	}
}

// trimZeros drops the trailing zeros of a decimal number (and a bare point).
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// Percent renders a fraction as a percentage with at most one decimal
// (99.2%, 95%), adding decimals rather than rounding a near-perfect rate up to
// 100% (or a tiny one down to 0%).
func Percent(f float64) string {
	switch {
	case math.IsNaN(f):
		return "n/a"
	case f == 1:
		return "100%"
	case f == 0:
		return "0%"
	}
	p := f * 100
	for dec := 1; dec <= 3; dec++ {
		s := strconv.FormatFloat(p, 'f', dec, 64)
		if v, _ := strconv.ParseFloat(s, 64); (v == 100 && f < 1) || (v == 0 && f > 0) {
			continue
		}
		return trimZeros(s) + "%"
	}
	if f > 0 && f < 1 && p < 50 {
		return "<0.001%"
	}
	return ">99.999%"
}

// Int renders n with thousands separators: 1234567 → 1,234,567. Every int64
// is printed, math.MinInt64 included.
func Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + group(s[1:])
	}
	return group(s)
}

// group puts a comma between each group of three digits of s.
func group(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Count is n with the noun in the right number: "1 event", "2 events",
// "1,234 events". many is the plural ("scenarios", "critical checks").
func Count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Int(n) + " " + many
}

// Exact renders a configured duration exactly, the way plans write it,
// without Go's trailing zero units: 30s, 30m, 1h30m, 250ms, 1000h; 0 is "0".
func Exact(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Rate renders a throughput in operations per second, without the unit: one
// decimal below 100, whole numbers with thousands separators above; "n/a"
// for NaN and infinities.
func Rate(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	if r < 100 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return Int(int64(math.Round(r)))
}

// Elapsed renders an offset from a start as a clock reading in whole
// seconds, for time axes: 0s, 12s, 1m05s, 1h05m10s. It rounds to the
// nearest second, except that a non-zero offset under half a second keeps
// one decimal (0.4s), so that it does not read as the start.
func Elapsed(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			d++ // -d would overflow back to MinInt64
		}
		return "-" + Elapsed(-d)
	}
	if d > 0 && d < time.Second/2 {
		return trimZeros(strconv.FormatFloat(d.Seconds(), 'f', 1, 64)) + "s"
	}
	s := int64(d.Round(time.Second) / time.Second)
	if d >= math.MaxInt64-time.Second/2 {
		s = int64(d / time.Second) // Round saturates; keep the whole seconds
	}
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm%02ds", s/3600, s%3600/60, s%60)
	}
}
