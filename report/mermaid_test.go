package report_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// mermaidBlocks returns the content of every ```mermaid fenced block of md.
func mermaidBlocks(t *testing.T, md string) []string {
	t.Helper()
	var blocks []string
	rest := md
	for {
		_, after, ok := strings.Cut(rest, "\n```mermaid\n")
		if !ok {
			return blocks
		}
		block, next, ok := strings.Cut(after, "\n```\n")
		if !ok {
			t.Fatalf("unclosed mermaid block:\n%s", after)
		}
		blocks = append(blocks, block)
		rest = next
	}
}

var (
	chartTitle  = regexp.MustCompile(`^  title "([^"]*)"$`)
	chartXAxis  = regexp.MustCompile(`^  x-axis "([^"]*)" (\S+) --> (\S+)$`)
	chartYAxis  = regexp.MustCompile(`^  y-axis "([^"]*)" (\S+) --> (\S+)$`)
	chartPlot   = regexp.MustCompile(`^  (line|bar) \[(.*)\]$`)
	chartColors = regexp.MustCompile(`^      plotColorPalette: "(#[0-9a-f]{6}(, #[0-9a-f]{6})*)"$`)
)

// xyChart is what checkXYChart read of a block.
type xyChart struct {
	title      string
	xTitle     string
	xMin, xMax float64
	yTitle     string
	lo, hi     float64
	plots      [][]float64
}

// checkXYChart checks that block is the xychart-beta subset planrun
// writes: an optional front matter with the plot colours (one per plot at
// least), "xychart-beta", a quoted title, a numeric x axis "title" lo -->
// hi, a y axis "title" lo --> hi, then bars and lines of equal lengths,
// each value within the y axis.
func checkXYChart(block string) (xyChart, error) {
	var c xyChart
	lines := strings.Split(block, "\n")
	colors := -1
	if len(lines) > 0 && lines[0] == "---" {
		end := -1
		for i := 1; i < len(lines); i++ {
			if lines[i] == "---" {
				end = i
				break
			}
			if m := chartColors.FindStringSubmatch(lines[i]); m != nil {
				colors = len(strings.Split(m[1], ", "))
			}
		}
		if end < 0 {
			return c, fmt.Errorf("front matter not closed")
		}
		lines = lines[end+1:]
	}
	if len(lines) < 5 || lines[0] != "xychart-beta" {
		return c, fmt.Errorf("want xychart-beta, title, x-axis, y-axis and a plot, got %q", lines)
	}
	m := chartTitle.FindStringSubmatch(lines[1])
	if m == nil {
		return c, fmt.Errorf("bad title line %q", lines[1])
	}
	c.title = m[1]
	m = chartXAxis.FindStringSubmatch(lines[2])
	if m == nil {
		return c, fmt.Errorf("bad x-axis line %q", lines[2])
	}
	c.xTitle = m[1]
	var errX1, errX2 error
	c.xMin, errX1 = strconv.ParseFloat(m[2], 64)
	c.xMax, errX2 = strconv.ParseFloat(m[3], 64)
	if errX1 != nil || errX2 != nil || c.xMin >= c.xMax {
		return c, fmt.Errorf("bad x-axis range in %q", lines[2])
	}
	m = chartYAxis.FindStringSubmatch(lines[3])
	if m == nil {
		return c, fmt.Errorf("bad y-axis line %q", lines[3])
	}
	c.yTitle = m[1]
	var err1, err2 error
	c.lo, err1 = strconv.ParseFloat(m[2], 64)
	c.hi, err2 = strconv.ParseFloat(m[3], 64)
	if err1 != nil || err2 != nil || c.lo >= c.hi {
		return c, fmt.Errorf("bad y-axis range in %q", lines[3])
	}
	for _, l := range lines[4:] {
		m := chartPlot.FindStringSubmatch(l)
		if m == nil {
			return c, fmt.Errorf("bad plot line %q", l)
		}
		var vs []float64
		for _, v := range strings.Split(m[2], ", ") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || strings.ContainsAny(v, "eE+") {
				return c, fmt.Errorf("bad value %q in %q", v, l)
			}
			if f < c.lo || f > c.hi {
				return c, fmt.Errorf("value %v outside the y axis %v..%v", f, c.lo, c.hi)
			}
			vs = append(vs, f)
		}
		if len(c.plots) > 0 && len(vs) != len(c.plots[0]) {
			return c, fmt.Errorf("%s of %d values, the first plot %d", m[1], len(vs), len(c.plots[0]))
		}
		c.plots = append(c.plots, vs)
	}
	if colors >= 0 && colors < len(c.plots) {
		return c, fmt.Errorf("%d colours for %d plots", colors, len(c.plots))
	}
	return c, nil
}

