package report

import (
	"strings"
	"time"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/results"
)

// The renderers' columns are figures of the table of figures
// (results.Figures): each renderer lists the names it shows, the table
// gives each its header (Figure.Column) and its unit, which sets how the
// value is written.

// headers returns the column headers of the figures named.
func headers(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = results.MustFigure(n).Column
	}
	return out
}

// cells returns the values of the figures named in s, as [cell] writes them;
// a figure of planrun's own pool on a scenario that sent only HTTP requests
// (results.Scenario.HTTPOnly), and a figure of the load on a watch
// (results.Scenario.Watch), is notApplicable.
func cells(s *results.Scenario, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if s.HTTPOnly && results.ReadsOwnPool(n) || s.Watch && !results.WatchMeasures(n) {
			out[i] = notApplicable
			continue
		}
		f := results.MustFigure(n)
		out[i] = cell(f, f.Value(s), func(member string) float64 { return results.MustFigure(member).Value(s) })
	}
	return out
}

// opCells is [cells] for an operation's figures, named without their
// operations.<name>. prefix ("op.p95", "ops").
func opCells(o *results.Operation, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		f := results.MustFigure(results.OperationPrefix + n)
		out[i] = cell(f, f.OfOperation(o), func(member string) float64 { return results.MustFigure(member).OfOperation(o) })
	}
	return out
}

// opHeaders is [headers] for an operation's figures.
func opHeaders(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = results.MustFigure(results.OperationPrefix + n).Column
	}
	return out
}

// notApplicable is the value shown for a figure that measured nothing in a
// scenario: planrun's own pool where the scenario sent only HTTP requests.
const notApplicable = "–"

// cell writes value v of figure f by its unit: durations as humanize
// writes them ("–" for a latency that recorded no value: its count, read
// through sibling, is 0), counts as integers, rates as percentages, rates
// per second as humanize.Rate.
func cell(f results.Figure, v float64, sibling func(name string) float64) string {
	switch f.Unit {
	case results.UnitDuration:
		if i := strings.LastIndexByte(f.Name, '.'); i > 0 {
			if count, ok := results.FigureNamed(f.Name[:i] + ".count"); ok && sibling(count.Name) == 0 {
				return "–"
			}
		}
		return humanize.Duration(time.Duration(v))
	case results.UnitRate:
		return humanize.Percent(v)
	case results.UnitOpsPerSec, results.UnitPerSecond:
		return humanize.Rate(v)
	}
	return humanize.Int(int64(v))
}
