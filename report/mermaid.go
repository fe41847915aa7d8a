package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/results"
)

// Limits of the markdown charts. GitHub renders a mermaid block of a few
// hundred points slowly and its time axis unreadably, and refuses a
// comment over 65,536 characters.
const (
	// maxChartPoints bounds the points of one chart: a longer series is
	// merged into at most this many (see downsample).
	maxChartPoints = 100
	// maxChartedScenarios bounds the scenarios that get charts.
	maxChartedScenarios = 8
	// chartBudget bounds the characters all the charts of one report take,
	// so that with the tables the markdown stays under GitHub's comment limit.
	chartBudget = 36_000
)

// Colors of the charts' plots, in the order of their bars and lines
// (mermaid's xychart has no legend: the caption names them).
const (
	colorOps      = "#4e79a7" // blue
	colorAcquire  = "#f28e2b" // orange
	colorInUse    = "#4e79a7" // blue
	colorWaiting  = "#e15759" // red
	colorCapacity = "#79706e" // grey
	colorSize     = "#bab0ac" // light grey
)

// span is one or more consecutive points of a scenario's time series over
// their real interval (From, T]: merged as results.CombinePoints merges consecutive points.
type span struct {
	From time.Duration
	results.Point
}

// rate is the span's operations per second of its real interval; ok is
// false when the interval is empty (two points at the same offset).
func (s span) rate() (r float64, ok bool) {
	return s.perSecond(s.Ops)
}

// perSecond is n over the span's real interval; ok is false when the
// interval is empty.
func (s span) perSecond(n int64) (r float64, ok bool) {
	if s.T <= s.From {
		return 0, false
	}
	return float64(n) / (s.T - s.From).Seconds(), true
}

// spans returns one span per point of series: each point covers the time
// since the previous point's T (the first since the scenario's start), so
// a partial last step is divided by its own length, not a full step.
func spans(series []results.Point) []span {
	out := make([]span, len(series))
	var from time.Duration
	for i, p := range series {
		out[i] = span{From: from, Point: p}
		from = p.T
	}
	return out
}

// downsample merges neighbouring spans, ceil(len(ss)/limit) at a time (the
// last group may be shorter), so that at most limit remain; ss itself when
// it is short enough.
func downsample(ss []span, limit int) []span {
	if len(ss) <= limit || limit < 1 {
		return ss
	}
	per := (len(ss) + limit - 1) / limit
	out := make([]span, 0, limit)
	for i := 0; i < len(ss); i += per {
		m := ss[i]
		for _, s := range ss[i+1 : min(i+per, len(ss))] {
			m.Point = results.CombinePoints(m.Point, s.Point, results.Consecutive)
		}
		out = append(out, m)
	}
	return out
}

// xyChart is one mermaid xychart-beta chart: lines of points evenly
// spaced over a numeric time axis from XMin to XMax, on one y axis from 0
// to YMax. (Mermaid 12 neither thins nor rotates the labels of a
// categorical axis, so one label per point, "12s", "1m05s", is unreadable
// beyond some 30 points; and on a numeric axis it draws bars too wide,
// hiding their neighbours: a stalled second's 0 disappears. Hence lines.)
type xyChart struct {
	Title      string
	XTitle     string
	XMin, XMax float64
	YTitle     string
	YMax       float64
	Lines      [][]float64
	// Colors color the lines, in order.
	Colors []string
}

// write renders c as a fenced mermaid block: a front-matter config with
// the chart's size and plot colors, then the chart. Titles go through
// mermaidText.
func (c xyChart) write(b *strings.Builder) {
	b.WriteString("```mermaid\n---\nconfig:\n  xyChart:\n    width: 900\n    height: 360\n")
	if len(c.Colors) > 0 {
		fmt.Fprintf(b, "  themeVariables:\n    xyChart:\n      plotColorPalette: \"%s\"\n", strings.Join(c.Colors, ", "))
	}
	b.WriteString("---\nxychart-beta\n")
	fmt.Fprintf(b, "  title \"%s\"\n", mermaidText(c.Title))
	fmt.Fprintf(b, "  x-axis \"%s\" %s --> %s\n", mermaidText(c.XTitle), chartNumber(c.XMin), chartNumber(c.XMax))
	fmt.Fprintf(b, "  y-axis \"%s\" 0 --> %s\n", mermaidText(c.YTitle), chartNumber(c.YMax))
	for _, v := range c.Lines {
		fmt.Fprintf(b, "  line [%s]\n", chartNumbers(v))
	}
	b.WriteString("```\n\n")
}

