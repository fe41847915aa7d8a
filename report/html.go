package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/svgchart"
	"github.com/planrun/planrun/results"
)

//go:embed html.tmpl
var htmlSource string

// htmlTemplate is the report page; html/template escapes every text by
// its context.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// HTML writes the report as one self-contained HTML page: inline CSS and
// inline SVG charts, no script, no URL, no font to fetch, so that it opens
// offline from a CI artifact or an e-mail attachment, reads at 1280 px and
// prints. It shows the verdict and the certificate first; then per
// scenario its charts over time (throughput; acquire, query and op
// latencies; the pool against its size and size + overflow), with the
// warm-up's end and the faults marked, the latency distribution as a
// percentile plot decoded from the histograms the report carries, and its
// tables (latencies, operations, pool diagnostics, faults, replicas,
// errors); then every assertion, the preflight checks and the run context.
func HTML(w io.Writer, run *results.Run) error {
	run = printableRun(withMergedBaseNames(run))
	if err := htmlTemplate.Execute(w, newHTMLView(run)); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

// htmlView is what the template shows, every figure already formatted.
type htmlView struct {
	Title        string
	Plan         string
	VerdictClass string // pass, fail, inconclusive
	Verdict      string
	Reason       string // why an inconclusive verdict is so
	Summary      string
	Context      []htmlField
	Teardown     []string
	Criteria     *htmlTable
	Failed       *htmlTable
	FailedTitle  string // "Failed assertions", or "Failed and undecided assertions"
	Overview     *htmlTable
	Scenarios    []htmlScenario
	Assertions   *htmlTable
	// Recommendations is the advice for the pool (nil without one).
	Recommendations *htmlRecommendations
	Preflight       *htmlTable
	RunContext      []htmlField
}

type htmlField struct{ Name, Value string }

// htmlTable is a table; a cell's class colours it (pass, fail, warn).
type htmlTable struct {
	Header []string
	Rows   [][]htmlCell
	// Numeric marks the columns aligned right.
	Numeric []bool
}

type htmlCell struct{ Text, Class string }

// IsNumeric reports whether column i is aligned right.
func (t *htmlTable) IsNumeric(i int) bool { return i < len(t.Numeric) && t.Numeric[i] }

// CellClass is the class of cell c in column i: its own, else "num" for
// a numeric column.
func (t *htmlTable) CellClass(i int, c htmlCell) string {
	if c.Class != "" {
		return c.Class
	}
	if t.IsNumeric(i) {
		return "num"
	}
	return ""
}

type htmlChart struct {
	SVG     template.HTML // from svgchart, which escapes every text
	Caption string
}

type htmlScenario struct {
	Name       string
	ID         string
	Notes      string
	Figures    []htmlField
	Charts     []htmlChart
	Latencies  *htmlTable
	Operations *htmlTable
	Pool       []htmlField
	Faults     *htmlTable
	Replicas   *htmlTable
	Errors     *htmlTable
	// Service is the service under test's section (nil without one).
	Service *htmlService
}

// htmlService is the service under test's figures and its leaks.
type htmlService struct {
	Fields []htmlServiceField
	Leaks  *htmlTable
}

// htmlServiceField is one figure of the service; Bad marks bad news.
type htmlServiceField struct {
	Name, Value string
	Bad         bool
}

func newHTMLView(run *results.Run) htmlView {
	v := htmlView{
		Title:   verdictLabel(run.Verdict) + " — " + run.Plan.Name,
		Plan:    run.Plan.Name,
		Verdict: verdictLabel(run.Verdict),
		Summary: criticalSummary(run),
	}
	if run.Verdict.Inconclusive {
		v.Reason = run.Verdict.Reason
	}
	switch {
	case run.Verdict.Inconclusive:
		v.VerdictClass = "inconclusive"
	case run.Verdict.Pass:
		v.VerdictClass = "pass"
	default:
		v.VerdictClass = "fail"
	}
	status := string(run.Status)
	if !run.StartedAt.IsZero() && !run.FinishedAt.IsZero() {
		status += " in " + humanize.Duration(run.FinishedAt.Sub(run.StartedAt))
	}
	target := targetURL(run)
	if run.Target.ServerVersion != "" {
		target += " · PostgreSQL " + run.Target.ServerVersion
	}
	v.Context = []htmlField{{"Plan", run.Plan.Name + " (" + run.Plan.File + ")"}, {"Target", target}}
	if n := networkText(run.Target.Network); n != "" {
		v.Context = append(v.Context, htmlField{"Network", n})
	}
	v.Context = append(v.Context, htmlField{"Pool", poolLine(run)}, htmlField{"Status", status})
	if seg := segmentText(run.Segment); seg != "" {
		v.Context = append(v.Context, htmlField{"Run", seg})
	}
	if mt := mergedText(run.Merged, func(s string) string { return s }); mt != "" {
		v.Context = append(v.Context, htmlField{"Run", mt})
	}
	if run.TeardownError != "" {
		v.Teardown = strings.Split(run.TeardownError, "\n")
	}
	if len(run.Verdict.Criteria) > 0 {
		v.Criteria = criteriaTable(run.Verdict.Criteria)
	}
	var notable []results.Outcome
	v.FailedTitle = "Failed assertions"
	for _, o := range run.Assertions {
		if failed(o) || warned(o) || undecided(o) {
			notable = append(notable, o)
		}
		if undecided(o) {
			v.FailedTitle = "Failed and undecided assertions"
		}
	}
	if len(notable) > 0 {
		v.Failed = assertionsTable(notable)
	}
	if len(run.Scenarios) > 0 {
		v.Overview = overviewTable(run.Scenarios)
	}
	for i, s := range run.Scenarios {
		v.Scenarios = append(v.Scenarios, newHTMLScenario(run, s, i))
	}
	if len(run.Assertions) > 0 {
		v.Assertions = assertionsTable(run.Assertions)
	}
	if len(run.Preflight) > 0 {
		t := &htmlTable{Header: []string{"", "check", "reason"}}
		for _, c := range run.Preflight {
			name := c.Name
			if c.Critical {
				name += " (critical)"
			}
			t.Rows = append(t.Rows, []htmlCell{{checkSymbol(string(c.Status)), string(c.Status)}, {Text: name}, {Text: c.Reason}})
		}
		v.Preflight = t
	}
	v.RunContext = runContextFields(run)
	v.Recommendations = newHTMLRecommendations(run)
	return v
}

func criteriaTable(criteria []results.Criterion) *htmlTable {
	t := &htmlTable{Header: []string{"", "criterion", "reasons"}}
	for _, c := range criteria {
		t.Rows = append(t.Rows, []htmlCell{{checkSymbol(string(c.Status)), string(c.Status)}, {Text: c.Name}, {Text: strings.Join(c.Reasons, "; ")}})
	}
	return t
}

// outcomeClass colours an outcome: pass, fail (critical), warn (a warning
// or an undecided outcome), skipped.
func outcomeClass(o results.Outcome) string {
	switch {
	case undecided(o):
		return "warn"
	case o.Status == results.OutcomePass:
		return "pass"
	case failed(o):
		return "fail"
	case warned(o):
		return "warn"
	}
	return "skipped"
}

func assertionsTable(outcomes []results.Outcome) *htmlTable {
	t := &htmlTable{Header: []string{"", "status", "assertion", "scenario", "actual", "check"}}
	for _, o := range outcomes {
		name := outcomeName(o)
		if isWarning(o) {
			name += " (warning)"
		}
		if o.Aborted {
			name += " (aborted the run)"
		}
		class := outcomeClass(o)
		t.Rows = append(t.Rows, []htmlCell{{outcomeSymbol(o), class}, {string(o.Status), class}, {Text: name}, {Text: o.Scenario},
			{Text: actualText(o)}, {Text: o.Check, Class: "code"}})
	}
	return t
}

func overviewTable(scenarios []results.Scenario) *htmlTable {
	t := &htmlTable{Header: append([]string{"scenario", "status"}, headers(htmlOverviewColumns...)...),
		Numeric: []bool{false, false}}
	for range htmlOverviewColumns {
		t.Numeric = append(t.Numeric, true)
	}
	for _, s := range scenarios {
		row := []htmlCell{{Text: s.Name}, {Text: string(s.Status)}}
		for _, v := range cells(&s, htmlOverviewColumns...) {
			row = append(row, htmlCell{Text: v})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// htmlOverviewColumns are the figures of the HTML overview table.
var htmlOverviewColumns = append(slices.Clip(loadColumns), "acquire.p95", "acquire.p99", "query.p95", "op.p95", "op.p99")

func newHTMLScenario(run *results.Run, s results.Scenario, i int) htmlScenario {
	hs := htmlScenario{Name: s.Name, ID: fmt.Sprintf("scenario-%d", i+1)}
	var notes []string
	if s.Status != results.StatusCompleted {
		notes = append(notes, string(s.Status))
	}
	if w := warmupText(s); w != "" {
		notes = append(notes, w)
	}
	hs.Notes = strings.Join(notes, ", ")
	users := "users (peak)"
	if s.Model == results.ModelOpen {
		users = "in flight (peak)"
	}
	hs.Figures = []htmlField{{users, cells(&s, "users")[0]}}
	rest := slices.DeleteFunc(slices.Clone(loadColumns), func(n string) bool { return n == "users" })
	for i, v := range cells(&s, rest...) {
		hs.Figures = append(hs.Figures, htmlField{headers(rest...)[i], v})
	}
	if s.Model == results.ModelOpen {
		hs.Figures = append(hs.Figures, htmlField{"target rate", humanize.Rate(s.Rate) + "/s"}, htmlField{"dropped", humanize.Int(s.Dropped)})
	}
	if len(s.Series) > 0 {
		if !s.Watch { // a watch runs no load: flat zeros
			hs.Charts = append(hs.Charts, throughputChart(s), latencyOverTimeChart(s))
		}
		if !s.HTTPOnly { // planrun's pool took no load: a flat zero; a watch's series are the service's backends
			hs.Charts = append(hs.Charts, poolChart(run, s))
		}
	}
	if !s.Watch {
		hs.Charts = append(hs.Charts, percentileChart(s))
		hs.Latencies = latencyTable(s)
	}
	if len(s.Operations) > 0 {
		hs.Operations = operationsTable(s)
	}
	hs.Pool = poolFields(s)
	if len(s.Faults) > 0 {
		t := &htmlTable{Header: faultHeader, Numeric: []bool{true, false, true, false, false, false}}
		for i, f := range s.Faults {
			var row []htmlCell
			for _, c := range faultRow(i, f) {
				row = append(row, htmlCell{Text: c})
			}
			t.Rows = append(t.Rows, row)
		}
		hs.Faults = t
	}
	if hasReplicaBreakdown(s) {
		t := &htmlTable{Header: replicaHeader, Numeric: []bool{true, true, true, true, true}}
		worst := worstReplicas(s.Replicas)
		for i, r := range s.Replicas {
			c, w := replicaFigures(r), worst[i]
			mark := func(bad bool) string {
				if bad {
					return "fail"
				}
				return ""
			}
			t.Rows = append(t.Rows, []htmlCell{{Text: c.index}, {Text: c.acquires}, {Text: c.maxOpen},
				{c.utilMean + " / " + c.utilMax, mark(w.utilization)},
				{c.events + " / " + c.total + " / " + c.timeouts, mark(w.exhaustion || w.timeouts)}})
		}
		hs.Replicas = t
	}
	if v := s.Service; v != nil {
		hs.Service = &htmlService{}
		for _, r := range serviceRows(v, s.Watch) {
			hs.Service.Fields = append(hs.Service.Fields, htmlServiceField{r.name, r.value, r.bad})
		}
		if rows := serviceLeakRows(v); len(rows) > 0 {
			t := &htmlTable{Header: serviceLeakHeader, Numeric: []bool{true, false, false, true, false}}
			for _, r := range rows {
				t.Rows = append(t.Rows, []htmlCell{{Text: r[0]}, {Text: r[1]}, {Text: r[2]}, {Text: r[3]}, {r[4], "code"}})
			}
			hs.Service.Leaks = t
		}
	}
	if cats := errorCategories(s); len(cats) > 0 {
		t := &htmlTable{Header: []string{"category", "count", "first sample"}, Numeric: []bool{false, true, false}}
		for _, cat := range cats {
			t.Rows = append(t.Rows, []htmlCell{{Text: cat}, {Text: humanize.Int(s.ErrorsBy[cat])}, {s.ErrorSamples[cat], "code"}})
		}
		for _, code := range sortedKeys(s.SQLStates, nil) {
			t.Rows = append(t.Rows, []htmlCell{{Text: "SQLSTATE " + code}, {Text: humanize.Int(s.SQLStates[code])}, {}})
		}
		hs.Errors = t
	}
	return hs
}

// timeSteps are the tick steps of a time axis, in seconds.
var timeSteps = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400}

// svgTimeAxis is the X axis of the charts over time, in seconds from the
// scenario's start.
func svgTimeAxis() svgchart.Axis {
	return svgchart.Axis{Label: "time", Steps: timeSteps, Format: func(v float64) string {
		return humanize.Elapsed(time.Duration(v * float64(time.Second)))
	}}
}

// rateText is a rate per second: whole numbers as integers, others as
// [humanize.Rate].
func rateText(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return humanize.Int(int64(v))
	}
	return humanize.Rate(v)
}

// durationAxis is a Y axis of latencies, in nanoseconds.
func durationAxis(label string) svgchart.Axis {
	return svgchart.Axis{Label: label, Format: func(v float64) string { return humanize.Duration(time.Duration(v)) }}
}

// markers are the warm-up's end and each fault that ran (numbered as in
// the faults table), on the charts over time.
func markers(s results.Scenario) []svgchart.Marker {
	var ms []svgchart.Marker
	if s.Warmup > 0 {
		ms = append(ms, svgchart.Marker{From: s.Warmup.Seconds(), To: s.Warmup.Seconds(), Label: "warm-up ends"})
	}
	for i, f := range s.Faults {
		if f.Status != results.FaultApplied && f.Status != results.FaultFailed {
			continue
		}
		label := fmt.Sprintf("⚡%d %s", i+1, f.Kind)
		if f.Status == results.FaultFailed {
			label += " (failed)"
		}
		ms = append(ms, svgchart.Marker{From: f.Started.Seconds(), To: f.Ended.Seconds(), Label: label})
	}
	return ms
}

// markerCaption says what the markers are.
func markerCaption(s results.Scenario) string {
	var parts []string
	if s.Warmup > 0 {
		parts = append(parts, "the dashed red line marks the warm-up's end (left out of every figure but these charts)")
	}
	if len(s.Faults) > 0 {
		parts = append(parts, "⚡ marks each fault that ran, shaded over its span, numbered as in the faults table")
	}
	if len(parts) == 0 {
		return ""
	}
	text := strings.Join(parts, "; ") + "."
	if text[0] >= 'a' && text[0] <= 'z' {
		text = strings.ToUpper(text[:1]) + text[1:]
	}
	return text
}

func withCaption(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// throughputChart is ops/s and errors/s per step, each divided by that
// step's own length (the last, partial step by its real length).
func throughputChart(s results.Scenario) htmlChart {
	var ops, errs []svgchart.Point
	for _, sp := range spans(s.Series) {
		if r, ok := sp.rate(); ok {
			e, _ := sp.perSecond(sp.Errors)
			ops = append(ops, svgchart.Point{X: sp.T.Seconds(), Y: r})
			errs = append(errs, svgchart.Point{X: sp.T.Seconds(), Y: e})
		}
	}
	c := svgchart.Chart{
		Title:   "Throughput",
		X:       svgTimeAxis(),
		Y:       svgchart.Axis{Label: "per second", Format: rateText},
		Series:  []svgchart.Series{{Name: "ops/s", Points: ops}, {Name: "errors/s", Points: errs}},
		Markers: markers(s),
	}
	return htmlChart{SVG: template.HTML(c.SVG()), Caption: withCaption(
		"Operations (failed ones included) and errors per second, each point over its own step ("+humanize.Exact(s.SeriesStep)+", the last one possibly shorter).",
		markerCaption(s))}
}

// latencyOverTimeChart is the per-step latency percentiles the series carries.
func latencyOverTimeChart(s results.Scenario) htmlChart {
	pick := func(f func(results.Point) time.Duration) []svgchart.Point {
		pts := make([]svgchart.Point, 0, len(s.Series))
		for _, p := range s.Series {
			pts = append(pts, svgchart.Point{X: p.T.Seconds(), Y: float64(f(p))})
		}
		return pts
	}
	c := svgchart.Chart{
		Title: "Latency over time",
		X:     svgTimeAxis(),
		Y:     durationAxis("latency"),
		Series: []svgchart.Series{
			{Name: "acquire p95", Points: pick(func(p results.Point) time.Duration { return p.AcquireP95 })},
			{Name: "acquire p99", Points: pick(func(p results.Point) time.Duration { return p.AcquireP99 }), Dashed: true, Color: svgchart.Palette[0]},
			{Name: "query p95", Points: pick(func(p results.Point) time.Duration { return p.QueryP95 })},
			{Name: "op p95", Points: pick(func(p results.Point) time.Duration { return p.OpP95 })},
		},
		Markers: markers(s),
	}
	what := "Per step, the report records acquire p95 and p99, query p95 and op p95; query and op p99 per step are not recorded (their p99 over the scenario is in the latency table)."
	if s.HTTPOnly { // planrun's own pool took no load: acquire and query are flat zeros
		c.Series = c.Series[3:]
		what = "Per step, the requests' p95 (op p95); the scenario sent only HTTP requests, so planrun's own pool took no load (no acquire or query)."
	}
	return htmlChart{SVG: template.HTML(c.SVG()), Caption: withCaption(what, markerCaption(s))}
}

// poolChart is the pool's connections over time against its size and
// size + overflow (times the replicas, each with a pool of its own).
func poolChart(run *results.Run, s results.Scenario) htmlChart {
	pick := func(f func(results.Point) int) []svgchart.Point {
		pts := make([]svgchart.Point, 0, len(s.Series))
		for _, p := range s.Series {
			pts = append(pts, svgchart.Point{X: p.T.Seconds(), Y: float64(f(p))})
		}
		return pts
	}
	replicas := max(1, len(s.Replicas))
	size, capacity := run.Pool.Size*replicas, run.Pool.Capacity()*replicas
	sizeLabel, capLabel := fmt.Sprintf("size %d", size), fmt.Sprintf("size + overflow %d", capacity)
	if replicas > 1 {
		sizeLabel = fmt.Sprintf("size %d × %d", run.Pool.Size, replicas)
		capLabel = fmt.Sprintf("capacity %d × %d", run.Pool.Capacity(), replicas)
	}
	levels := []svgchart.Level{{Y: float64(size), Label: sizeLabel}}
	if capacity != size {
		levels = append(levels, svgchart.Level{Y: float64(capacity), Label: capLabel})
	}
	c := svgchart.Chart{
		Title: "Pool",
		X:     svgTimeAxis(),
		Y:     svgchart.Axis{Label: "connections / waiting", Format: func(v float64) string { return humanize.Int(int64(v)) }},
		Series: []svgchart.Series{
			{Name: "in use", Points: pick(func(p results.Point) int { return p.InUse })},
			{Name: "waiting", Points: pick(func(p results.Point) int { return p.Waiting })},
			{Name: "idle", Points: pick(func(p results.Point) int { return p.Idle })},
			{Name: "open", Points: pick(func(p results.Point) int { return p.Total }), Dashed: true, Color: "#777"},
		},
		Levels:  levels,
		Markers: markers(s),
	}
	what := "Connections in use, idle and open, and acquires waiting, sampled at the end of each step, against the pool's size and size + overflow"
	if replicas > 1 {
		what += fmt.Sprintf(" summed over the %d replicas (each a pool of its own)", replicas)
	}
	return htmlChart{SVG: template.HTML(c.SVG()), Caption: withCaption(what+".", markerCaption(s))}
}

// percentileChart is the classic HdrHistogram percentile plot of the
// scenario's acquire, query and op latencies, from the histograms the
// report carries.
func percentileChart(s results.Scenario) htmlChart {
	var series []svgchart.Series
	var missing []string
	for _, ph := range []struct {
		name string
		l    results.Latency
	}{{"acquire", s.Acquire}, {"query", s.Query}, {"op", s.Op}} {
		if ph.l.Count == 0 {
			continue
		}
		pts, err := percentileCurve(ph.l)
		if err != nil {
			missing = append(missing, ph.name+" ("+err.Error()+")")
			continue
		}
		series = append(series, svgchart.Series{Name: ph.name, Points: pts})
	}
	caption := "Each phase's latency at every percentile, from p0 to p99.999 on a log scale, read from the histograms the report carries (warm-up left out)."
	if len(missing) > 0 {
		caption += " Not drawn: " + strings.Join(missing, "; ") + "."
	}
	if len(series) == 0 {
		return htmlChart{Caption: "Latency by percentile: nothing to draw. " + caption}
	}
	c := svgchart.Chart{Title: "Latency by percentile", X: svgchart.PercentileAxis(), Y: durationAxis("latency"), Series: series}
	return htmlChart{SVG: template.HTML(c.SVG()), Caption: caption}
}

// percentileCurve is the percentile plot's curve of l's histogram.
func percentileCurve(l results.Latency) ([]svgchart.Point, error) {
	h, err := hdr.Decode(l)
	if err != nil {
		return nil, err
	}
	return svgchart.PercentileCurve(func(q float64) float64 { return float64(h.ValueAtQuantile(q * 100)) }), nil
}

func latencyTable(s results.Scenario) *htmlTable {
	t := &htmlTable{Header: append([]string{"phase"}, latencyMembers...), Numeric: []bool{false}}
	for range latencyMembers {
		t.Numeric = append(t.Numeric, true)
	}
	for _, ph := range latencyPhases {
		row := []htmlCell{{Text: ph}}
		for _, m := range latencyMembers {
			row = append(row, htmlCell{Text: cells(&s, ph+"."+m)[0]})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// htmlOperationColumns are the figures of the HTML per-operation table.
var htmlOperationColumns = []string{"ops", "errors", "success_rate", "acquire.p95", "query.p95", "op.p95", "op.p99"}

func operationsTable(s results.Scenario) *htmlTable {
	t := &htmlTable{Header: append([]string{"operation", "weight", "share"}, opHeaders(htmlOperationColumns...)...),
		Numeric: []bool{false, true, true}}
	for range htmlOperationColumns {
		t.Numeric = append(t.Numeric, true)
	}
	for _, op := range s.Operations {
		row := []htmlCell{{Text: op.Name}, {Text: formatFloat(op.Weight)}, {Text: humanize.Percent(op.Share)}}
		for _, v := range opCells(&op, htmlOperationColumns...) {
			row = append(row, htmlCell{Text: v})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func poolFields(s results.Scenario) []htmlField {
	fields := []htmlField{
		{"connections", connectionsText(s.Connections)},
		{"utilization", utilizationText(s.Utilization)},
		{"exhaustion", exhaustionText(s.Exhaustion)},
		{"leaks", leaksText(s)},
		{"recovery", recoveryText(s.Recovery, s.Faults)},
	}
	if noOwnPool(s) {
		fields = []htmlField{{"planrun's pool", ownPoolText(s)}, fields[4]}
	}
	if s.Cancelled > 0 {
		fields = append(fields, htmlField{"cancelled (not errors)", humanize.Int(s.Cancelled)})
	}
	if s.Model == results.ModelOpen {
		fields = append(fields, htmlField{"start " + headers("lag.p99")[0], cells(&s, "lag.p99")[0]},
			htmlField{"in flight", fmt.Sprintf("mean %.1f, max %d", s.InFlight.Mean, s.InFlight.Max)})
	}
	if g := generatorText(s.Generator); g != "" {
		fields = append(fields, htmlField{"load generator", g})
	}
	for _, nc := range s.NotChecked {
		fields = append(fields, htmlField{"not checked: " + nc.Check, nc.Reason})
	}
	return fields
}

func runContextFields(run *results.Run) []htmlField {
	sha := run.Plan.SHA256
	if len(sha) > 12 {
		sha = sha[:12]
	}
	fields := []htmlField{
		{"planrun", run.PlanrunVersion},
		{"plan", run.Plan.Name + " " + run.Plan.File + ", sha256 " + sha},
	}
	if run.Plan.Description != "" {
		fields = append(fields, htmlField{"description", run.Plan.Description})
	}
	fields = append(fields, htmlField{"started", formatTime(run.StartedAt)}, htmlField{"finished", formatTime(run.FinishedAt)},
		htmlField{"status", string(run.Status)})
	if run.StatusReason != "" {
		fields = append(fields, htmlField{"status reason", run.StatusReason})
	}
	fields = append(fields, htmlField{"time scale", formatFloat(run.TimeScale)})
	if run.Seed != 0 {
		fields = append(fields, htmlField{"seed", fmt.Sprint(run.Seed)})
	}
	return append(fields, htmlField{"target", targetURL(run)}, htmlField{"pool", poolDetail(run.Pool)})
}