func TestCheckXYChartRejects(t *testing.T) {
	good := "xychart-beta\n  title \"t\"\n  x-axis \"elapsed (s)\" 1 --> 2\n  y-axis \"ops/s\" 0 --> 10\n  bar [1, 2]\n  line [2, 1]"
	if _, err := checkXYChart(good); err != nil {
		t.Fatalf("a good chart: %v", err)
	}
	for name, bad := range map[string]string{
		"unequal lengths":  strings.Replace(good, "bar [1, 2]", "bar [1, 2, 3]", 1),
		"a quote in title": strings.Replace(good, `"t"`, `"a"b"`, 1),
		"empty time axis":  strings.Replace(good, "1 --> 2", "2 --> 2", 1),
		"above the axis":   strings.Replace(good, "bar [1, 2]", "bar [1, 20]", 1),
		"exponent":         strings.Replace(good, "bar [1, 2]", "bar [1, 2e0]", 1),
		"no plot":          strings.Replace(good, "\n  bar [1, 2]\n  line [2, 1]", "", 1),
	} {
		if _, err := checkXYChart(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Every scenario with a time series gets three valid charts, between the
// certificate and the folded detail, each on the same time axis; the
// markdown around them still parses without raw HTML.
func TestMarkdownCharts(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := c.run()
			md := string(render(t, "markdown", run, report.Options{}))
			want := 0
			for _, s := range run.Scenarios {
				switch {
				case s.Watch: // its charts are the HTML report's: 48 hours do not fit a mermaid chart
				case len(s.Series) >= 2 && s.HTTPOnly:
					want += 2 // planrun's pool took no load: no pool chart
				case len(s.Series) >= 2:
					want += 3
				}
			}
			blocks := mermaidBlocks(t, md)
			if len(blocks) != want {
				t.Fatalf("%d charts, want %d", len(blocks), want)
			}
			for i, b := range blocks {
				if _, err := checkXYChart(b); err != nil {
					t.Errorf("chart %d: %v\n%s", i+1, err, b)
				}
			}
			if want > 0 {
				over := strings.Index(md, "### Over time")
				if over < strings.Index(md, "### Certificate") || over > strings.Index(md, "<details><summary>Latency") {
					t.Error("the charts are not between the certificate and the folded detail")
				}
			}
			parseMarkdown(t, md)
		})
	}
}

// The faults run marks the points in which a fault ran on the time axis,
// lists the faults' times in the titles and says what each was under the
// charts; the throughput bar of the stalled seconds is 0.
func TestMarkdownChartFaults(t *testing.T) {
	md := string(render(t, "markdown", FaultsRun(), report.Options{}))
	blocks := mermaidBlocks(t, md)
	if len(blocks) != 3 {
		t.Fatalf("%d charts, want 3", len(blocks))
	}
	ops, err := checkXYChart(blocks[0])
	if err != nil {
		t.Fatal(err)
	}
	if ops.title != "outage: throughput (ops/s) · ⚡ 10s–12s, 30s, 35s" {
		t.Errorf("title %q", ops.title)
	}
	if ops.xTitle != "elapsed (s)" || ops.xMin != 1 || ops.xMax != 38 || len(ops.plots[0]) != 38 {
		t.Errorf("time axis %q %v --> %v over %d points, want elapsed (s) 1 --> 38 over 38", ops.xTitle, ops.xMin, ops.xMax, len(ops.plots[0]))
	}
	if ops.plots[0][10] != 0 || ops.plots[0][11] != 0 {
		t.Errorf("the stalled seconds 11s and 12s show %v and %v ops/s", ops.plots[0][10], ops.plots[0][11])
	}
	containsInOrder(t, "caption", md, "```\n\none point every 1s;",
		"⚡ faults: 1 stall for 2s (10s–12s); 2 terminate 50% of the pool's backends (30s); 3 lock planrun_accounts for 3s (failed at 35s).")
	pool, err := checkXYChart(blocks[2])
	if err != nil {
		t.Fatal(err)
	}
	// in use, waiting, capacity 50 (size 20 + overflow 30), size 20
	if len(pool.plots) != 4 || pool.plots[2][0] != 50 || pool.plots[3][0] != 20 || pool.hi < 50 {
		t.Errorf("pool chart: %d plots, capacity %v, size %v, axis to %v", len(pool.plots), pool.plots[2][0], pool.plots[3][0], pool.hi)
	}
}

