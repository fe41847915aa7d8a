package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/results"
)

// maxSeriesRows bounds the condensed time-series table of each scenario.
const maxSeriesRows = 20

// Markdown writes the GitHub-flavoured report for pull requests and job
// summaries: the verdict as the first line and one sentence under it, a
// compact per-scenario table, the per-replica figures when a scenario ran
// several replicas, the scheduled faults when there are some
// (also marked on the time series), the assertions with their actual values and the
// certificate; long detail (latency percentiles, pool diagnostics, operations,
// errors, leaks, time series, preflight, run context) folds into
// <details> blocks. Every text from the run goes through [markdown.Text] or
// [markdown.Code] (escaped, one line, control characters as visible
// escapes); no HTML beyond details/summary.
func Markdown(w io.Writer, run *results.Run) error {
	run = redacted(withMergedBaseNames(run))
	// The charts come between the certificate and the folded detail, and
	// take what room the rest leaves under GitHub's comment limit: the
	// report is written in two parts around them.
	var head, tail strings.Builder
	m := &mdWriter{w: &head}

	emoji := "✅"
	switch {
	case run.Verdict.Inconclusive:
		emoji = "⚠️"
	case !run.Verdict.Pass:
		emoji = "❌"
	}
	m.printf("## %s %s — %s\n\n", emoji, markdown.Text(verdictLabel(run.Verdict)), markdown.Text(run.Plan.Name))
	if run.Verdict.Inconclusive && run.Verdict.Reason != "" {
		m.printf("**%s**\n\n", markdown.Text(verdictLine(run.Verdict)))
	}
	m.printf("%s\n\n", markdown.Text(criticalSummary(run)))
	m.context(run)

	if len(run.Scenarios) > 0 {
		m.printf("### Scenarios\n\n")
		m.scenarios(run.Scenarios)
		if anyReplicaBreakdown(run.Scenarios) {
			m.printf("### Replicas\n\n")
			m.replicas(run)
		}
		if anyFaults(run.Scenarios) {
			m.printf("### Faults\n\n")
			m.faults(run.Scenarios)
		}
		if anyService(run.Scenarios) {
			m.printf("### Service\n\n")
			m.service(run.Scenarios)
		}
	}
	if len(run.Assertions) > 0 {
		// What a reviewer must see comes first; the full list is folded.
		var notable []results.Outcome
		title := "### Failed assertions"
		for _, o := range run.Assertions {
			if failed(o) || warned(o) || undecided(o) {
				notable = append(notable, o)
			}
			if undecided(o) {
				title = "### Failed and undecided assertions"
			}
		}
		if len(notable) > 0 {
			m.printf("%s\n\n", title)
			m.assertions(notable)
		}
		m.details("All assertions ("+plural(int64(len(run.Assertions)), "evaluation", "evaluations")+")", func() { m.assertions(run.Assertions) })
	}
	if len(run.Verdict.Criteria) > 0 {
		m.printf("### Certificate\n\n")
		m.criteria(run.Verdict.Criteria)
	}
	if run.Recommendations != nil {
		m.printf("### Recommendations\n\n")
		m.recommendations(run)
	}
	m.w = &tail
	if len(run.Scenarios) > 0 {
		if load := measuredLoad(run.Scenarios); len(load) > 0 {
			m.details("Latency percentiles", func() { m.latencies(load) })
		}
		m.details("Pool diagnostics", func() { m.pool(run.Scenarios) })
		m.details("Operations", func() { m.operations(run.Scenarios) })
		if n := errorCount(run.Scenarios); n > 0 {
			m.details(fmt.Sprintf("Errors (%s)", humanize.Int(n)), func() { m.errors(run.Scenarios) })
		}
		if n := leakCount(run.Scenarios); n > 0 {
			m.details(fmt.Sprintf("Leaks (%s)", humanize.Int(n)), func() { m.leaks(run.Scenarios) })
		}
		m.details("Time series", func() { m.series(run.Scenarios) })
	}
	if len(run.Preflight) > 0 {
		m.details("Preflight checks", func() { m.preflight(run.Preflight) })
	}
	m.details("Run context", func() { m.runContext(run) })

	var charts strings.Builder
	if anyCharts(run.Scenarios) {
		charts.WriteString("### Over time\n\n")
		writeCharts(&charts, run, min(chartBudget, commentLimit-head.Len()-tail.Len()))
	}
	bw := bufio.NewWriter(w)
	for _, part := range []string{head.String(), charts.String(), tail.String()} {
		if _, err := bw.WriteString(part); err != nil {
			return fmt.Errorf("write markdown report: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

// commentLimit is the size the markdown report aims to stay under: GitHub's
// 65,536-character limit on a comment, less room for a line or two a
// workflow adds. Characters are counted as bytes, which is safe: a
// character is one byte or more.
const commentLimit = 64_000

// mdWriter writes markdown and keeps the first error.
type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// details folds body into a <details> block; the blank lines let GitHub
// render the markdown inside.
func (m *mdWriter) details(summary string, body func()) {
	m.printf("<details><summary>%s</summary>\n\n", markdown.Text(summary))
	body()
	m.printf("</details>\n\n")
}

// table writes a GFM table (see markdown.Table).
func (m *mdWriter) table(header []string, align string, rows [][]string) {
	if m.err == nil {
		m.err = markdown.Table(m.w, header, align, rows)
	}
}

func (m *mdWriter) context(run *results.Run) {
	target := markdown.Code(targetURL(run))
	if run.Target.ServerVersion != "" {
		target += " · PostgreSQL " + markdown.Text(run.Target.ServerVersion)
	}
	status := markdown.Text(string(run.Status))
	if !run.StartedAt.IsZero() && !run.FinishedAt.IsZero() {
		status += " in " + humanize.Duration(run.FinishedAt.Sub(run.StartedAt))
	}
	if n := networkText(run.Target.Network); n != "" {
		target += " · **Network** " + markdown.Text(n)
	}
	if seg := segmentText(run.Segment); seg != "" {
		status += " · **Run** " + markdown.Text(seg)
	}
	if mt := mergedText(run.Merged, markdown.Code); mt != "" {
		status += " · **Run** " + mt
	}
	m.printf("**Plan** %s (%s) · **Target** %s · **Pool** %s · **Status** %s\n\n",
		markdown.Code(run.Plan.Name), markdown.Code(run.Plan.File), target, markdown.Text(poolLine(run)), status)
	if run.TeardownError != "" {
		// One line per statement: "teardown interrupted: these statements did not run:" and the list.
		lines := strings.Split(run.TeardownError, "\n")
		m.printf("> **Teardown** %s\n", markdown.Text(lines[0]))
		for _, l := range lines[1:] {
			m.printf("> - %s\n", markdown.Code(strings.TrimSpace(l)))
		}
		m.printf("\n")
	}
}

// mdLatencyColumns are the latencies of the markdown scenario table.
var mdLatencyColumns = []string{"acquire.p95", "acquire.max", "query.p95", "op.p95", "op.max"}

// scenarios writes the compact per-scenario table: users is the peak of
// users that ran at once; the cancelled column shows only when a scenario
// has operations cut short by a stop (in neither ops nor errors).
func (m *mdWriter) scenarios(scenarios []results.Scenario) {
	cancelled, open := anyCancelled(scenarios), anyOpen(scenarios)
	rows := make([][]string, 0, len(scenarios))
	var below []string // notes too long for a cell: under the table
	for _, s := range scenarios {
		var notes []string
		if s.Status != results.StatusCompleted {
			notes = append(notes, string(s.Status))
		}
		if w := warmupText(s); w != "" {
			notes = append(notes, w)
		}
		if s.TimeScaleNote != "" {
			below = append(below, markdown.Code(s.Name)+": "+markdown.Text(s.TimeScaleNote))
		}
		name := markdown.Text(s.Name)
		if len(notes) > 0 {
			name += " (" + markdown.Text(strings.Join(notes, ", ")) + ")"
		}
		row := append([]string{name}, cells(&s, loadColumns...)...)
		if cancelled {
			row = append(row, cells(&s, "cancelled")...)
		}
		if open {
			row = append(row, openColumns(s)...)
		}
		row = append(row, cells(&s, mdLatencyColumns...)...)
		rows = append(rows, row)
	}
	header := append([]string{"scenario"}, headers(loadColumns...)...)
	if cancelled {
		header = append(header, headers("cancelled")...)
	}
	if open {
		header = append(header, openHeader...)
	}
	header = append(header, headers(mdLatencyColumns...)...)
	m.table(header, "l"+strings.Repeat("r", len(header)-1), rows)
	for _, n := range below {
		m.printf("%s\n\n", n)
	}
}

// maxOpenReplicaRows is the most rows the replica table shows open; a
// longer one folds into <details>.
const maxOpenReplicaRows = 10

// replicas writes one row per replica of each scenario that ran several,
// under a line that says what a replica is; a figure in which a replica
// stands out for the worse is bold (see worstReplicas). More than maxOpenReplicaRows
// rows fold into <details>.
func (m *mdWriter) replicas(run *results.Run) {
	var rows [][]string
	most := 0
	for _, s := range run.Scenarios {
		if !hasReplicaBreakdown(s) {
			continue
		}
		most = max(most, len(s.Replicas))
		worst := worstReplicas(s.Replicas)
		for i, r := range s.Replicas {
			c, w := replicaFigures(r), worst[i]
			mark := func(bad bool, s string) string {
				if bad {
					return "**" + s + "**"
				}
				return s
			}
			rows = append(rows, []string{markdown.Text(s.Name), c.index, c.acquires, c.maxOpen,
				c.utilMean + " / " + mark(w.utilization, c.utilMax),
				mark(w.exhaustion, c.events+" / "+c.total) + " / " + mark(w.timeouts, c.timeouts)})
		}
	}
	m.printf("%d replicas, each a pool of size %d + overflow %d; the totals above are over all of them. In bold, a replica that stands out for the worse: utilization at 100 %%, the longest exhaustion, the most timeouts.\n\n",
		most, run.Pool.Size, run.Pool.MaxOverflow)
	table := func() { m.table(append([]string{"scenario"}, replicaHeader...), "lrrrrr", rows) }
	if len(rows) > maxOpenReplicaRows {
		m.details(fmt.Sprintf("Per-replica figures (%d rows)", len(rows)), table)
		return
	}
	table()
}

// anyReplicaBreakdown reports whether a scenario ran several replicas.
func anyReplicaBreakdown(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if hasReplicaBreakdown(s) {
			return true
		}
	}
	return false
}

// faults writes every scenario's scheduled faults, in plan order: what each
// was, when it was planned and ran, what it did (server text as code) and
// the recovery after it.
func (m *mdWriter) faults(scenarios []results.Scenario) {
	var rows [][]string
	for _, s := range scenarios {
		for i, f := range s.Faults {
			c := faultRow(i, f)
			effect := markdown.Text(c[4])
			if f.Status == results.FaultFailed && f.Effect != "" {
				effect = markdown.Code(f.Effect) // why it failed: often the server's words
			}
			rows = append(rows, []string{markdown.Text(s.Name), c[0], markdown.Text(c[1]), markdown.Text(c[2]),
				markdown.Text(c[3]), effect, markdown.Text(c[5])})
		}
	}
	m.table(append([]string{"scenario"}, faultHeader...), "lrlrrll", rows)
}

func (m *mdWriter) assertions(outcomes []results.Outcome) {
	rows := make([][]string, 0, len(outcomes))
	for _, o := range outcomes {
		name := markdown.Text(outcomeName(o))
		if isWarning(o) {
			name += " *(warning)*"
		}
		if o.Aborted {
			name += " *(aborted the run)*"
		}
		actual := actualText(o)
		if o.Status == results.OutcomePass || o.Status == results.OutcomeFail {
			actual = markdown.Code(actual)
		} else {
			actual = markdown.Text(actual)
		}
		rows = append(rows, []string{outcomeEmoji(o), name, markdown.Text(o.Scenario), actual, markdown.Code(o.Check)})
	}
	m.table([]string{"", "assertion", "scenario", "actual", "check"}, "", rows)
}

func (m *mdWriter) criteria(criteria []results.Criterion) {
	rows := make([][]string, 0, len(criteria))
	for _, c := range criteria {
		reasons := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			reasons[i] = markdown.Text(r)
		}
		rows = append(rows, []string{checkEmoji(string(c.Status)), markdown.Text(c.Name), strings.Join(reasons, "; ")})
	}
	m.table([]string{"", "criterion", "reasons"}, "", rows)
}

// latencyPhases and latencyMembers are the figures of the full latency
// tables (markdown and HTML): phase.member, acquire.count to connect.max.
var (
	latencyPhases  = []string{"acquire", "query", "op", "hold", "connect"}
	latencyMembers = []string{"count", "min", "mean", "p50", "p90", "p95", "p99", "max"}
)

func (m *mdWriter) latencies(scenarios []results.Scenario) {
	var rows [][]string
	for _, s := range scenarios {
		for _, ph := range latencyPhases {
			row := []string{markdown.Text(s.Name), ph}
			for _, m := range latencyMembers {
				row = append(row, cells(&s, ph+"."+m)...)
			}
			rows = append(rows, row)
		}
	}
	m.table(append([]string{"scenario", "phase"}, latencyMembers...), "llrrrrrrrr", rows)
}

func (m *mdWriter) pool(scenarios []results.Scenario) {
	header := []string{""}
	for _, s := range scenarios {
		header = append(header, markdown.Text(s.Name))
	}
	row := func(label string, cell func(s results.Scenario) string) []string {
		r := []string{label}
		for _, s := range scenarios {
			r = append(r, markdown.Text(cell(s)))
		}
		return r
	}
	// ownPool is row for a figure of planrun's own pool: not applicable
	// on a scenario that sent only HTTP requests.
	var httpOnly []string
	for _, s := range scenarios {
		if s.HTTPOnly {
			httpOnly = append(httpOnly, s.Name)
		}
	}
	ownPool := func(label string, cell func(s results.Scenario) string) []string {
		return row(label, func(s results.Scenario) string {
			if noOwnPool(s) {
				return notApplicable
			}
			return cell(s)
		})
	}
	rows := [][]string{
		ownPool("connections opened", func(s results.Scenario) string { return humanize.Int(s.Connections.Opened) }),
		ownPool("connections closed", func(s results.Scenario) string {
			c := humanize.Int(s.Connections.Closed)
			if by := closedBy(s.Connections.ClosedBy); by != "" {
				c += " (" + by + ")"
			}
			return c
		}),
		ownPool("max open", func(s results.Scenario) string { return humanize.Int(int64(s.Connections.MaxOpen)) }),
		ownPool("reuse", func(s results.Scenario) string { return humanize.Percent(s.Connections.Reuse) }),
		ownPool("utilization mean / p95 / max", func(s results.Scenario) string {
			u := s.Utilization
			return humanize.Percent(u.Mean) + " / " + humanize.Percent(u.P95) + " / " + humanize.Percent(u.Max)
		}),
		ownPool("exhaustion events", func(s results.Scenario) string { return humanize.Int(int64(s.Exhaustion.Events)) }),
		ownPool("exhaustion total / longest", func(s results.Scenario) string {
			return humanize.Duration(s.Exhaustion.Total) + " / " + humanize.Duration(s.Exhaustion.Longest)
		}),
		ownPool("acquire timeouts", func(s results.Scenario) string { return humanize.Int(s.Exhaustion.Timeouts) }),
		ownPool("leaks", func(s results.Scenario) string { return humanize.Int(int64(s.Leaks)) }),
		row("recovery", func(s results.Scenario) string { return recoveryText(s.Recovery, s.Faults) }),
	}
	if anyCancelled(scenarios) {
		rows = append(rows, row("cancelled (not errors)", func(s results.Scenario) string { return humanize.Int(s.Cancelled) }))
	}
	if anyGenerator(scenarios) {
		rows = append(rows, row("load generator", func(s results.Scenario) string {
			if g := generatorText(s.Generator); g != "" {
				return g
			}
			return "not measured"
		}))
	}
	m.table(header, "l"+strings.Repeat("r", len(scenarios)), rows)
	if len(httpOnly) > 0 {
		m.printf("%s\n\n", markdown.Text(fmt.Sprintf("%s for %s: sent only HTTP requests, so planrun's own pool took no load; the service's pool is under Service.",
			notApplicable, strings.Join(httpOnly, ", "))))
	}
}

// operations writes the per-operation breakdown: counts, success rate and
// the p95 of acquire, of each statement (query) and of the whole operation.
func (m *mdWriter) operations(scenarios []results.Scenario) {
	var rows [][]string
	for _, s := range scenarios {
		for _, op := range s.Operations {
			rows = append(rows, append([]string{
				markdown.Text(s.Name), markdown.Text(op.Name), formatFloat(op.Weight), humanize.Percent(op.Share),
			}, opCells(&op, mdOperationColumns...)...))
		}
	}
	m.table(append([]string{"scenario", "operation", "weight", "share"}, opHeaders(mdOperationColumns...)...),
		"llrrrrrrrr", rows)
}

// mdOperationColumns are the figures of the markdown per-operation table.
var mdOperationColumns = []string{"ops", "errors", "success_rate", "acquire.p95", "query.p95", "op.p95"}

func (m *mdWriter) errors(scenarios []results.Scenario) {
	var rows [][]string
	for _, s := range scenarios {
		for _, cat := range errorCategories(s) {
			sample := "–"
			if v := s.ErrorSamples[cat]; v != "" {
				sample = markdown.Code(v)
			}
			rows = append(rows, []string{markdown.Text(s.Name), markdown.Text(cat), humanize.Int(s.ErrorsBy[cat]), sample})
		}
	}
	m.table([]string{"scenario", "category", "count", "first sample"}, "llrl", rows)

	var states [][]string
	for _, s := range scenarios {
		for _, code := range sortedKeys(s.SQLStates, nil) {
			states = append(states, []string{markdown.Text(s.Name), markdown.Code(code), humanize.Int(s.SQLStates[code])})
		}
	}
	if len(states) > 0 {
		m.table([]string{"scenario", "SQLSTATE", "count"}, "llr", states)
	}
}

// service writes the service under test's figures, one column per
// scenario that has them (bad news in bold), then each scenario's leaks
// with their redacted queries as code.
func (m *mdWriter) service(scenarios []results.Scenario) {
	var with []results.Scenario
	for _, s := range scenarios {
		if s.Service != nil {
			with = append(with, s)
		}
	}
	header := []string{""}
	var order []string
	cell := map[[2]string]string{}
	for i, s := range with {
		header = append(header, markdown.Text(s.Name))
		for _, r := range serviceRows(s.Service, s.Watch) {
			if !slices.Contains(order, r.name) {
				order = append(order, r.name)
			}
			v := markdown.Text(r.value)
			if r.name == "application_name" {
				v = markdown.Code(r.value)
			} else if r.bad {
				v = "**" + v + "**"
			}
			cell[[2]string{r.name, strconv.Itoa(i)}] = v
		}
	}
	var rows [][]string
	for _, name := range order {
		row := []string{markdown.Text(name)}
		for i := range with {
			row = append(row, cell[[2]string{name, strconv.Itoa(i)}])
		}
		rows = append(rows, row)
	}
	m.table(header, "l"+strings.Repeat("r", len(with)), rows)
	var leaks [][]string
	for _, s := range with {
		for _, l := range serviceLeakRows(s.Service) {
			q := ""
			if l[4] != "" {
				q = markdown.Code(l[4])
			}
			leaks = append(leaks, []string{markdown.Text(s.Name), l[0], markdown.Text(l[1]), markdown.Text(l[2]), l[3], q})
		}
	}
	if len(leaks) > 0 {
		m.printf("Leaks of the service's pool:\n\n")
		m.table(append([]string{"scenario"}, serviceLeakHeader...), "lrllrl", leaks)
	}
}

func (m *mdWriter) leaks(scenarios []results.Scenario) {
	var rows [][]string
	for _, s := range scenarios {
		for _, l := range s.LeakDetails {
			rows = append(rows, []string{markdown.Text(s.Name), markdown.Text(l.Operation), fmt.Sprint(l.User), markdown.Text(l.Kind), humanize.Duration(l.Held)})
		}
		if extra := s.Leaks - len(s.LeakDetails); extra > 0 {
			rows = append(rows, []string{markdown.Text(s.Name), fmt.Sprintf("*%d more not detailed*", extra), "", "", ""})
		}
	}
	m.table([]string{"scenario", "operation", "user", "kind", "held"}, "llrlr", rows)
}

// series writes each scenario's condensed time-series table. t is the
// point's end as elapsed time; ops/s divides the point's ops by its real
// interval (since the previous point; a partial last step by its own
// length); in use and waiting are the step's peaks, idle its last sample.
func (m *mdWriter) series(scenarios []results.Scenario) {
	for _, s := range scenarios {
		if len(s.Series) == 0 {
			continue
		}
		all := spans(s.Series)
		idx := withFaultPoints(sampleIndexes(len(s.Series), maxSeriesRows), s, all)
		title := fmt.Sprintf("**%s**: %d of %d points, one every %s", markdown.Text(s.Name), len(idx), len(s.Series), humanize.Exact(s.SeriesStep))
		if len(idx) == len(s.Series) {
			title = fmt.Sprintf("**%s**: one point every %s", markdown.Text(s.Name), humanize.Exact(s.SeriesStep))
		}
		if w := warmupText(s); w != "" {
			title += "; " + markdown.Text(w) + " from the figures (points marked warm-up)"
		}
		faults := anyFaults([]results.Scenario{s})
		if faults {
			title += "; ⚡ marks the points in which a fault ran (numbered as in Faults)"
		}
		m.printf("%s\n\n", title)
		rows := make([][]string, 0, len(idx))
		for _, i := range idx {
			p := s.Series[i]
			rate := "–"
			if r, ok := all[i].rate(); ok {
				rate = humanize.Rate(r)
			}
			t := humanize.Elapsed(p.T)
			if p.Warmup {
				t += " (warm-up)"
			}
			row := []string{
				t, fmt.Sprint(p.Users), rate, humanize.Int(p.Errors),
				humanize.Duration(p.AcquireP95), fmt.Sprint(p.InUse), fmt.Sprint(p.Idle), fmt.Sprint(p.Waiting),
			}
			if faults {
				mark := ""
				if marks := spanFaults(all[i], s.Faults); marks != "" {
					mark = "⚡ " + markdown.Text(marks)
				}
				row = append(row, mark)
			}
			rows = append(rows, row)
		}
		header, align := []string{"t", "users", "ops/s", "errors", "acquire p95", "in use (max)", "idle (end)", "waiting (max)"}, "rrrrrrrr"
		if faults {
			header, align = append(header, "fault"), align+"l"
		}
		m.table(header, align, rows)
	}
}

// writeCharts writes the charts of each scenario with a time series of at
// least two points (see scenarioCharts): at most maxChartedScenarios of
// them, within budget characters; a line names the scenarios left out.
func writeCharts(b *strings.Builder, run *results.Run, budget int) {
	var left []string
	used, charted := 0, 0
	for _, s := range run.Scenarios {
		if len(s.Series) < 2 || s.Watch { // a watch's charts: the HTML report's
			continue
		}
		var one strings.Builder
		one.WriteString("**" + markdown.Text(s.Name) + "**\n\n")
		scenarioCharts(&one, s, run.Pool, scenarioReplicas(s, run.Target))
		if charted >= maxChartedScenarios || used+one.Len() > budget {
			left = append(left, s.Name)
			continue
		}
		b.WriteString(one.String())
		used += one.Len()
		charted++
	}
	if len(left) > 0 {
		b.WriteString(markdown.Text(fmt.Sprintf("No charts for %s (%s), to keep this report within GitHub's 65,536-character comment limit; their time series are in the folded table below.",
			humanize.Count(int64(len(left)), "scenario", "scenarios"), strings.Join(left, ", "))) + "\n\n")
	}
}

// anyCharts reports whether a scenario has a time series to chart.
func anyCharts(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if len(s.Series) >= 2 {
			return true
		}
	}
	return false
}

// scenarioReplicas is the number of pools a scenario's series sums over.
func scenarioReplicas(s results.Scenario, t results.Target) int {
	if len(s.Replicas) > 0 {
		return len(s.Replicas)
	}
	return max(t.Replicas, 1)
}

// sampleIndexes picks at most limit indexes spread evenly over 0..n-1, the
// first and the last included.
func sampleIndexes(n, limit int) []int {
	if n <= limit {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, limit)
	for i := range idx {
		idx[i] = i * (n - 1) / (limit - 1)
	}
	return idx
}

// withFaultPoints adds to the sampled series indexes idx the first point
// each applied or failed fault of s ran in (all are the series' spans), so
// that a condensed series still shows every fault; sorted, without
// duplicates.
func withFaultPoints(idx []int, s results.Scenario, all []span) []int {
	if len(idx) == len(s.Series) {
		return idx
	}
	for _, f := range s.Faults {
		if f.Status != results.FaultApplied && f.Status != results.FaultFailed {
			continue
		}
		for i, sp := range all {
			if faultInStep(f, sp.T, sp.T-sp.From) {
				idx = append(idx, i)
				break
			}
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// anyFaults reports whether a scenario has scheduled faults.
func anyFaults(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if len(s.Faults) > 0 {
			return true
		}
	}
	return false
}

func (m *mdWriter) preflight(checks []results.Check) {
	rows := make([][]string, 0, len(checks))
	for _, c := range checks {
		name := markdown.Text(c.Name)
		if c.Critical {
			name += " *(critical)*"
		}
		rows = append(rows, []string{checkEmoji(string(c.Status)), name, markdown.Text(c.Reason)})
	}
	m.table([]string{"", "check", "reason"}, "", rows)
}

func (m *mdWriter) runContext(run *results.Run) {
	sha := run.Plan.SHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	lines := [][2]string{
		{"planrun", markdown.Text(run.PlanrunVersion)},
		{"plan", markdown.Code(run.Plan.Name) + " " + markdown.Code(run.Plan.File) + ", sha256 " + markdown.Code(sha)},
	}
	if run.Plan.Description != "" {
		lines = append(lines, [2]string{"description", markdown.Text(run.Plan.Description)})
	}
	lines = append(lines,
		[2]string{"started", markdown.Text(formatTime(run.StartedAt))},
		[2]string{"finished", markdown.Text(formatTime(run.FinishedAt))},
		[2]string{"status", markdown.Text(string(run.Status))},
	)
	if seg := segmentText(run.Segment); seg != "" {
		lines = append(lines, [2]string{"run", markdown.Text(seg)})
	}
	if mt := mergedText(run.Merged, markdown.Code); mt != "" {
		lines = append(lines, [2]string{"run", mt})
	}
	if run.StatusReason != "" {
		lines = append(lines, [2]string{"status reason", markdown.Text(run.StatusReason)})
	}
	lines = append(lines,
		[2]string{"time scale", formatFloat(run.TimeScale)},
		[2]string{"target", targetDetail(run)},
	)
	if n := networkText(run.Target.Network); n != "" {
		lines = append(lines, [2]string{"network", markdown.Text(n)})
	}
	lines = append(lines, [2]string{"pool", markdown.Text(poolDetail(run.Pool))})
	for _, l := range lines {
		m.printf("- %s: %s\n", l[0], l[1])
	}
	m.printf("\n")
}

// targetDetail describes the target fully, for the run context.
func targetDetail(run *results.Run) string {
	t := run.Target
	parts := []string{markdown.Code(targetURL(run))}
	if t.ServerVersion != "" {
		parts = append(parts, "PostgreSQL "+markdown.Text(t.ServerVersion))
	}
	parts = append(parts, "driver "+markdown.Text(t.Driver), "application_name "+markdown.Code(t.ApplicationName), fmt.Sprintf("replicas %d", t.Replicas))
	if t.MaxConnections > 0 {
		parts = append(parts, fmt.Sprintf("max_connections %d", t.MaxConnections))
	}
	if t.TLS {
		parts = append(parts, "TLS")
	} else {
		parts = append(parts, "no TLS")
	}
	if t.RTT > 0 {
		parts = append(parts, "rtt "+humanize.Duration(t.RTT))
	}
	return strings.Join(parts, ", ")
}

// poolDetail describes every pool setting, for the run context.
func poolDetail(p results.Pool) string {
	recycle, leak := "never", "the scenario's duration"
	if p.Recycle > 0 {
		recycle = humanize.Exact(p.Recycle)
	}
	if p.LeakThreshold > 0 {
		leak = humanize.Exact(p.LeakThreshold)
	}
	return fmt.Sprintf("size %d, max_overflow %d, timeout %s, recycle %s, pre_ping %t, connect_timeout %s, leak_threshold %s",
		p.Size, p.MaxOverflow, humanize.Exact(p.Timeout), recycle, p.PrePing, humanize.Exact(p.ConnectTimeout), leak)
}

// errorCount is the number of failed operations over all scenarios.
func errorCount(scenarios []results.Scenario) int64 {
	var n int64
	for _, s := range scenarios {
		n += s.Errors
	}
	return n
}

// leakCount is the number of leaks over all scenarios.
func leakCount(scenarios []results.Scenario) int64 {
	var n int64
	for _, s := range scenarios {
		n += int64(s.Leaks)
	}
	return n
}

// anyGenerator reports whether the load generator measured itself in some scenario.
func anyGenerator(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if s.Generator.TimerLateness.Count > 0 {
			return true
		}
	}
	return false
}
