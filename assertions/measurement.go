package assertions

import (
	"fmt"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// CriterionMeasurement says whether the load generator kept to its own
// schedule. When it did not, the figures describe the machine running
// planrun rather than the pool, and the verdict is LabelInconclusive.
const CriterionMeasurement = "measurement"

// LabelInconclusive is the verdict's label when the measurement criterion
// failed; the plan's pass and fail labels do not apply then.
const LabelInconclusive = "INCONCLUSIVE"

// generatorLimits are the measurement criterion's thresholds, resolved.
type generatorLimits struct {
	// maxTimerLateness bounds each scenario's generator.timer_lateness.p99.
	maxTimerLateness time.Duration
	// maxLag bounds an open model's lag.p99.
	maxLag time.Duration
}

// limitsOf resolves the plan's verdict.generator: a zero field takes its
// default (schema.DefaultMaxTimerLateness, schema.DefaultMaxLag).
func limitsOf(g schema.GeneratorLimits) generatorLimits {
	l := generatorLimits{maxTimerLateness: g.MaxTimerLateness.D(), maxLag: g.MaxLag.D()}
	if l.maxTimerLateness <= 0 {
		l.maxTimerLateness = schema.DefaultMaxTimerLateness
	}
	if l.maxLag <= 0 {
		l.maxLag = schema.DefaultMaxLag
	}
	return l
}

// measurement judges the load generator's own figures: it fails when a
// scenario's timer lateness p99 exceeds maxTimerLateness or an open model's
// lag p99 exceeds maxLag. The second result is the verdict's reason when it
// failed ("" otherwise). Arrivals the generator dropped for a reason other
// than max_in_flight would fail it too, but the engine does not tell them
// apart yet: every dropped arrival is counted against max_in_flight.
func (l generatorLimits) measurement(run *results.Run) (results.Criterion, string) {
	c := results.Criterion{Name: CriterionMeasurement, Status: results.CriterionSkipped}
	var behind []string
	var worstLateness, worstLag time.Duration
	worstCPU, cores := -1.0, 0
	measured, lagMeasured := 0, false
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		g := sc.Generator
		if g.TimerLateness.Count == 0 && sc.Lag.Count == 0 {
			continue
		}
		measured++
		worstLateness = max(worstLateness, g.TimerLateness.P99)
		if sc.Lag.Count > 0 {
			lagMeasured = true
			worstLag = max(worstLag, sc.Lag.P99)
		}
		if cpu := busyCPU(g); cpu > worstCPU {
			worstCPU, cores = cpu, g.Cores
		}
		var over []string
		if g.TimerLateness.Count > 0 && g.TimerLateness.P99 > l.maxTimerLateness {
			over = append(over, "timer lateness p99 "+humanize.Duration(g.TimerLateness.P99))
		}
		if sc.Lag.Count > 0 && sc.Lag.P99 > l.maxLag {
			over = append(over, "lag p99 "+humanize.Duration(sc.Lag.P99))
		}
		if len(over) == 0 {
			continue
		}
		if cpu := cpuText(g); cpu != "" {
			over = append(over, cpu)
		}
		where := ""
		if len(run.Scenarios) > 1 {
			where = sc.Name + " "
		}
		behind = append(behind, where+"("+strings.Join(over, ", ")+")")
	}
	limits := "timer lateness p99 ≤ " + humanize.Duration(l.maxTimerLateness) + ", lag p99 ≤ " + humanize.Duration(l.maxLag)
	switch {
	case measured == 0:
		c.Reasons = []string{"the load generator did not measure itself (no scenario ran, or the report predates the measurement)"}
		return c, ""
	case len(behind) > 0:
		lead := "the load generator fell behind "
		if len(run.Scenarios) > 1 {
			lead += "in "
		}
		reason := lead + joinAnd(behind) +
			": these figures describe this machine, not the pool; rerun on an idle machine or lower the load"
		c.Status = results.CriterionFail
		c.Reasons = []string{reason + " (limits: " + limits + ")"}
		return c, reason
	}
	s := "the load generator kept to its schedule: timer lateness p99 at most " + humanize.Duration(worstLateness) +
		" (limit " + humanize.Duration(l.maxTimerLateness) + ")"
	if lagMeasured {
		s += ", lag p99 at most " + humanize.Duration(worstLag) + " (limit " + humanize.Duration(l.maxLag) + ")"
	}
	if worstCPU >= 0 {
		s += fmt.Sprintf("; CPU at most %.2f of %d cores busy", worstCPU, cores)
	}
	c.Status = results.CriterionPass
	c.Reasons = []string{s}
	return c, ""
}

// busyCPU is the machine's busy CPU, or planrun's own when the machine's is
// unknown (-1 when neither is known).
func busyCPU(g results.Generator) float64 {
	if g.MachineCPU >= 0 {
		return g.MachineCPU
	}
	return g.CPU
}

// cpuText says how busy the CPUs were: "CPU 1.96 of 2 cores" (the whole
// machine), "planrun CPU 0.95 of 2 cores" when only planrun's is known, ""
// when neither is.
func cpuText(g results.Generator) string {
	switch {
	case g.Cores <= 0:
		return ""
	case g.MachineCPU >= 0:
		return fmt.Sprintf("CPU %.2f of %d cores", g.MachineCPU, g.Cores)
	case g.CPU >= 0:
		return fmt.Sprintf("planrun CPU %.2f of %d cores", g.CPU, g.Cores)
	}
	return ""
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(parts []string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// mergeMeasurement adds the outcomes of the assertions that read the
// generator's figures (generator.*, generator_lag, lag) to the criterion
// judged from the figures themselves; the worse status wins.
func mergeMeasurement(c results.Criterion, fromAssertions results.Criterion, hasAssertions bool) results.Criterion {
	if !hasAssertions {
		return c
	}
	c.Reasons = append(c.Reasons, fromAssertions.Reasons...)
	if rank(fromAssertions.Status) > rank(c.Status) {
		c.Status = fromAssertions.Status
	}
	return c
}
