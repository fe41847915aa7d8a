package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/results"
)

// ANSI SGR sequences used by the terminal table.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// maxCellWidth bounds free-text cells (reasons, error samples); longer text wraps.
const maxCellWidth = 60

// painter adds ANSI colour when enabled and is a no-op otherwise.
type painter struct{ on bool }

func (p painter) paint(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return code + s + ansiReset
}

// outcome colours an assertion symbol or text by its outcome.
func (p painter) outcome(o results.Outcome, s string) string {
	switch {
	case o.Status == results.OutcomePass:
		return p.paint(ansiGreen, s)
	case failed(o):
		return p.paint(ansiRed, s)
	case warned(o), undecided(o):
		return p.paint(ansiYellow, s)
	default:
		return p.paint(ansiDim, s)
	}
}

// check colours a preflight or criterion status.
func (p painter) check(status, s string) string {
	switch status {
	case string(results.CheckPass):
		return p.paint(ansiGreen, s)
	case string(results.CheckFail):
		return p.paint(ansiRed, s)
	case string(results.CheckWarn):
		return p.paint(ansiYellow, s)
	default:
		return p.paint(ansiDim, s)
	}
}

// Table writes the terminal report: a header, the preflight checks, the load
// and latency figures (one row per scenario), pool diagnostics per scenario
// followed by its per-replica breakdown when it ran several replicas and its
// scheduled faults when it has any, the assertions with their actual values,
// the certificate criteria and, as the last line, the verdict. The header
// says when the run was one segment of a plan or merged from segments. ANSI colour only when opts.Color. Text from
// the run prints with its control characters escaped (package printable), so
// a name or a server message cannot colour, move or erase anything.
func Table(w io.Writer, run *results.Run, opts Options) error {
	run = printableRun(withMergedBaseNames(run))
	p := painter{on: opts.Color}
	bw := bufio.NewWriter(w)
	tr := &tableRenderer{w: bw, p: p}

	tr.header(run)
	if len(run.Preflight) > 0 {
		tr.section("Preflight")
		tr.preflight(run.Preflight)
	}
	if len(run.Scenarios) > 0 {
		tr.section("Load")
		tr.load(run.Scenarios)
		if load := measuredLoad(run.Scenarios); len(load) > 0 {
			tr.section("Latency (p50 / p95 / p99 / max)")
			tr.latency(load)
		}
		for _, s := range run.Scenarios {
			title := "Pool · " + s.Name
			if w := warmupText(s); w != "" {
				title += " (" + w + ")"
			}
			tr.section(title)
			tr.pool(s)
			if hasReplicaBreakdown(s) {
				tr.section("Replicas · " + s.Name)
				tr.replicas(s.Replicas)
			}
			if len(s.Faults) > 0 {
				tr.section("Faults · " + s.Name)
				tr.faults(s.Faults)
			}
			if s.Service != nil {
				tr.section("Service · " + s.Name)
				tr.service(s.Service, s.Watch)
			}
		}
	}
	if len(run.Assertions) > 0 {
		tr.section("Assertions")
		tr.assertions(run.Assertions)
	}
	if run.Recommendations != nil {
		tr.section("Recommendations")
		tr.recommendations(run)
	}
	if len(run.Verdict.Criteria) > 0 {
		tr.section("Certificate")
		tr.criteria(run.Verdict.Criteria)
	}
	tr.verdict(run)

	if tr.err != nil {
		return fmt.Errorf("render table report: %w", tr.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table report: %w", err)
	}
	return nil
}

// tableRenderer writes the sections of the terminal report and keeps the
// first error.
type tableRenderer struct {
	w   *bufio.Writer
	p   painter
	err error
}

func (tr *tableRenderer) printf(format string, args ...any) {
	if tr.err == nil {
		_, tr.err = fmt.Fprintf(tr.w, format, args...)
	}
}

func (tr *tableRenderer) section(title string) {
	tr.printf("\n%s\n", tr.p.paint(ansiBold, title))
}

// tableSpec describes one tablewriter table.
type tableSpec struct {
	header []string // nil: no header row
	aligns []tw.Align
	// widths caps the width of some columns (by index); others wrap at maxCellWidth.
	widths map[int]int
	// rowLines draws a line between rows (for multi-line rows).
	rowLines bool
}

// table renders rows as one tablewriter table.
func (tr *tableRenderer) table(spec tableSpec, rows [][]string) {
	if tr.err != nil {
		return
	}
	perColumn := tw.NewMapper[int, int]()
	for col, w := range spec.widths {
		perColumn.Set(col, w)
	}
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: spec.aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: spec.aligns}),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithRowMaxWidth(maxCellWidth),
	}
	if spec.rowLines {
		opts = append(opts, tablewriter.WithRendition(tw.Rendition{
			Settings: tw.Settings{Separators: tw.Separators{BetweenRows: tw.On}},
		}))
	}
	t := tablewriter.NewTable(tr.w, opts...)
	t.Configure(func(cfg *tablewriter.Config) { cfg.Row.ColMaxWidths.PerColumn = perColumn })
	if spec.header != nil {
		t.Header(toAny(spec.header)...)
	}
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			tr.err = err
			return
		}
	}
	tr.err = t.Render()
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (tr *tableRenderer) header(run *results.Run) {
	title := "planrun · " + printable.Line(run.Plan.Name)
	if run.Plan.File != "" {
		title += "  (" + printable.Line(run.Plan.File) + ")"
	}
	tr.printf("%s\n", tr.p.paint(ansiBold, title))

	target := []string{targetURL(run)}
	if run.Target.ServerVersion != "" {
		target = append(target, "PostgreSQL "+run.Target.ServerVersion)
	}
	if run.Target.Driver != "" {
		target = append(target, run.Target.Driver)
	}
	if run.Target.MaxConnections > 0 {
		target = append(target, fmt.Sprintf("max_connections %d", run.Target.MaxConnections))
	}
	if run.Target.TLS {
		target = append(target, "TLS")
	}
	if run.Target.RTT > 0 {
		target = append(target, "rtt "+humanize.Duration(run.Target.RTT))
	}
	tr.printf("  target  %s\n", strings.Join(target, " · "))
	if n := networkText(run.Target.Network); n != "" {
		tr.printf("  network %s\n", n)
	}
	tr.printf("  pool    %s\n", poolLine(run))

	status := string(run.Status)
	if !run.StartedAt.IsZero() && !run.FinishedAt.IsZero() {
		status += " in " + humanize.Duration(run.FinishedAt.Sub(run.StartedAt))
	}
	if !run.StartedAt.IsZero() {
		status += ", started " + run.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if run.TimeScale != 0 && run.TimeScale != 1 {
		status += fmt.Sprintf(", time scale %g", run.TimeScale)
	}
	if run.StatusReason != "" {
		status += ": " + run.StatusReason
	}
	if run.Status != results.StatusCompleted {
		status = tr.p.paint(ansiRed, status)
	}
	tr.printf("  status  %s\n", status)
	if seg := segmentText(run.Segment); seg != "" {
		tr.printf("  run     %s\n", seg)
	}
	if m := mergedText(run.Merged, printable.Line); m != "" {
		tr.printf("  run     %s\n", m)
	}
	if run.TeardownError != "" {
		tr.printf("  teardown  %s\n", tr.p.paint(ansiRed, strings.ReplaceAll(run.TeardownError, "\n", "\n            ")))
	}
}

func (tr *tableRenderer) preflight(checks []results.Check) {
	rows := make([][]string, 0, len(checks))
	for _, c := range checks {
		name := c.Name
		if c.Critical {
			name += " (critical)"
		}
		status := string(c.Status)
		rows = append(rows, []string{tr.p.check(status, checkSymbol(status)+" "+status), name, c.Reason})
	}
	tr.table(tableSpec{header: []string{"status", "check", "reason"}}, rows)
}

// load writes one row per scenario. users is the peak of users that ran at
// once (results.Scenario.MaxUsers). The cancelled column (operations cut
// short by a stop, in neither ops nor errors) shows only when one scenario
// has some; a note under the table names the scenarios whose warm-up is
// left out of the figures.
func (tr *tableRenderer) load(scenarios []results.Scenario) {
	cancelled, open := anyCancelled(scenarios), anyOpen(scenarios)
	rows := make([][]string, 0, len(scenarios))
	var notes []string
	for _, s := range scenarios {
		status := string(s.Status)
		if s.Status != results.StatusCompleted {
			status = tr.p.paint(ansiYellow, status)
		}
		row := append([]string{s.Name, status}, cells(&s, loadColumns...)...)
		if s.Errors > 0 { // success, the last column
			row[len(row)-1] = tr.p.paint(ansiYellow, row[len(row)-1])
		}
		if cancelled {
			row = append(row, cells(&s, "cancelled")...)
		}
		if open {
			row = append(row, openColumns(s)...)
		}
		rows = append(rows, row)
		if w := warmupText(s); w != "" {
			notes = append(notes, s.Name+": "+w)
		}
		if s.TimeScaleNote != "" {
			notes = append(notes, s.Name+": "+s.TimeScaleNote)
		}
	}
	r, l := tw.AlignRight, tw.AlignLeft
	spec := tableSpec{
		header: append([]string{"scenario", "status"}, headers(loadColumns...)...),
		aligns: []tw.Align{l, l, r, r, r, r, r, r},
	}
	if cancelled {
		spec.header = append(spec.header, headers("cancelled")...)
		spec.aligns = append(spec.aligns, r)
	}
	if open {
		spec.header = append(spec.header, openHeader...)
		spec.aligns = append(spec.aligns, r, r, r)
	}
	tr.table(spec, rows)
	for _, n := range notes {
		tr.printf("  %s\n", tr.p.paint(ansiDim, n))
	}
}

// loadColumns are the figures of the load tables (terminal and markdown),
// in column order; success_rate is last.
var loadColumns = []string{"users", "elapsed", "ops", "throughput", "errors", "success_rate"}

// anyCancelled reports whether a scenario has cancelled operations.
// anyOpen reports whether a scenario is an open model (an arrival rate):
// the load tables then add its target rate, dropped arrivals and start lag.
func anyOpen(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if s.Model == results.ModelOpen {
			return true
		}
	}
	return false
}