// A ten-minute series of 600 points is charted as 100, whose throughput
// bars average the merged seconds (the partial last second counted by its
// own length) and whose pool lines keep the peaks.
func TestMarkdownChartsDownsampled(t *testing.T) {
	run := PassingRun()
	run.Scenarios = run.Scenarios[:1]
	s := &run.Scenarios[0]
	s.Series, s.SeriesStep, s.Warmup = nil, time.Second, 0
	for i := range 599 {
		s.Series = append(s.Series, results.Point{T: time.Duration(i+1) * time.Second, Ops: 240, InUse: 5, AcquireP95: time.Millisecond})
	}
	s.Series = append(s.Series, results.Point{T: 599*time.Second + 500*time.Millisecond, Ops: 120, InUse: 5})
	s.Series[300].InUse, s.Series[300].Waiting = 50, 9
	blocks := mermaidBlocks(t, string(render(t, "markdown", run, report.Options{})))
	if len(blocks) != 3 {
		t.Fatalf("%d charts, want 3", len(blocks))
	}
	ops, err := checkXYChart(blocks[0])
	if err != nil {
		t.Fatal(err)
	}
	// 599.5 s prints as 600: three significant digits.
	if len(ops.plots[0]) != 100 || ops.xMin != 6 || ops.xMax != 600 {
		t.Fatalf("%d points from %v to %v, want 100 from 6 to 600", len(ops.plots[0]), ops.xMin, ops.xMax)
	}
	for i, v := range ops.plots[0] {
		if v != 240 {
			t.Errorf("point %d: %v ops/s, want 240", i, v)
		}
	}
	pool, err := checkXYChart(blocks[2])
	if err != nil {
		t.Fatal(err)
	}
	if pool.plots[0][50] != 50 || pool.plots[1][50] != 9 || pool.plots[0][49] != 5 {
		t.Errorf("merged peaks: in use %v, waiting %v at point 50; want 50, 9", pool.plots[0][50], pool.plots[1][50])
	}
}

// Names are user text: a quote or markup in one cannot end a mermaid
// string or reach the page.
func TestMarkdownChartsEscapeNames(t *testing.T) {
	run := FaultsRun()
	run.Scenarios[0].Name = "out\"age`</script><b>#1;\n100%"
	md := string(render(t, "markdown", run, report.Options{}))
	for _, b := range mermaidBlocks(t, md) {
		c, err := checkXYChart(b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if !strings.HasPrefix(c.title, "out'age'‹/script›‹b›♯1, 100٪: ") {
			t.Errorf("title %q", c.title)
		}
	}
	parseMarkdown(t, md)
}

// A run of many scenarios charts at most eight, fewer when their charts
// would take the report over GitHub's comment limit, and says which
// scenarios have no charts.
func TestMarkdownChartsCapped(t *testing.T) {
	for _, tt := range []struct {
		name        string
		points      int
		wantCharted int // 0: as many as fit
	}{{"short series", 10, 8}, {"long series", 600, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			run := PassingRun()
			base := run.Scenarios[0]
			run.Scenarios = nil
			for i := range 12 {
				s := base
				s.Name = fmt.Sprintf("soak_%02d", i+1)
				s.Series = nil
				for j := range tt.points {
					s.Series = append(s.Series, results.Point{T: time.Duration(j+1) * 10 * time.Second, Ops: int64(1000 + j*7%300), Users: 25,
						AcquireP95: time.Duration(j*13%97) * time.Millisecond, InUse: j % 50, Idle: 3, Waiting: j % 7})
				}
				run.Scenarios = append(run.Scenarios, s)
			}
			md := string(render(t, "markdown", run, report.Options{}))
			if len(md) > 65_536 {
				t.Errorf("the markdown is %d bytes, over GitHub's comment limit", len(md))
			}
			blocks := mermaidBlocks(t, md)
			if len(blocks) == 0 || len(blocks) > 8*3 || len(blocks)%3 != 0 {
				t.Fatalf("%d charts, want whole scenarios, at most 8", len(blocks))
			}
			for _, b := range blocks {
				if _, err := checkXYChart(b); err != nil {
					t.Fatal(err)
				}
			}
			charted := len(blocks) / 3
			if tt.wantCharted > 0 && charted != tt.wantCharted {
				t.Errorf("%d scenarios charted, want %d", charted, tt.wantCharted)
			}
			if !strings.Contains(md, fmt.Sprintf("No charts for %d scenarios (soak_%02d, ", 12-charted, charted+1)) {
				t.Errorf("no line names the %d scenarios left out", 12-charted)
			}
			t.Logf("%d of 12 scenarios charted; markdown %d bytes", charted, len(md))
		})
	}
}
