package tune

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/svgchart"
	"github.com/planrun/planrun/results"
)

// Formats are the output formats of a tuning, the default first.
var Formats = []string{"table", "markdown", "json", "html"}

// Render writes t in format (one of Formats).
func Render(w io.Writer, format string, t *results.Tuning) error {
	switch format {
	case "table":
		var b strings.Builder
		TableHeader(&b)
		for _, tr := range t.Tries {
			TableRow(&b, tr)
		}
		TableSummary(&b, t)
		_, err := io.WriteString(w, b.String())
		return err
	case "markdown":
		return Markdown(w, t)
	case "json":
		b, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the tuning: %w", err)
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case "html":
		return HTML(w, t)
	}
	return fmt.Errorf("unknown format %q; use one of %s", format, strings.Join(Formats, ", "))
}

// tableFormat lays out the columns of a table row.
const tableFormat = "%-10s %-16s %11s %11s %14s %8s %-13s %9s  %s"

// TableHeader writes the header of the table's rows.
func TableHeader(w io.Writer) {
	tableLine(w, "size+over", "why", "acquire p95", "acquire p99", "timeouts", "success", "verdict", "predicted", "why not")
}

func tableLine(w io.Writer, cells ...any) {
	fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf(tableFormat, cells...), " "))
}

// TableRow writes one try as a row of the table (written as each
// completes, so that a long tuning shows its progress).
func TableRow(w io.Writer, tr results.TuningTry) {
	why, acq95, acq99, timeouts, success := figures(tr)
	tableLine(w, fmt.Sprintf("%d+%d", tr.Size, tr.MaxOverflow), why, acq95, acq99, timeouts, success, tr.Verdict, predicted(tr), whyNot(tr))
}

// figures are a try's cells in every format: why it ran (" (again)" for
// the repeat of an inconclusive one), its acquire p95 and p99, timeouts
// and success rate ("—" when it did not run to a verdict).
func figures(tr results.TuningTry) (why, acq95, acq99, timeouts, success string) {
	why = tr.Why
	if tr.Repeat {
		why += " (again)"
	}
	acq95, acq99, timeouts, success = "—", "—", "—", "—"
	if measured(tr) {
		acq95, acq99 = humanize.Duration(tr.AcquireP95), humanize.Duration(tr.AcquireP99)
		timeouts = humanize.Int(tr.Timeouts) + " (" + humanize.Percent(tr.TimeoutRate) + ")"
		success = humanize.Percent(tr.SuccessRate)
	}
	return why, acq95, acq99, timeouts, success
}

// whyNot is a try's reason when it did not pass.
func whyNot(tr results.TuningTry) string {
	if tr.Verdict == results.TunePass {
		return ""
	}
	return printable.Line(tr.Reason)
}

// TableSummary writes the smallest passing configuration and why tune stopped.
func TableSummary(w io.Writer, t *results.Tuning) {
	fmt.Fprintln(w)
	for _, line := range summary(t) {
		fmt.Fprintln(w, printable.Line(line))
	}
}

// measured reports whether the try ran to a verdict, so its figures mean something.
func measured(tr results.TuningTry) bool {
	return tr.Verdict == results.TunePass || tr.Verdict == results.TuneFail || tr.Verdict == results.TuneInconclusive
}

func predicted(tr results.TuningTry) string {
	if tr.PredictedP95 <= 0 {
		return "—"
	}
	return humanize.Duration(tr.PredictedP95)
}

// summary is what the tuning found, in sentences.
func summary(t *results.Tuning) []string {
	stated := fmt.Sprintf("The plan states pool.size %d, max_overflow %d", t.Stated.Size, t.Stated.MaxOverflow)
	if m := t.Model; m != nil {
		stated += fmt.Sprintf("; the model recommended pool.size %d, max_overflow %d", m.Size, m.MaxOverflow)
	}
	out := []string{stated + "."}
	if s := t.Smallest; s != nil {
		out = append(out, fmt.Sprintf("Smallest passing configuration: pool.size %d, max_overflow %d (%d connections).", s.Size, s.MaxOverflow, s.Size+s.MaxOverflow))
	} else {
		out = append(out, "No configuration tried passed.")
	}
	if line := confirmation(t); line != "" {
		out = append(out, line)
	}
	out = append(out, t.ExitReason)
	if t.Note != "" {
		out = append(out, t.Note)
	}
	return out
}

