package compare

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/printable"
)

// Markers of the last column.
const (
	MarkRegression  = "▲ regression"
	MarkImprovement = "▼ improvement"
)

// Headings of the sections before the table.
const (
	HeadingChanges     = "The runs differ; read the figures with this in mind"
	HeadingRegressions = "Regressions, most severe first"
)

// maxShownNoise: a noise above this many times the larger of the two values
// is shown as "±∞": the number itself means nothing more.
const maxShownNoise = 1000

// summaryItems is how many regressions the one-line summary names; the
// rest are counted ("and 15 more").
const summaryItems = 3

// ANSI colours for [Comparison.Table].
const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiReset = "\x1b[0m"
)

func (c *Comparison) header() []any {
	base := "base"
	if len(c.Bases) > 1 {
		base = fmt.Sprintf("base (mean of %d)", len(c.Bases))
	}
	return []any{"scenario", "metric", base, "new", "change", "noise", HeaderDetectable, ""}
}

// HeaderDetectable heads the column of [Row.Detectable]: the smallest
// regression of each figure the comparison could have flagged.
const HeaderDetectable = "detectable"

var alignments = []tw.Align{tw.AlignLeft, tw.AlignLeft, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignRight, tw.AlignLeft}

// Ranked returns the regressions, most severe first: the rows about failed
// operations (success_rate, timeouts, errors), scenarios with the highest
// new error rate first; then the others by how far they went past their
// threshold (max of tolerance, noise and floor), +Inf (from zero, a lost
// recovery) first. Ties keep the table's order.
func (c *Comparison) Ranked() []Row {
	var regs []Row
	errRate := map[string]float64{}
	for _, r := range c.Rows {
		if r.Regression {
			regs = append(regs, r)
		}
		if r.Metric == "success_rate" && r.Operation == "" {
			errRate[r.Scenario] = 1 - r.New
		}
	}
	slices.SortStableFunc(regs, func(a, b Row) int {
		switch {
		case a.Errors != b.Errors:
			if a.Errors {
				return -1
			}
			return 1
		case a.Errors:
			if ea, eb := errRate[a.Scenario], errRate[b.Scenario]; ea != eb {
				if ea > eb {
					return -1
				}
				return 1
			}
			if a.Scenario != b.Scenario {
				return 0
			}
			return errorRank(a) - errorRank(b)
		case a.Excess != b.Excess:
			if a.Excess > b.Excess {
				return -1
			}
			return 1
		}
		return 0
	})
	return regs
}

// errorRank orders the error rows of one scenario.
func errorRank(r Row) int {
	if r.Operation != "" {
		return 3
	}
	switch r.Metric {
	case "success_rate":
		return 0
	case "timeouts":
		return 1
	}
	return 2
}