// mermaidText makes user text (plan and scenario names) safe inside a
// quoted mermaid string, which has no escapes: on one line, control
// characters as visible escapes, and the characters that could end the
// string, start markup or an entity (" ` < > # ; %) replaced by look-alikes.
func mermaidText(s string) string {
	s = markdown.OneLine(s)
	return strings.NewReplacer(
		`"`, "'", "`", "'", "<", "‹", ">", "›", "#", "♯", ";", ",", "%", "٪",
	).Replace(s)
}

// chartNumbers renders the values of a line.
func chartNumbers(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = chartNumber(v)
	}
	return strings.Join(parts, ", ")
}

// chartNumber renders v plainly, without exponent or thousands separators:
// whole from 100 up, else with three significant digits (0 for NaN and
// infinities, which mermaid cannot plot).
func chartNumber(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v == 0:
		return "0"
	}
	scale := math.Pow10(2 - int(math.Floor(math.Log10(math.Abs(v)))))
	return strconv.FormatFloat(math.Round(v*scale)/scale, 'f', -1, 64)
}

// niceCeil is the smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power
// of ten at or above v (1 for v <= 0): a round y-axis top, not far above
// the data.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow10(int(math.Floor(math.Log10(v))))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// durationUnit picks the unit in which the largest of a chart's durations
// reads best: µs below 1ms, ms below 1s, else s.
func durationUnit(largest time.Duration) (time.Duration, string) {
	switch {
	case largest < time.Millisecond:
		return time.Microsecond, "µs"
	case largest < time.Second:
		return time.Millisecond, "ms"
	default:
		return time.Second, "s"
	}
}

// timeAxis is the time axis of spans ss: from the first span's end to the
// last's, in seconds up to 10 minutes, then minutes up to 10 hours, then
// hours; its title names the unit.
func timeAxis(ss []span) (title string, lo, hi float64) {
	unit, name := time.Second, "s"
	switch last := ss[len(ss)-1].T; {
	case last > 10*time.Hour:
		unit, name = time.Hour, "h"
	case last > 10*time.Minute:
		unit, name = time.Minute, "min"
	}
	lo, hi = float64(ss[0].T)/float64(unit), float64(ss[len(ss)-1].T)/float64(unit)
	if hi <= lo {
		hi = lo + 1 // points at one instant: mermaid needs a range
	}
	return "elapsed (" + name + ")", lo, hi
}

// spanFaults names the applied or failed faults of faults that ran within
// span s, as in the time-series table ("1 stall, 2 terminate_backends").
func spanFaults(s span, faults []results.Fault) string {
	return faultMarks(results.Point{T: s.T}, s.T-s.From, faults)
}

// scenarioCharts writes the charts of scenario s: throughput, acquire p95,
// and the pool's in use and waiting against its capacity, over the series
// merged to at most maxChartPoints, then a caption that says what the
// plots are, how the points were merged and which faults ran when.
// replicas is the number of pools the series sums over.
func scenarioCharts(b *strings.Builder, s results.Scenario, pool results.Pool, replicas int) {
	all := spans(s.Series)
	ss := downsample(all, maxChartPoints)
	xTitle, xMin, xMax := timeAxis(ss)

	// A scenario that sent only HTTP requests charts its requests' p95
	// in place of the acquire p95 of planrun's own pool, and no pool
	// chart: that pool took no load (the service's: its report section).
	latName, latOf := "acquire p95", func(sp span) time.Duration { return sp.AcquireP95 }
	if s.HTTPOnly {
		latName, latOf = "request p95", func(sp span) time.Duration { return sp.OpP95 }
	}
	rates := make([]float64, len(ss))
	var topRate float64
	var topAcquire time.Duration
	topPool := 0
	for i, sp := range ss {
		rates[i], _ = sp.rate()
		topRate = max(topRate, rates[i])
		topAcquire = max(topAcquire, latOf(sp))
		topPool = max(topPool, sp.InUse, sp.Waiting)
	}
	unit, unitName := durationUnit(topAcquire)
	acquire := make([]float64, len(ss))
	for i, sp := range ss {
		acquire[i] = float64(latOf(sp)) / float64(unit)
	}

	faultTitle := ""
	if at := faultTimes(s.Faults); at != "" {
		faultTitle = " · ⚡ " + at
	}
	xyChart{
		Title: s.Name + ": throughput (ops/s)" + faultTitle, XTitle: xTitle, XMin: xMin, XMax: xMax, YTitle: "ops/s",
		YMax: niceCeil(topRate), Lines: [][]float64{rates}, Colors: []string{colorOps},
	}.write(b)
	xyChart{
		Title: s.Name + ": " + latName + " (" + unitName + ")" + faultTitle, XTitle: xTitle, XMin: xMin, XMax: xMax, YTitle: unitName,
		YMax: niceCeil(float64(topAcquire) / float64(unit)), Lines: [][]float64{acquire}, Colors: []string{colorAcquire},
	}.write(b)
	if s.HTTPOnly {
		b.WriteString(markdown.Text(chartCaption(s, pool, replicas, len(all), ss)) + "\n\n")
		return
	}

	capacity, size := pool.Capacity()*replicas, pool.Size*replicas
	inUse, waiting := make([]float64, len(ss)), make([]float64, len(ss))
	for i, sp := range ss {
		inUse[i], waiting[i] = float64(sp.InUse), float64(sp.Waiting)
	}
	lines, colors := [][]float64{inUse, waiting}, []string{colorInUse, colorWaiting}
	if capacity > 0 {
		lines, colors = append(lines, constant(len(ss), float64(capacity))), append(colors, colorCapacity)
	}
	if pool.MaxOverflow > 0 && size > 0 {
		lines, colors = append(lines, constant(len(ss), float64(size))), append(colors, colorSize)
	}
	xyChart{
		Title: fmt.Sprintf("%s: pool in use and waiting, capacity %d%s", s.Name, capacity, faultTitle), XTitle: xTitle, XMin: xMin, XMax: xMax,
		YTitle: "connections", YMax: niceCeil(float64(max(topPool, capacity))), Lines: lines, Colors: colors,
	}.write(b)

	b.WriteString(markdown.Text(chartCaption(s, pool, replicas, len(all), ss)) + "\n\n")
}

