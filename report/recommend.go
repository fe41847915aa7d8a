package report

import (
	"fmt"
	"strconv"

	"github.com/olekukonko/tablewriter/tw"
	"github.com/planrun/planrun/internal/humanize"
	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/results"
)

// The recommendations section (results.Recommendations, package recommend):
// the same rows in the terminal table, the markdown and the HTML page.

// recSettingsHeader and recScenarioHeader head its two tables: the
// settings a reviewer can paste, and per scenario the predictions set
// against what was measured.
var (
	recSettingsHeader = []string{"setting", "now", "recommended", "why"}
	recScenarioHeader = []string{"scenario", "load", "measured p95 / p99", "predicted now p95 / p99", "trusted", "recommended p95 / p99", "timeouts measured → recommended"}
)

// recTarget is the section's first line: the target the advice meets.
func recTarget(r *results.Recommendations) string {
	return fmt.Sprintf("Target: %s < %s, from %s.", r.Target.Figure, humanize.Duration(r.Target.Limit), r.Target.From)
}

// recSettingsRows are the pool's three values, the server budget and the
// settings preflight warned about, each with its current value.
func recSettingsRows(run *results.Run, r *results.Recommendations) [][]string {
	p, cur := r.Pool, run.Pool
	joined := func(prefix string) string {
		var s string
		for _, why := range p.Reasons {
			if len(why) > len(prefix) && why[:len(prefix)] == prefix {
				if s != "" {
					s += "; "
				}
				s += why
			}
		}
		return s
	}
	// The scenario that set a value explains it (the others are in the
	// per-scenario rows and the JSON).
	deciding := func(prefix string, v int) string {
		if s := joined(fmt.Sprintf("%s %d:", prefix, v)); s != "" {
			return s
		}
		return joined(prefix + " ")
	}
	rows := [][]string{
		{"pool.size", strconv.Itoa(cur.Size), strconv.Itoa(p.Size), deciding("size", p.Size)},
		{"pool.max_overflow", strconv.Itoa(cur.MaxOverflow), strconv.Itoa(p.MaxOverflow), deciding("max_overflow", p.MaxOverflow)},
		{"pool.timeout", humanize.Duration(cur.Timeout), humanize.Duration(p.Timeout), joined("timeout")},
	}
	b := r.Budget
	avail := "unknown"
	if b.Available > 0 || b.Fits {
		avail = strconv.Itoa(b.Available)
	}
	why := fmt.Sprintf("of %s available", avail)
	switch {
	case b.Available > 0 && b.Fits:
		why += fmt.Sprintf(": fits, %s headroom left", humanize.Percent(b.Headroom))
	case b.Available > 0:
		why += fmt.Sprintf(": does NOT fit, %d short", b.Recommended-b.Available)
	}
	rows = append(rows, []string{"server connections", strconv.Itoa(b.Current), strconv.Itoa(b.Recommended), why})
	for _, s := range r.Settings {
		rows = append(rows, []string{s.Name, s.Current, s.Recommended, s.Why})
	}
	return rows
}

// recScenarioRows set each scenario's measured acquire p95/p99 against the
// model's prediction for the pool that ran and for the recommended one.
func recScenarioRows(r *results.Recommendations) [][]string {
	pair := func(p results.PoolPrediction) string {
		return humanize.Duration(p.AcquireP95) + " / " + humanize.Duration(p.AcquireP99)
	}
	rows := make([][]string, 0, len(r.Scenarios))
	for _, s := range r.Scenarios {
		trusted := "yes"
		if !s.Trusted {
			trusted = "no"
		}
		rows = append(rows, []string{
			s.Scenario,
			fmt.Sprintf("%s acquires/s, hold mean %s, p95 %s", humanize.Rate(s.Rate), humanize.Duration(s.HoldMean), humanize.Duration(s.HoldP95)),
			pair(s.Measured),
			pair(s.Current),
			trusted,
			pair(s.Recommended),
			humanize.Percent(s.Measured.TimeoutRate) + " → " + humanize.Percent(s.Recommended.TimeoutRate),
		})
	}
	return rows
}

func (tr *tableRenderer) recommendations(run *results.Run) {
	r := run.Recommendations
	tr.printf("%s\n", recTarget(r))
	l := tw.AlignLeft
	tr.table(tableSpec{header: recSettingsHeader, aligns: []tw.Align{l, tw.AlignRight, tw.AlignRight, l}, widths: map[int]int{3: 60}, rowLines: true},
		recSettingsRows(run, r))
	if len(r.Scenarios) > 0 {
		tr.table(tableSpec{header: recScenarioHeader, widths: map[int]int{1: 30}}, recScenarioRows(r))
	}
	for _, n := range r.Notes {
		tr.printf("• %s\n", n)
	}
}

func (m *mdWriter) recommendations(run *results.Run) {
	r := run.Recommendations
	m.printf("%s\n\n", markdown.Text(recTarget(r)))
	m.table(recSettingsHeader, "lrrl", escaped(recSettingsRows(run, r)))
	if len(r.Scenarios) > 0 {
		m.table(recScenarioHeader, "llrrlrr", escaped(recScenarioRows(r)))
	}
	for _, n := range r.Notes {
		m.printf("- %s\n", markdown.Text(n))
	}
	if len(r.Notes) > 0 {
		m.printf("\n")
	}
}

// htmlRecommendations is the HTML page's section (nil without advice).
type htmlRecommendations struct {
	Target    string
	Settings  *htmlTable
	Scenarios *htmlTable
	Notes     []string
}

func newHTMLRecommendations(run *results.Run) *htmlRecommendations {
	r := run.Recommendations
	if r == nil {
		return nil
	}
	h := &htmlRecommendations{Target: recTarget(r), Notes: r.Notes}
	h.Settings = &htmlTable{Header: recSettingsHeader, Numeric: []bool{false, true, true, false}}
	for _, row := range recSettingsRows(run, r) {
		h.Settings.Rows = append(h.Settings.Rows, htmlCells(row))
	}
	if len(r.Scenarios) > 0 {
		h.Scenarios = &htmlTable{Header: recScenarioHeader, Numeric: []bool{false, false, true, true, false, true, true}}
		for i, row := range recScenarioRows(r) {
			c := htmlCells(row)
			if !r.Scenarios[i].Trusted {
				c[4].Class = "warn"
			}
			h.Scenarios.Rows = append(h.Scenarios.Rows, c)
		}
	}
	return h
}

func htmlCells(row []string) []htmlCell {
	out := make([]htmlCell, len(row))
	for i, s := range row {
		out[i] = htmlCell{Text: s}
	}
	return out
}

// escaped escapes every cell for a markdown table.
func escaped(rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			out[i][j] = markdown.Text(c)
		}
	}
	return out
}