// openColumns are an open scenario's target rate, dropped arrivals and start
// lag p99, "–" for a closed one.
func openColumns(s results.Scenario) []string {
	if s.Model != results.ModelOpen {
		return []string{"–", "–", "–"}
	}
	return cells(&s, openFigures...)
}

// openFigures are the figures of openColumns; openHeader names them.
var (
	openFigures = []string{"rate", "dropped", "lag.p99"}
	openHeader  = headers(openFigures...)
)

func anyCancelled(scenarios []results.Scenario) bool {
	for _, s := range scenarios {
		if s.Cancelled > 0 {
			return true
		}
	}
	return false
}

// latencyRows and latencyColumns are the figures of the terminal's
// latency table: latencyRows.latencyColumns (acquire.p50, ...).
var (
	latencyRows    = []string{"acquire", "query", "op"}
	latencyColumns = []string{"p50", "p95", "p99", "max"}
)

// latency writes one row per scenario; each row holds the acquire, query
// and op lines.
func (tr *tableRenderer) latency(scenarios []results.Scenario) {
	rows := make([][]string, 0, len(scenarios))
	for _, s := range scenarios {
		row := []string{s.Name, strings.Join(latencyRows, "\n"), "", "", "", ""}
		for _, l := range latencyRows {
			for i, m := range latencyColumns {
				if row[2+i] != "" {
					row[2+i] += "\n"
				}
				row[2+i] += cells(&s, l+"."+m)[0]
			}
		}
		rows = append(rows, row)
	}
	l, r := tw.AlignLeft, tw.AlignRight
	tr.table(tableSpec{
		header:   append([]string{"scenario", ""}, latencyColumns...),
		aligns:   []tw.Align{l, l, r, r, r, r},
		rowLines: true,
	}, rows)
}