// confirmation says whether the runs confirmed the model's recommendation
// (Confirms), with the evidence: the smallest passing configuration and the
// largest failing one with fewer connections. Empty without a
// recommendation.
func confirmation(t *results.Tuning) string {
	m := t.Model
	if m == nil {
		return ""
	}
	model := fmt.Sprintf("The model's recommendation (size %d + %d)", m.Size, m.MaxOverflow)
	s := t.Smallest
	switch {
	case s == nil:
		return model + " was not confirmed: no configuration tried passed."
	case t.Exit != "found":
		return model + " was neither confirmed nor refuted: the search stopped before it proved the smallest passing configuration."
	}
	evidence := evidence(t, *s)
	if Confirms(Config{Size: m.Size, MaxOverflow: m.MaxOverflow}, Config{Size: s.Size, MaxOverflow: s.MaxOverflow}) {
		return model + " confirmed by runs: " + evidence + "."
	}
	d := (s.Size + s.MaxOverflow) - (m.Size + m.MaxOverflow)
	more := "more"
	if d < 0 {
		d, more = -d, "fewer"
	}
	return fmt.Sprintf("%s not confirmed by runs: %s (%d connections %s than recommended).", model, evidence, d, more)
}

// evidence is "3 + 0 fails, 4 + 0 passes": the largest configuration with
// fewer connections than smallest that conclusively failed (its last
// conclusive try), and smallest.
func evidence(t *results.Tuning, s results.TuningConfig) string {
	n := s.Size + s.MaxOverflow
	var fail *results.TuningTry
	last := map[results.TuningConfig]results.TuningTry{}
	for _, tr := range t.Tries {
		if tr.Verdict == results.TunePass || tr.Verdict == results.TuneFail {
			last[results.TuningConfig{Size: tr.Size, MaxOverflow: tr.MaxOverflow}] = tr
		}
	}
	for _, tr := range t.Tries {
		if c := tr.Size + tr.MaxOverflow; c < n && last[results.TuningConfig{Size: tr.Size, MaxOverflow: tr.MaxOverflow}].Verdict == results.TuneFail &&
			(fail == nil || c > fail.Size+fail.MaxOverflow) {
			fail = &tr
		}
	}
	pass := fmt.Sprintf("size %d + %d passes", s.Size, s.MaxOverflow)
	if fail == nil {
		return pass + ", and none with fewer connections was seen to fail"
	}
	return fmt.Sprintf("size %d + %d fails, %s", fail.Size, fail.MaxOverflow, pass)
}

// chartPoint is one configuration on the chart: measured and predicted
// acquire p95 (predicted 0: none) at Connections.
type chartPoint struct {
	Connections         int
	Measured, Predicted time.Duration
}

// chartPoints are the tries with figures, one per number of connections
// (the last try wins), in increasing connections.
func chartPoints(t *results.Tuning) []chartPoint {
	by := map[int]chartPoint{}
	for _, tr := range t.Tries {
		if !measured(tr) {
			continue
		}
		n := tr.Size + tr.MaxOverflow
		p := chartPoint{Connections: n, Measured: tr.AcquireP95, Predicted: tr.PredictedP95}
		if p.Predicted == 0 {
			p.Predicted = by[n].Predicted
		}
		by[n] = p
	}
	out := make([]chartPoint, 0, len(by))
	for _, p := range by {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b chartPoint) int { return a.Connections - b.Connections })
	return out
}

// chartCaption says what the chart shows.
const chartCaption = "Acquire p95 by pool connections (size + max_overflow): the line is what each run measured, the bars what the model predicted (none where there is no bar)."

// Markdown writes t as a markdown section: the tries, the summary, and a
// mermaid chart of measured against predicted acquire p95.
func Markdown(w io.Writer, t *results.Tuning) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Tuning %s: scenario %s\n\n", markdown.Text(t.Plan.Name), markdown.Code(t.Scenario))
	for _, line := range summary(t) {
		b.WriteString(markdown.Text(line) + "\n\n")
	}
	rows := make([][]string, 0, len(t.Tries))
	for _, tr := range t.Tries {
		why, acq95, acq99, timeouts, success := figures(tr)
		rows = append(rows, []string{strconv.Itoa(tr.Size), strconv.Itoa(tr.MaxOverflow), why, acq95, acq99,
			markdown.Text(timeouts), success, verdictCell(tr), predicted(tr)})
	}
	if err := markdown.Table(&b, []string{"size", "max_overflow", "why", "acquire p95", "acquire p99", "timeouts", "success", "verdict", "predicted p95"},
		"rrlrrrrlr", rows); err != nil {
		return err
	}
	mermaidChart(&b, chartPoints(t))
	_, err := io.WriteString(w, b.String())
	return err
}

func verdictCell(tr results.TuningTry) string {
	if tr.Reason == "" || tr.Verdict == results.TunePass {
		return tr.Verdict
	}
	return tr.Verdict + ": " + markdown.Text(tr.Reason)
}

