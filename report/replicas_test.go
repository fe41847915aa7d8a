package report_test

import (
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/planrun/planrun/internal/markdown"
	"github.com/planrun/planrun/internal/markdown/markdowntest"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// suiteProperties returns the properties of each testsuite of a JUnit
// report, by suite name.
func suiteProperties(t *testing.T, junit []byte) map[string]map[string]string {
	t.Helper()
	var doc struct {
		Suites []struct {
			Name       string `xml:"name,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit, &doc); err != nil {
		t.Fatalf("JUnit is not well-formed XML: %v", err)
	}
	out := map[string]map[string]string{}
	for _, s := range doc.Suites {
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		out[s.Name] = props
	}
	return out
}

// markdownDoc parses md as GitHub would and checks its tables and that
// its only HTML is the report's own <details> blocks.
func markdownDoc(t *testing.T, md string) markdowntest.Doc {
	t.Helper()
	checkMarkdownTables(t, md)
	doc := parseMarkdown(t, md)
	return doc
}

// A scenario run by one replica has no per-replica breakdown in any
// format: it would repeat the totals.
func TestOneReplicaNoBreakdown(t *testing.T) {
	run := ReplicasRun()
	run.Target.Replicas = 1
	r := run.Scenarios[0].Replicas[0]
	run.Scenarios[0].Replicas = []results.Replica{r}

	table := string(render(t, "table", run, report.Options{}))
	md := string(render(t, "markdown", run, report.Options{}))
	for what, out := range map[string]string{"table": table, "markdown": md} {
		for _, not := range []string{"Replicas", "replicas, each", "exhaustion events / total / timeouts"} {
			if strings.Contains(out, not) {
				t.Errorf("%s of a one-replica run shows %q", what, not)
			}
		}
	}
	for suite, props := range suiteProperties(t, render(t, "junit", run, report.Options{})) {
		for name := range props {
			if strings.HasPrefix(name, "replica.") {
				t.Errorf("suite %s of a one-replica run has property %s", suite, name)
			}
		}
	}
}

// The terminal table breaks a scenario's pool figures down by replica
// after its pool diagnostics, and colours (yellow) the figures in which a
// replica stands out for the worse: nothing else.
func TestTableReplicas(t *testing.T) {
	out := string(render(t, "table", ReplicasRun(), report.Options{}))
	containsInOrder(t, "table", out,
		"  pool    3 replicas, each size 2 + overflow 1, timeout 5s\n",
		"Pool · contention", "│ exhaustion              │ 136 events, total 2m40s",
		"Replicas · contention",
		"│ replica │ acquires │ max open │ utilization mean / max │ exhaustion events / total / timeouts │",
		"│       1 │    3,601 │        3 │             97% / 100% │                       41 / 52.1s / 0 │",
		"│       2 │    3,589 │        3 │             99% / 100% │                       57 / 57.4s / 3 │",
		"│       3 │    3,598 │        3 │             96% / 100% │                       38 / 50.9s / 0 │",
		"Assertions")

	color := string(render(t, "table", ReplicasRun(), report.Options{Color: true}))
	_, section, _ := strings.Cut(color, "Replicas · contention")
	section, _, _ = strings.Cut(section, "Assertions")
	// Replica 2 was exhausted longest and alone timed out; every replica
	// reached 100 %, which the totals already say.
	if want := "\x1b[33m57 / 57.4s\x1b[0m / \x1b[33m3\x1b[0m"; !strings.Contains(section, want) {
		t.Errorf("the replicas table does not mark replica 2's exhaustion and timeouts %q:\n%q", want, section)
	}
	if n := strings.Count(section, "\x1b[33m"); n != 2 {
		t.Errorf("the replicas table colours %d figures, want 2:\n%q", n, section)
	}
}

// Markdown lists every scenario × replica under a line that says what a
// replica is; more than ten rows fold into <details>.
func TestMarkdownReplicas(t *testing.T) {
	md := string(render(t, "markdown", ReplicasRun(), report.Options{}))
	markdownDoc(t, md)
	containsInOrder(t, "markdown", md,
		"**Pool** 3 replicas, each size 2 + overflow 1, timeout 5s",
		"### Scenarios", "### Replicas\n\n",
		"3 replicas, each a pool of size 2 + overflow 1; the totals above are over all of them.",
		"| scenario | replica | acquires | max open | utilization mean / max | exhaustion events / total / timeouts |",
		"| contention | 1 | 3,601 | 3 | 97% / 100% | 41 / 52.1s / 0 |",
		"| contention | 2 | 3,589 | 3 | 99% / 100% | **57 / 57.4s** / **3** |",
		"| contention | 3 | 3,598 | 3 | 96% / 100% | 38 / 50.9s / 0 |",
		"### Failed assertions")
	_, replicas, _ := strings.Cut(md, "### Replicas")
	replicas, _, _ = strings.Cut(replicas, "###")
	if strings.Contains(replicas, "<details>") {
		t.Errorf("three replica rows are folded:\n%s", replicas)
	}

	merged := string(render(t, "markdown", MergedRun(), report.Options{}))
	markdownDoc(t, merged)
	containsInOrder(t, "merged markdown", merged,
		"### Replicas\n\n6 replicas, each a pool of size 2 + overflow 1; the totals above are over all of them.",
		"<details><summary>Per-replica figures (12 rows)</summary>\n\n| scenario | replica |",
		"| warm | 4 | 2,371 | 3 | 66% / **100%** | **2 / 310ms** / 0 |",
		"| hot | 6 | 3,581 | 3 | 99% / 100% | 58 / 58s / 3 |\n\n</details>",
		"### Failed assertions")
}

// JUnit carries each replica's worst figures as properties of the
// scenario's suite, and the run's segment or merge.
func TestJUnitReplicasSegmentMerged(t *testing.T) {
	props := suiteProperties(t, render(t, "junit", ReplicasRun(), report.Options{}))["contention"]
	want := map[string]string{
		"replica.1.utilization.max":     "100%",
		"replica.2.exhaustion.timeouts": "3",
		"replica.3.exhaustion.timeouts": "0",
		"replica.3.max_open":            "3",
	}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q", k, props[k], v)
		}
	}
	for _, not := range []string{"segment", "merged", "replica.4.max_open"} {
		if _, ok := props[not]; ok {
			t.Errorf("a whole run's suite has property %s", not)
		}
	}

	seg := suiteProperties(t, render(t, "junit", SegmentRun(), report.Options{}))["contention"]
	if got, want := seg["segment"], "segment 2 of 3 (replicas 3, 4), started at 2025-03-14 09:30:05 UTC"; got != want {
		t.Errorf("segment property = %q, want %q", got, want)
	}
	if got := seg["replica.4.max_open"]; got != "3" {
		t.Errorf("a segment's replicas keep the plan's numbers: replica.4.max_open = %q, want 3", got)
	}

	merged := suiteProperties(t, render(t, "junit", MergedRun(), report.Options{}))
	for _, suite := range []string{"warm", "hot"} {
		if got, want := merged[suite]["merged"], "merged from 3 segments: segment-1.json, segment-2.json, segment-3.json"; got != want {
			t.Errorf("%s: merged property = %q, want %q", suite, got, want)
		}
	}
}

// The table header and the markdown context line say when a run was one
// segment of a plan, or merged from segment reports (by the files' base
// names).
func TestSegmentAndMergedHeader(t *testing.T) {
	tests := []struct {
		name     string
		run      *results.Run
		table    string
		markdown string
	}{
		{"segment", SegmentRun(),
			"  run     segment 2 of 3 (replicas 3, 4), started at 2025-03-14 09:30:05 UTC\n",
			"· **Run** segment 2 of 3 (replicas 3, 4), started at 2025-03-14 09:30:05 UTC\n"},
		{"segment without --start-at, one replica", func() *results.Run {
			run := SegmentRun()
			run.Segment = &results.Segment{Index: 1, Count: 3, Replicas: []int{1}}
			return run
		}(),
			"  run     segment 1 of 3 (replica 1)\n",
			"· **Run** segment 1 of 3 (replica 1)\n"},
		{"merged", MergedRun(),
			"  run     merged from 3 segments: segment-1.json, segment-2.json, segment-3.json\n",
			"· **Run** merged from 3 segments: `segment-1.json`, `segment-2.json`, `segment-3.json`\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := string(render(t, "table", tt.run, report.Options{}))
			containsInOrder(t, "table", table, "  status  ", tt.table, "\nPreflight")
			md := string(render(t, "markdown", tt.run, report.Options{}))
			containsInOrder(t, "markdown", md, "**Plan** ", tt.markdown, "### Scenarios")
		})
	}
	for _, run := range []*results.Run{PassingRun(), ReplicasRun()} {
		if out := string(render(t, "table", run, report.Options{})); strings.Contains(out, "  run     ") {
			t.Errorf("a whole run's header has a run line:\n%s", out)
		}
		if out := string(render(t, "markdown", run, report.Options{})); strings.Contains(out, "**Run**") {
			t.Errorf("a whole run's context line has a run part")
		}
	}
}

// A merged record's file names are untrusted text: they show as code in
// markdown, with control characters escaped in the table and JUnit, and the
// renderers leave the record itself as it was.
func TestMergedFileNamesHostile(t *testing.T) {
	names := []string{
		"out/a`b|c*d*.json",
		"out/``<details><h1>x\x1b[31m\x00\r.json", // a base name holds no slash
		"C:" + "\n" + "seg[3](x).json",
	}
	run := MergedRun()
	run.Merged.Files = append([]string(nil), names...)

	md := string(render(t, "markdown", run, report.Options{}))
	doc := markdownDoc(t, md)
	noControl(t, "markdown", md)
	for _, base := range []string{"a`b|c*d*.json", "``<details><h1>x\x1b[31m\x00\r.json", "C:\nseg[3](x).json"} {
		// Outside a table the span keeps the backslash markdown.Code puts
		// before a pipe (it is made for table cells).
		shown := strings.ReplaceAll(markdown.OneLine(base), "|", `\|`)
		found := false
		for _, c := range doc.Code {
			found = found || c == shown
		}
		if !found {
			t.Errorf("no code span shows the file %q (as %q): %q", base, shown, doc.Code)
		}
	}
	if strings.Contains(doc.Visible, "out/") {
		t.Error("markdown shows a merged file's directory, not its base name")
	}

	for _, color := range []bool{false, true} {
		table := string(render(t, "table", run, report.Options{Color: color}))
		if color {
			table = painted.ReplaceAllString(table, "")
		}
		noControl(t, "table", table)
		containsInOrder(t, "table", table,
			"  run     merged from 3 segments: a`b|c*d*.json, ``<details><h1>x\\x1b[31m\\x00\\x0d.json, C:\\x0aseg[3](x).json\n")
	}

	junit := render(t, "junit", run, report.Options{})
	noControl(t, "JUnit", string(junit))
	if got, want := suiteProperties(t, junit)["hot"]["merged"],
		"merged from 3 segments: a`b|c*d*.json, ``<details><h1>x\\x1b[31m\\x00\\x0d.json, C:\\x0aseg[3](x).json"; got != want {
		t.Errorf("merged property = %q, want %q", got, want)
	}

	for _, format := range report.Formats {
		render(t, format, run, report.Options{Color: true})
	}
	if !reflect.DeepEqual(run.Merged.Files, names) {
		t.Errorf("rendering changed the merged files to %q", run.Merged.Files)
	}
}