func (tr *tableRenderer) pool(s results.Scenario) {
	rows := [][]string{
		{"connections", connectionsText(s.Connections)},
		{"utilization", utilizationText(s.Utilization)},
		{"exhaustion", exhaustionText(s.Exhaustion)},
		{"leaks", leaksText(s)},
	}
	if s.Leaks > 0 {
		rows[3][1] = tr.p.paint(ansiRed, rows[3][1])
	}
	if noOwnPool(s) {
		rows = [][]string{{"planrun's pool", tr.p.paint(ansiDim, ownPoolText(s))}}
	}
	if s.Watch {
		tr.table(tableSpec{}, rows)
		return
	}
	if s.Recovery != nil {
		rec := recoveryText(s.Recovery, s.Faults)
		switch {
		case s.Recovery.Recovered():
		case recoveryMeasured(s.Recovery):
			rec = tr.p.paint(ansiRed, rec)
		default: // the load did not test recovery
			rec = tr.p.paint(ansiYellow, rec)
		}
		rows = append(rows, []string{"recovery", rec})
	}
	if s.Cancelled > 0 {
		rows = append(rows, []string{"cancelled", plural(s.Cancelled, "operation", "operations") + " cut short (not counted in ops or errors)"})
	}
	if g := generatorText(s.Generator); g != "" {
		rows = append(rows, []string{"load generator", g})
	}
	cats := errorCategories(s)
	if len(cats) == 0 {
		rows = append(rows, []string{"errors", "0"})
	}
	for _, cat := range cats {
		text := humanize.Int(s.ErrorsBy[cat])
		if sample := s.ErrorSamples[cat]; sample != "" {
			text += ", first: " + sample
		}
		rows = append(rows, []string{"errors: " + printable.Line(cat), text})
	}
	if len(s.SQLStates) > 0 {
		rows = append(rows, []string{"sqlstates", sqlStatesText(s.SQLStates)})
	}
	tr.table(tableSpec{}, rows)
}

