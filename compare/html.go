package compare

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/planrun/planrun/internal/hdr"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/printable"
	"github.com/planrun/planrun/internal/svgchart"
	"github.com/planrun/planrun/results"
)

//go:embed html.tmpl
var htmlSource string

// htmlTemplate is the comparison page; html/template escapes every text
// by its context.
var htmlTemplate = template.Must(template.New("compare").Parse(htmlSource))

// HTML writes the comparison as one self-contained HTML page (inline CSS
// and SVG, no script, no URL): the summary line, the changes between the
// runs, the regressions most severe first, the scenarios in one run only
// and the notes; then per scenario compared, the base and new runs'
// latency percentile curves overlaid (op and acquire, from the histograms
// the reports carry); then the table of every row, regressions and
// improvements coloured. Texts from the reports show their control
// characters as visible escapes (package printable).
func (c *Comparison) HTML(w io.Writer) error {
	lines := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = printable.Line(s)
		}
		return out
	}
	v := htmlView{Summary: printable.Line(c.Summary()), Changes: lines(c.Changes), Extra: lines(c.extraLines()),
		HeadingChanges: HeadingChanges, HeadingRegressions: HeadingRegressions}
	if c.New != nil {
		v.Plan = printable.Line(c.New.Plan.Name)
	}
	for _, r := range c.Ranked() {
		v.Regressions = append(v.Regressions, printable.Line(describe(r, true)))
	}
	for _, h := range c.header() {
		v.Header = append(v.Header, h.(string))
	}
	for _, cells := range c.cells() {
		class := ""
		switch {
		case cells.row.Regression:
			class = "regression"
		case cells.row.Improvement:
			class = "improvement"
		}
		v.Rows = append(v.Rows, htmlRow{Class: class, Cells: lines(cells.text)})
	}
	for _, name := range c.scenarioNames() {
		v.Scenarios = append(v.Scenarios, c.htmlScenario(name))
	}
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("compare: write HTML: %w", err)
	}
	return nil
}

type htmlView struct {
	HeadingChanges, HeadingRegressions string

	Plan        string
	Summary     string
	Changes     []string
	Regressions []string
	Extra       []string
	Scenarios   []htmlScenario
	Header      []string
	Rows        []htmlRow
}

type htmlRow struct {
	Class string
	Cells []string
}

type htmlScenario struct {
	Name   string
	Charts []htmlChart
}

type htmlChart struct {
	SVG     template.HTML // from svgchart, which escapes every text
	Caption string
}

// scenarioNames are the compared scenarios, in the rows' order.
func (c *Comparison) scenarioNames() []string {
	var names []string
	for _, r := range c.Rows {
		if len(names) == 0 || names[len(names)-1] != r.Scenario {
			names = append(names, r.Scenario)
		}
	}
	return names
}

// htmlScenario overlays the percentile curves of scenario name's op and
// acquire latencies: the new run solid, each baseline dashed.
func (c *Comparison) htmlScenario(name string) htmlScenario {
	hs := htmlScenario{Name: printable.Line(name)}
	bases := scenariosNamed(c.Bases, name)
	news := scenariosNamed([]*results.Run{c.New}, name)
	for _, ph := range []struct {
		title string
		get   func(*results.Scenario) results.Latency
	}{
		{"op", func(s *results.Scenario) results.Latency { return s.Op }},
		{"acquire", func(s *results.Scenario) results.Latency { return s.Acquire }},
	} {
		var series []svgchart.Series
		var missing []string
		add := func(label string, s *results.Scenario, dashed bool, color string) {
			pts, err := percentileCurve(ph.get(s))
			if err != nil {
				missing = append(missing, label+" ("+err.Error()+")")
				return
			}
			series = append(series, svgchart.Series{Name: label, Points: pts, Dashed: dashed, Color: color})
		}
		// The new run first, so that a baseline's dashes show over it where they agree.
		for _, n := range news {
			add("new", n, false, svgchart.Palette[0])
		}
		for i, b := range bases {
			label := "base"
			if len(bases) > 1 {
				label = fmt.Sprintf("base %d", i+1)
			}
			add(label, b, true, svgchart.Palette[(i+1)%len(svgchart.Palette)])
		}
		caption := "The " + ph.title + " latency at every percentile, from p0 to p99.999 on a log scale, read from the histograms the reports carry."
		if len(missing) > 0 {
			caption += " Not drawn: " + joinNames(missing) + "."
		}
		chart := htmlChart{Caption: caption}
		if len(series) > 0 {
			chart.SVG = template.HTML(svgchart.Chart{
				Title:  ph.title + " latency by percentile",
				X:      svgchart.PercentileAxis(),
				Y:      svgchart.Axis{Label: "latency", Format: func(v float64) string { return humanize.Duration(time.Duration(v)) }},
				Series: series,
			}.SVG())
		}
		hs.Charts = append(hs.Charts, chart)
	}
	return hs
}

// percentileCurve is the percentile plot's curve of l's histogram.
func percentileCurve(l results.Latency) ([]svgchart.Point, error) {
	h, err := hdr.Decode(l)
	if err != nil {
		return nil, err
	}
	return svgchart.PercentileCurve(func(q float64) float64 { return float64(h.ValueAtQuantile(q * 100)) }), nil
}
