package assertions

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
)

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
		return humanize.Duration(x)
	case float64:
		switch {
		case isFraction(name):
			return humanize.Percent(x)
		case base == "throughput":
			return formatFloat(x) + " ops/s"
		}
		return formatFloat(x)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
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