// replicas writes one row per replica of a scenario, in replica order:
// acquires, max open, utilization mean / max, exhaustion events / total /
// timeouts. A figure in which a replica stands out for the worse is
// yellow (see worstReplicas): utilization max at 100 %, the longest time
// exhausted, the most timeouts.
func (tr *tableRenderer) replicas(reps []results.Replica) {
	worst := worstReplicas(reps)
	rows := make([][]string, 0, len(reps))
	for i, r := range reps {
		c, w := replicaFigures(r), worst[i]
		mark := func(bad bool, s string) string {
			if bad {
				return tr.p.paint(ansiYellow, s)
			}
			return s
		}
		rows = append(rows, []string{
			c.index, c.acquires, c.maxOpen,
			c.utilMean + " / " + mark(w.utilization, c.utilMax),
			mark(w.exhaustion, c.events+" / "+c.total) + " / " + mark(w.timeouts, c.timeouts),
		})
	}
	r := tw.AlignRight
	tr.table(tableSpec{header: replicaHeader, aligns: []tw.Align{r, r, r, r, r}}, rows)
}

// service writes the service under test's figures, the bad news in red,
// then its leaks, one row each.
func (tr *tableRenderer) service(v *results.Service, watch bool) {
	var rows [][]string
	for _, r := range serviceRows(v, watch) {
		value := r.value
		if r.bad {
			value = tr.p.paint(ansiRed, value)
		}
		rows = append(rows, []string{r.name, value})
	}
	tr.table(tableSpec{}, rows)
	if leaks := serviceLeakRows(v); len(leaks) > 0 {
		l, r := tw.AlignLeft, tw.AlignRight
		tr.table(tableSpec{header: serviceLeakHeader, aligns: []tw.Align{r, l, l, r, l}, widths: map[int]int{4: 60}, rowLines: true}, leaks)
	}
}