// constant is n copies of v: a level drawn as a line.
func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// faultTimes lists when the applied or failed faults of a scenario ran,
// for a chart title: "10s–12s, 30s"; at most three, then "+2 more".
func faultTimes(faults []results.Fault) string {
	var at []string
	n := 0
	for _, f := range faults {
		if f.Status != results.FaultApplied && f.Status != results.FaultFailed {
			continue
		}
		n++
		if n <= 3 {
			at = append(at, faultSpan(f))
		}
	}
	if n > 3 {
		at = append(at, fmt.Sprintf("+%d more", n-3))
	}
	return strings.Join(at, ", ")
}

// faultSpan is when fault f ran: "30s", or "10s–12s" for a lasting one.
func faultSpan(f results.Fault) string {
	if f.Ended > f.Started {
		return humanize.Elapsed(f.Started) + "–" + humanize.Elapsed(f.Ended)
	}
	return humanize.Elapsed(f.Started)
}

// chartCaption says what a scenario's charts show (not escaped): how many
// points and how merged, what each plot is, the faults and the warm-up.
func chartCaption(s results.Scenario, pool results.Pool, replicas, points int, ss []span) string {
	var parts []string
	if len(ss) < points {
		parts = append(parts, fmt.Sprintf("%d points, each merging up to %d of the time series' %d (ops summed, peaks kept)",
			len(ss), (points+len(ss)-1)/len(ss), points))
	} else {
		parts = append(parts, "one point every "+humanize.Exact(s.SeriesStep))
	}
	parts = append(parts, "ops/s over each point's real interval")
	capacity := fmt.Sprintf("grey capacity %d", pool.Capacity()*replicas)
	if pool.MaxOverflow > 0 {
		capacity = fmt.Sprintf("grey capacity %d (size + overflow), light grey size %d", pool.Capacity()*replicas, pool.Size*replicas)
	}
	if replicas > 1 {
		capacity += fmt.Sprintf(" over %d replicas", replicas)
	}
	if s.HTTPOnly {
		parts = append(parts, "the requests' p95 (the scenario sent only HTTP requests: planrun's own pool took no load, so no pool chart)")
	} else {
		parts = append(parts, "pool: blue in use (peak), red waiting (peak), "+capacity)
	}
	var faults []string
	for i, f := range s.Faults {
		switch f.Status {
		case results.FaultApplied:
			faults = append(faults, fmt.Sprintf("%d %s (%s)", i+1, f.What, faultSpan(f)))
		case results.FaultFailed:
			faults = append(faults, fmt.Sprintf("%d %s (failed at %s)", i+1, f.What, humanize.Elapsed(f.Started)))
		}
	}
	if len(faults) > 0 {
		parts = append(parts, "⚡ faults: "+strings.Join(faults, "; "))
	}
	if s.Warmup > 0 {
		parts = append(parts, "the first "+humanize.Elapsed(s.Warmup)+" are the warm-up: charted, left out of the figures")
	}
	return strings.Join(parts, "; ") + "."
}
