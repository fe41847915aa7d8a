package compare

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/planrun/planrun/internal/humanize"
)

// Markers of the last column.
const (
	MarkRegression  = "▲ regression"
	MarkImprovement = "▼ improvement"
)

// ANSI colours for [Comparison.Table].
const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiReset = "\x1b[0m"
)

var header = []any{"scenario", "metric", "base", "new", "change", ""}

// Table writes the comparison as a terminal table: scenario (shown on the
// first row of each), metric, base, new, change and a marker. With color,
// regression rows are red and improvement rows green (ANSI escapes). The
// scenarios in one run only and the notes follow the table.
func (c *Comparison) Table(w io.Writer, color bool) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}}),
	)
	t.Header(header...)
	for _, cells := range c.cells() {
		if color {
			if code := colorOf(cells.row); code != "" {
				for i := 2; i < len(cells.text); i++ {
					cells.text[i] = code + cells.text[i] + ansiReset
				}
			}
		}
		if err := t.Append(cells.text); err != nil {
			return fmt.Errorf("compare: table row: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("compare: render table: %w", err)
	}
	var b strings.Builder
	b.WriteString(c.Summary() + "\n")
	for _, line := range c.extraLines() {
		b.WriteString(line + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	return nil
}

// Markdown writes the comparison for a pull-request comment: the one-line
// [Comparison.Summary], the scenarios in one run only and the notes as a
// list, then a GitHub table.
func (c *Comparison) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString(c.Summary() + "\n\n")
	if extra := c.extraLines(); len(extra) > 0 {
		for _, line := range extra {
			b.WriteString("- " + mdEscape(line) + "\n")
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	if len(c.Rows) == 0 {
		return nil
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: []tw.Align{
			tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}}),
	)
	t.Header(header...)
	for _, cells := range c.cells() {
		for i := range cells.text {
			cells.text[i] = mdEscape(cells.text[i])
		}
		if err := t.Append(cells.text); err != nil {
			return fmt.Errorf("compare: markdown row: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("compare: render markdown: %w", err)
	}
	return nil
}

// Summary is one line: the regressions beyond the tolerance with their
// values, or that there are none; and the number of improvements.
func (c *Comparison) Summary() string {
	tol := fmt.Sprintf("%g%%", c.Tolerance*100)
	improvements := ""
	if c.Improvements > 0 {
		improvements = fmt.Sprintf("%d %s", c.Improvements, plural(c.Improvements, "improvement", "improvements"))
	}
	if c.Regressions == 0 {
		s := "No regressions beyond " + tol
		if improvements != "" {
			s += "; " + improvements
		}
		return s + "."
	}
	var parts []string
	for _, r := range c.Rows {
		if !r.Regression {
			continue
		}
		p := fmt.Sprintf("%s %s %s → %s", r.Scenario, r.Metric, formatValue(r.Base, r.Unit), formatValue(r.New, r.Unit))
		if ch := formatChange(r); ch != "" && !math.IsInf(r.Change, 0) {
			p += " (" + ch + ")"
		}
		if r.Note != "" {
			p += ", " + r.Note
		}
		parts = append(parts, p)
	}
	s := fmt.Sprintf("%d %s beyond %s: %s", c.Regressions, plural(c.Regressions, "regression", "regressions"), tol, strings.Join(parts, "; "))
	if improvements != "" {
		s += "; and " + improvements
	}
	return s + "."
}

// extraLines lists the scenarios in one run only and the notes.
func (c *Comparison) extraLines() []string {
	var lines []string
	if len(c.OnlyInBase) > 0 {
		lines = append(lines, "Only in the base run (not compared): "+strings.Join(c.OnlyInBase, ", "))
	}
	if len(c.OnlyInNew) > 0 {
		lines = append(lines, "Only in the new run (not compared): "+strings.Join(c.OnlyInNew, ", "))
	}
	for _, n := range c.Notes {
		lines = append(lines, "Note: "+n)
	}
	return lines
}

type rowCells struct {
	row  Row
	text []string
}

// cells formats every row; the scenario name only on its first row.
func (c *Comparison) cells() []rowCells {
	out := make([]rowCells, 0, len(c.Rows))
	prev := ""
	for _, r := range c.Rows {
		name := r.Scenario
		if name == prev {
			name = ""
		}
		prev = r.Scenario
		out = append(out, rowCells{row: r, text: []string{
			name, r.Metric, formatValue(r.Base, r.Unit), formatValue(r.New, r.Unit), formatChange(r), marker(r),
		}})
	}
	return out
}

func colorOf(r Row) string {
	switch {
	case r.Regression:
		return ansiRed
	case r.Improvement:
		return ansiGreen
	}
	return ""
}

// marker is the last column: the verdict, a note, or "info" for rows that
// are reported only.
func marker(r Row) string {
	var m string
	switch {
	case r.Regression:
		m = MarkRegression
	case r.Improvement:
		m = MarkImprovement
	case r.Informational:
		m = "(not gated)"
	}
	if r.Note != "" {
		if m != "" {
			m += ", "
		}
		m += r.Note
	}
	return m
}

// formatValue formats a raw value by unit: durations with 3 significant
// figures, rates as percentages, counts as integers, ops/s with one decimal.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch unit {
	case UnitDuration:
		return humanize.Duration(time.Duration(v))
	case UnitRate:
		return humanize.Percent(v)
	case UnitCount:
		return humanize.Int(int64(math.Round(v)))
	case UnitOpsPerS:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%g", v)
}

// formatChange shows the change: percentage points for rates, a relative
// percentage otherwise; "+∞" from 0, "n/a" when unknown.
func formatChange(r Row) string {
	if r.Unit == UnitRate && !math.IsNaN(r.Base) && !math.IsNaN(r.New) {
		return fmt.Sprintf("%+.2f pt", (r.New-r.Base)*100)
	}
	switch {
	case math.IsNaN(r.Change):
		return "n/a"
	case math.IsInf(r.Change, 1):
		return "+∞"
	case math.IsInf(r.Change, -1):
		return "−∞"
	}
	return fmt.Sprintf("%+.1f%%", r.Change*100)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// mdEscape keeps a cell inside its markdown table column.
func mdEscape(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