// faults writes one row per scheduled fault of a scenario, in plan order:
// what it was, when it was planned and ran, what it did and the recovery
// after it. When a fault failed to apply its time is yellow, when it was
// not reached dim; a recovery that did not come is red, one not measured
// yellow.
func (tr *tableRenderer) faults(faults []results.Fault) {
	rows := make([][]string, 0, len(faults))
	for i, f := range faults {
		row := faultRow(i, f)
		switch f.Status {
		case results.FaultFailed:
			row[3] = tr.p.paint(ansiYellow, row[3])
		case results.FaultNotReached:
			row[3] = tr.p.paint(ansiDim, row[3])
		}
		switch {
		case f.Recovery.Recovered():
		case recoveryMeasured(f.Recovery):
			row[5] = tr.p.paint(ansiRed, row[5])
		case f.Recovery != nil:
			row[5] = tr.p.paint(ansiYellow, row[5])
		}
		rows = append(rows, row)
	}
	l, r := tw.AlignLeft, tw.AlignRight
	tr.table(tableSpec{
		header:   faultHeader,
		aligns:   []tw.Align{r, l, r, r, l, l},
		widths:   map[int]int{1: 28, 4: 36, 5: 33},
		rowLines: true,
	}, rows)
}

// assertions writes one row per evaluation; the name and check show once
// for consecutive evaluations of the same assertion.
func (tr *tableRenderer) assertions(outcomes []results.Outcome) {
	rows := make([][]string, 0, len(outcomes))
	for i, o := range outcomes {
		name, check := outcomeName(o), o.Check
		if isWarning(o) {
			name += " (warning)"
		}
		if i > 0 && outcomes[i-1].Name == o.Name && outcomes[i-1].Check == o.Check && outcomes[i-1].Severity == o.Severity && outcomes[i-1].Builtin == o.Builtin {
			name, check = "", ""
		}
		actual := actualText(o)
		if o.Aborted {
			actual += " (aborted the run)"
		}
		rows = append(rows, []string{
			tr.p.outcome(o, outcomeSymbol(o)), name, check, o.Scenario, tr.p.outcome(o, actual),
		})
	}
	l := tw.AlignLeft
	tr.table(tableSpec{
		header: []string{"", "assertion", "check", "scenario", "actual"},
		aligns: []tw.Align{tw.AlignCenter, l, l, l, l},
		widths: map[int]int{1: 30, 2: 36, 4: 40},
	}, rows)
}

func (tr *tableRenderer) criteria(criteria []results.Criterion) {
	rows := make([][]string, 0, len(criteria))
	for _, c := range criteria {
		status := string(c.Status)
		rows = append(rows, []string{
			tr.p.check(status, checkSymbol(status)+" "+status), c.Name, strings.Join(c.Reasons, "; "),
		})
	}
	tr.table(tableSpec{header: []string{"status", "criterion", "reasons"}}, rows)
}

// verdict ends the report: a rule, the one-sentence summary, and the verdict
// label as the last line.
func (tr *tableRenderer) verdict(run *results.Run) {
	label := verdictLine(run.Verdict)
	line := "✓  " + label
	code := ansiBold + ansiGreen
	switch {
	case run.Verdict.Inconclusive:
		line = "?  " + label
		code = ansiBold + ansiYellow
	case !run.Verdict.Pass:
		line = "✗  " + label
		code = ansiBold + ansiRed
	}
	// The rule follows the label, not an inconclusive verdict's long reason.
	rule := strings.Repeat("═", max(40, len([]rune(verdictLabel(run.Verdict)))+11))
	tr.printf("\n%s\n", rule)
	tr.printf("%s\n", criticalSummary(run))
	tr.printf("%s\n", rule)
	tr.printf("    %s\n", tr.p.paint(code, line))
}