// mermaidChart writes the chart as a mermaid xychart: the measured p95 as a
// line, the predicted as bars, over the connections tried (a categorical
// axis: the sizes a bisection tries are not evenly spaced).
func mermaidChart(b *strings.Builder, pts []chartPoint) {
	if len(pts) == 0 {
		return
	}
	var largest time.Duration
	for _, p := range pts {
		largest = max(largest, p.Measured, p.Predicted)
	}
	unit, name := durationUnit(largest)
	labels := make([]string, len(pts))
	meas := make([]string, len(pts))
	pred := make([]string, len(pts))
	anyPred := false
	for i, p := range pts {
		labels[i] = `"` + strconv.Itoa(p.Connections) + `"`
		meas[i] = chartNumber(float64(p.Measured) / float64(unit))
		pred[i] = chartNumber(float64(p.Predicted) / float64(unit))
		anyPred = anyPred || p.Predicted > 0
	}
	b.WriteString("```mermaid\n---\nconfig:\n  xyChart:\n    width: 900\n    height: 360\n")
	b.WriteString("  themeVariables:\n    xyChart:\n      plotColorPalette: \"#bab0ac, #f28e2b\"\n---\nxychart-beta\n")
	b.WriteString("  title \"acquire p95: measured and predicted\"\n")
	fmt.Fprintf(b, "  x-axis \"connections (size + max_overflow)\" [%s]\n", strings.Join(labels, ", "))
	fmt.Fprintf(b, "  y-axis \"acquire p95 (%s)\" 0 --> %s\n", name, chartNumber(niceCeil(float64(largest)/float64(unit))))
	if !anyPred {
		for i := range pred {
			pred[i] = "0"
		}
	}
	fmt.Fprintf(b, "  bar [%s]\n", strings.Join(pred, ", "))
	fmt.Fprintf(b, "  line [%s]\n", strings.Join(meas, ", "))
	b.WriteString("```\n\n")
	b.WriteString(markdown.Text(chartCaption) + "\n")
}

// durationUnit is the unit the largest of a chart's durations reads best in.
func durationUnit(largest time.Duration) (time.Duration, string) {
	switch {
	case largest < time.Millisecond:
		return time.Microsecond, "µs"
	case largest < time.Second:
		return time.Millisecond, "ms"
	}
	return time.Second, "s"
}

// chartNumber renders v plainly with three significant digits (0 for NaN
// and infinities).
func chartNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return "0"
	}
	if math.Abs(v) >= 100 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// niceCeil is a round axis top at or above v: 1, 2, 2.5, 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// HTML writes t as a self-contained HTML page: the summary, the tries and
// an SVG chart of measured against predicted acquire p95.
func HTML(w io.Writer, t *results.Tuning) error {
	esc := func(s string) string { return html.EscapeString(printable.String(s)) }
	var b strings.Builder
	title := "planrun tune: " + t.Plan.Name + ", scenario " + t.Scenario
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", esc(title))
	b.WriteString("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}" +
		"td,th{border:1px solid #ccc;padding:.25em .6em}td.n{text-align:right}.pass{color:#1a7f37}.fail{color:#cf222e}</style>\n</head>\n<body>\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(title))
	for _, line := range summary(t) {
		fmt.Fprintf(&b, "<p>%s</p>\n", esc(line))
	}
	b.WriteString("<table>\n<tr><th>size</th><th>max_overflow</th><th>why</th><th>acquire p95</th><th>acquire p99</th><th>timeouts</th><th>success</th><th>verdict</th><th>predicted p95</th></tr>\n")
	for _, tr := range t.Tries {
		why, acq95, acq99, timeouts, success := figures(tr)
		verdict := tr.Verdict
		if tr.Reason != "" && tr.Verdict != results.TunePass {
			verdict += ": " + tr.Reason
		}
		fmt.Fprintf(&b, "<tr><td class=\"n\">%d</td><td class=\"n\">%d</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"%s\">%s</td><td class=\"n\">%s</td></tr>\n",
			tr.Size, tr.MaxOverflow, esc(why), acq95, acq99, timeouts, success, esc(tr.Verdict), esc(verdict), predicted(tr))
	}
	b.WriteString("</table>\n")
	if pts := chartPoints(t); len(pts) > 0 {
		var meas, pred []svgchart.Point
		for _, p := range pts {
			meas = append(meas, svgchart.Point{X: float64(p.Connections), Y: float64(p.Measured)})
			if p.Predicted > 0 {
				pred = append(pred, svgchart.Point{X: float64(p.Connections), Y: float64(p.Predicted)})
			}
		}
		dur := func(v float64) string { return humanize.Duration(time.Duration(v)) }
		c := svgchart.Chart{
			Title: "acquire p95: measured and predicted",
			X:     svgchart.Axis{Label: "connections (size + max_overflow)", Format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }},
			Y:     svgchart.Axis{Label: "acquire p95", Format: dur},
			Series: []svgchart.Series{
				{Name: "measured", Points: meas},
				{Name: "predicted", Points: pred, Dashed: true},
			},
		}
		fmt.Fprintf(&b, "<figure>\n%s\n<figcaption>Acquire p95 by pool connections (size + max_overflow): measured by each run (solid), predicted by the model (dashed, where it predicted).</figcaption>\n</figure>\n", c.SVG())
	}
	b.WriteString("</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
