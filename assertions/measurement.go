package assertions

import (
	"fmt"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// CriterionMeasurement says how far the run can trust its own figures: the
// error band of each scenario's timed figures (the load generator's and the
// emulated network's lateness) and whether the planned load was delivered.
// Outcomes within the band are undecided (band.go).
const CriterionMeasurement = "measurement"

// LabelInconclusive is the verdict's label when an undecided critical
// outcome could have changed it; the plan's pass and fail labels do not
// apply then.
const LabelInconclusive = "INCONCLUSIVE"

// generatorLimits are the measurement criterion's thresholds, resolved.
type generatorLimits struct {
	// maxTimerLateness is how late (timer lateness p99) a closed model's
	// users may wake from their think times and still keep their schedule
	// (or 10 % of the mean think time, when that is more).
	maxTimerLateness time.Duration
	// maxLag bounds an open model's lag.p99 for its arrivals to count as delivered.
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

// measurement describes each scenario's measurement: its error band and
// whether its load was delivered. It passes when every scenario's load was
// delivered, warns when one's was not (its passes are undecided), and is
// skipped when the generator did not measure itself.
func (l generatorLimits) measurement(run *results.Run) results.Criterion {
	c := results.Criterion{Name: CriterionMeasurement, Status: results.CriterionSkipped}
	measured := 0
	var short []string
	for i := range run.Scenarios {
		sc := &run.Scenarios[i]
		g := sc.Generator
		if g.TimerLateness.Count == 0 && sc.Lag.Count == 0 {
			continue
		}
		measured++
		u := l.uncertaintyOf(sc)
		line := "error band ±" + humanize.Duration(u.band)
		if u.sources != "" {
			line += " (" + u.sources + ")"
		}
		if cpu := cpuText(g); cpu != "" {
			line += "; " + cpu
		}
		if u.short != "" {
			line += "; " + u.short + ": its passes are undecided"
			short = append(short, sc.Name)
		} else {
			line += "; the planned load was delivered"
		}
		if u.starved != "" {
			line += "; " + u.starved + ": its failures of timings are undecided"
			short = append(short, sc.Name)
		}
		if len(run.Scenarios) > 1 {
			line = sc.Name + ": " + line
		}
		c.Reasons = append(c.Reasons, line)
	}
	switch {
	case measured == 0 && len(run.Scenarios) > 0 && run.Scenarios[0].Watch:
		c.Reasons = []string{"not applicable: a watch runs no load, so there is no load generator to measure"}
	case measured == 0:
		c.Reasons = []string{"the load generator did not measure itself (no scenario ran, or the report predates the measurement)"}
	case len(short) > 0:
		c.Status = results.CriterionWarn
	default:
		c.Status = results.CriterionPass
	}
	return c
}

// undecidedReason is an inconclusive verdict's reason: the undecided
// critical outcomes, then who used the CPU in the scenario with the widest
// band among theirs, and what to do.
func undecidedReason(run *results.Run, undecided []judgement) string {
	var names []string
	var worst *results.Scenario
	for _, j := range undecided {
		name := j.o.Name
		if j.o.Scenario != "" {
			name += " on " + j.o.Scenario
		}
		names = append(names, name)
		for i := range run.Scenarios {
			sc := &run.Scenarios[i]
			if sc.Name == j.o.Scenario && (worst == nil || sc.Generator.Band() > worst.Generator.Band()) {
				worst = sc
			}
		}
	}
	const shown = 4
	if n := len(names); n > shown+1 {
		names = append(names[:shown], fmt.Sprintf("%d more", n-shown))
	}
	s := fmt.Sprintf("%d critical %s could have gone either way within the run's own measurement error: %s",
		len(undecided), map[bool]string{true: "check", false: "checks"}[len(undecided) == 1], joinAnd(names))
	if worst != nil {
		s += "; " + whoUsedTheCPU(worst.Generator)
	}
	return s
}

// whoUsedTheCPU names what kept the load generator waiting for a CPU, and
// what to do about it: the embedded server, the service under test (when
// planrun started it, on this machine), planrun itself, or other processes
// (the machine's busy CPU less planrun's, the server's and the service's),
// whichever used the most. A figure not measured (-1: an external server, a
// running service given by url) counts as none and is not named.
func whoUsedTheCPU(g results.Generator) string {
	const generic = "rerun on an idle machine or lower the load"
	if g.Cores <= 0 || g.MachineCPU < 0 || g.CPU < 0 {
		return generic
	}
	server, service := max(g.ServerCPU, 0), max(g.ServiceCPU, 0)
	others := g.OtherCPU()
	of := fmt.Sprintf(" of %d cores", g.Cores)
	// also names the measured CPU users beside the one named first.
	also := func(serverToo, serviceToo bool) string {
		s := fmt.Sprintf("planrun %.2f", g.CPU)
		if serverToo && g.ServerCPU >= 0 {
			s += fmt.Sprintf(", embedded server %.2f", server)
		}
		if serviceToo && g.ServiceCPU >= 0 {
			s += fmt.Sprintf(", service %.2f", service)
		}
		return s
	}
	switch {
	case g.ServerCPU >= 0 && server >= service && server >= g.CPU && server >= others:
		return fmt.Sprintf("the embedded server used %.2f%s (%s): point DATABASE_URL at a server on another machine, or lower the load", server, of, also(false, true))
	case g.ServiceCPU >= 0 && service >= g.CPU && service >= others:
		return fmt.Sprintf("the service under test used %.2f%s (%s): run it on another machine and give its target.service.url, or lower the load", service, of, also(true, false))
	case g.CPU >= others:
		return fmt.Sprintf("planrun itself used %.2f%s: lower the load, or split it over machines with --segment", g.CPU, of)
	}
	return fmt.Sprintf("other processes used %.2f%s (%s): %s", others, of, also(true, true), generic)
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
	if fromAssertions.Status.Severity() > c.Status.Severity() {
		c.Status = fromAssertions.Status
	}
	return c
}