// Table writes the comparison for a terminal: the changes between the runs,
// the regressions most severe first, the table (scenario shown on the first
// row of each; with color, regression rows red and improvement rows green),
// then the summary line, the scenarios in one run only and the notes. Names
// and notes from the reports print on one line with their control
// characters escaped (package printable).
func (c *Comparison) Table(w io.Writer, color bool) error {
	var b strings.Builder
	if len(c.Changes) > 0 {
		b.WriteString(HeadingChanges + ":\n")
		for _, line := range c.Changes {
			b.WriteString("  " + printable.Line(line) + "\n")
		}
		b.WriteString("\n")
	}
	if ranked := c.Ranked(); len(ranked) > 0 {
		b.WriteString(HeadingRegressions + ":\n")
		for i, r := range ranked {
			fmt.Fprintf(&b, "%3d. %s\n", i+1, printable.Line(describe(r, true)))
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: alignments}),
	)
	t.Header(c.header()...)
	for _, cells := range c.cells() {
		for i := range cells.text {
			cells.text[i] = printable.Line(cells.text[i])
		}
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
	b.Reset()
	b.WriteString(printable.Line(c.Summary()) + "\n")
	for _, line := range c.extraLines() {
		b.WriteString(printable.Line(line) + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	return nil
}

// Markdown writes the comparison for a pull-request comment: the one-line
// [Comparison.Summary], the changes between the runs and the regressions
// most severe first under their headings, the scenarios in one run only and
// the notes as a list, then a GitHub table. Every text goes through
// [markdown.Text].
func (c *Comparison) Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString(markdown.Text(c.Summary()) + "\n\n")
	if len(c.Changes) > 0 {
		b.WriteString("#### " + HeadingChanges + "\n\n")
		for _, line := range c.Changes {
			b.WriteString("- " + markdown.Text(line) + "\n")
		}
		b.WriteString("\n")
	}
	if ranked := c.Ranked(); len(ranked) > 0 {
		b.WriteString("#### " + HeadingRegressions + "\n\n")
		for i, r := range ranked {
			fmt.Fprintf(&b, "%d. %s\n", i+1, markdown.Text(describe(r, true)))
		}
		b.WriteString("\n")
	}
	if extra := c.extraLines(); len(extra) > 0 {
		for _, line := range extra {
			b.WriteString("- " + markdown.Text(line) + "\n")
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	if len(c.Rows) == 0 {
		return nil
	}
	var header []string
	for _, h := range c.header() {
		header = append(header, markdown.Text(h.(string)))
	}
	var rows [][]string
	for _, cells := range c.cells() {
		for i := range cells.text {
			cells.text[i] = markdown.Text(cells.text[i])
		}
		rows = append(rows, cells.text)
	}
	// The summary and the ranked regressions above say what matters; the
	// table of every figure compared is folded, as GitHub shows <details>,
	// so a pull request's comment stays short.
	if _, err := fmt.Fprintf(w, "<details><summary>%s compared</summary>\n\n", humanize.Count(int64(len(rows)), "figure", "figures")); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	if err := markdown.Table(w, header, "llrrrrrl", rows); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	if _, err := io.WriteString(w, "\n</details>\n"); err != nil {
		return fmt.Errorf("compare: write: %w", err)
	}
	return nil
}

// Summary is one line: the regressions (the most severe first, at most
// three named, errors before latencies) or that there are none, and the
// number of improvements.
func (c *Comparison) Summary() string {
	beyond := "beyond " + humanize.Percent(c.Tolerance) + " and the noise"
	improvements := ""
	if c.Improvements > 0 {
		improvements = humanize.Count(int64(c.Improvements), "improvement", "improvements")
	}
	if c.Regressions == 0 {
		s := "No regressions " + beyond
		if improvements != "" {
			s += "; " + improvements
		}
		return s + "."
	}
	var parts []string
	ranked := c.Ranked()
	for _, r := range ranked[:min(len(ranked), summaryItems)] {
		parts = append(parts, describe(r, false))
	}
	if more := len(ranked) - summaryItems; more > 0 {
		parts = append(parts, fmt.Sprintf("%d more", more))
	}
	s := fmt.Sprintf("%s %s: %s", humanize.Count(int64(c.Regressions), "regression", "regressions"), beyond, strings.Join(parts, "; "))
	if improvements != "" {
		s += "; and " + improvements
	}
	return s + "."
}

// describe is one regression in words: "peak acquire.p95 120ms → 162ms
// (+35%, noise ±8ms)", its note, and with excess how far past its threshold.
func describe(r Row, excess bool) string {
	s := fmt.Sprintf("%s %s %s → %s", r.Scenario, r.Name(), formatValue(r.Base, r.Unit), formatValue(r.New, r.Unit))
	var detail []string
	if !math.IsInf(r.Change, 0) && !math.IsNaN(r.Change) {
		detail = append(detail, formatChange(r))
	}
	if r.Noise > 0 && !math.IsInf(r.Excess, 0) {
		detail = append(detail, "noise "+formatNoise(r))
	}
	if excess && r.Excess > 0 && !math.IsInf(r.Excess, 0) {
		detail = append(detail, strconv.FormatFloat(r.Excess, 'f', 1, 64)+"× its threshold")
	}
	if len(detail) > 0 {
		s += " (" + strings.Join(detail, ", ") + ")"
	}
	if r.Note != "" {
		s += ": " + r.Note
	}
	return s
}

// extraLines lists the scenarios in one run only and the notes.
func (c *Comparison) extraLines() []string {
	var lines []string
	if len(c.OnlyInBase) > 0 {
		lines = append(lines, "Only in the base run (not compared): "+joinNames(c.OnlyInBase))
	}
	if len(c.OnlyInNew) > 0 {
		lines = append(lines, "Only in the new run (not compared): "+joinNames(c.OnlyInNew))
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
		noise := ""
		if r.Noise > 0 && !r.Informational {
			noise = formatNoise(r)
		}
		out = append(out, rowCells{row: r, text: []string{
			name, r.Name(), formatValue(r.Base, r.Unit), formatValue(r.New, r.Unit), formatChange(r), noise, FormatDetectable(r), marker(r),
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

// marker is the last column: the verdict, a note, or "(not gated)" for rows
// that are reported only.
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

// formatValue formats a raw value by unit with internal/humanize:
// durations, rates as percentages, counts with thousands separators, ops/s
// with one decimal below 100 (as the run reports print them).
func formatValue(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case v >= math.MaxInt64: // beyond a time.Duration, or +Inf
		return "∞"
	case v <= math.MinInt64:
		return "−∞"
	}
	switch unit {
	case UnitDuration:
		return humanize.Duration(time.Duration(math.Round(v)))
	case UnitRate:
		return humanize.Percent(v)
	case UnitCount:
		return humanize.Int(int64(math.Round(v)))
	case UnitOpsPerS:
		return humanize.Rate(v)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// formatNoise shows a row's noise: "±1.2ms", "±0.2 pt" for rates.
func formatNoise(r Row) string {
	if r.Noise > maxShownNoise*max(math.Abs(r.Base), math.Abs(r.New)) {
		return "±∞"
	}
	if r.Unit == UnitRate {
		return "±" + points(r.Noise)
	}
	return "±" + formatValue(r.Noise, r.Unit)
}

// FormatDetectable shows [Row.Detectable] as the worse change it is:
// "+12ms (+8.0%)" for a latency, "−1,542 (−69%)" for a throughput, "−0.4 pt"
// for success_rate, "+3" for a count; "∞" when no change could have been
// flagged, "n/a" when the figure is unknown, "" for informational rows.
func FormatDetectable(r Row) string {
	d := r.Detectable
	switch {
	case r.Informational:
		return ""
	case math.IsNaN(d):
		return "n/a"
	case math.IsInf(d, 1) || d >= math.MaxInt64:
		return "∞"
	}
	if r.Unit == UnitRate { // success_rate: the error rate rises, success falls
		return "−" + points(d)
	}
	sign := "+"
	if r.Unit == UnitOpsPerS {
		sign = "−"
	}
	s := sign + formatValue(d, r.Unit)
	if r.Unit != UnitCount && r.Base > 0 {
		s += " (" + sign + formatRelative(d/r.Base) + ")"
	}
	return s
}

// formatRelative shows a positive fraction as a percentage, whole above
// 1,000%.
func formatRelative(f float64) string {
	if f >= 10 {
		return humanize.Int(int64(math.Round(f*100))) + "%"
	}
	return humanize.Percent(f)
}

// points renders a difference of two rates in percentage points.
func points(d float64) string {
	return strings.TrimSuffix(humanize.Percent(d), "%") + " pt"
}

// formatChange shows the change: percentage points for rates, a relative
// percentage otherwise; "+∞" from 0, "n/a" when unknown.
func formatChange(r Row) string {
	if r.Unit == UnitRate && !math.IsNaN(r.Base) && !math.IsNaN(r.New) {
		d := r.New - r.Base
		return signOf(d) + points(math.Abs(d))
	}
	switch {
	case math.IsNaN(r.Change):
		return "n/a"
	case math.IsInf(r.Change, 1):
		return "+∞"
	case math.IsInf(r.Change, -1):
		return "−∞"
	}
	return signOf(r.Change) + formatRelative(math.Abs(r.Change))
}

func signOf(f float64) string {
	switch {
	case f > 0:
		return "+"
	case f < 0:
		return "−"
	}
	return ""
}
