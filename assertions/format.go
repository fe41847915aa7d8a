package assertions

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// fractionNames are the values shown as percentages.
var fractionNames = map[string]bool{
	"success_rate":      true,
	"utilization.mean":  true,
	"utilization.p95":   true,
	"utilization.max":   true,
	"connections.reuse": true,
}

// formatActual renders the value of every name a check reads, for people:
// "acquire.max = 1.2s, op.max = 1.3s".
func formatActual(refs []string, env *Env) string {
	parts := make([]string, 0, len(refs))
	for _, name := range refs {
		v, ok := env.value(name)
		if !ok {
			continue
		}
		s := formatValue(name, v)
		switch name {
		case "recovery":
			if !env.Recovered {
				s += " (not recovered by the scenario's end)"
			}
		case "baseline.recovery":
			if !env.Baseline.Recovered {
				s += " (not recovered by the scenario's end)"
			}
		}
		parts = append(parts, name+" = "+s)
	}
	return strings.Join(parts, ", ")
}

// formatValue renders one value: durations with 3 significant digits
// (312ms, 1.24ms, 8.1s), fractions as percent (99.2%), throughput in ops/s,
// counts as integers, strings quoted.
func formatValue(name string, v any) string {
	base := strings.TrimPrefix(name, "baseline.")
	switch x := v.(type) {
	case time.Duration:
		return formatDuration(x)
	case float64:
		switch {
		case fractionNames[base]:
			return formatPercent(x)
		case base == "throughput":
			return formatFloat(x) + " ops/s"
		}
		return formatFloat(x)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// formatDuration renders d with 3 significant digits in the largest unit
// that keeps the number at least 1 (100ns, 1.24µs, 312ms, 8.1s); from 100s up
// it rounds to the second (2m5s).
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + formatDuration(-d)
	case d == 0:
		return "0s"
	case d >= 100*time.Second:
		return d.Round(time.Second).String()
	}
	units := []struct {
		size time.Duration
		name string
	}{{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}, {time.Nanosecond, "ns"}}
	for i, u := range units {
		if d < u.size {
			continue
		}
		s := sig3(float64(d) / float64(u.size))
		if s == "1000" && i > 0 { // 999.96ms rounds to 1s
			return "1" + units[i-1].name
		}
		return s + u.name
	}
	return d.String()
}

// formatPercent renders a fraction as a percentage with one decimal, or more
// when one would round a value that is not exactly 0 or 1 to 0% or 100%.
func formatPercent(f float64) string {
	p := f * 100
	s := ""
	for dec := 1; dec <= 4; dec++ {
		s = trimZeros(strconv.FormatFloat(p, 'f', dec, 64))
		if (s != "100" || f == 1) && (s != "0" || f == 0) {
			break
		}
	}
	return s + "%"
}

// formatFloat renders f with 3 significant digits below 1000, whole above.
func formatFloat(f float64) string {
	switch a := abs(f); {
	case a == 0:
		return "0"
	case a < 1:
		return strconv.FormatFloat(f, 'g', 3, 64)
	case a < 1000:
		return sig3(f)
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}

// sig3 renders 1 <= |v| < 1000 with 3 significant digits, trailing zeros trimmed.
func sig3(v float64) string {
	dec := 0
	switch a := abs(v); {
	case a < 10:
		dec = 2
	case a < 100:
		dec = 1
	}
	return trimZeros(strconv.FormatFloat(v, 'f', dec, 64))
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
