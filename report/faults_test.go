package report_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/planrun/planrun/report"
)

// containsInOrder fails the test unless out holds every want, in order.
func containsInOrder(t *testing.T, what, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("%s lacks %q (in order) in:\n%s", what, w, out)
		}
		rest = rest[i+len(w):]
	}
}

// The terminal table says the network under the target and lists each
// scenario's faults after its pool diagnostics, whose recovery line names
// the fault it was measured after.
func TestTableFaults(t *testing.T) {
	out := string(render(t, "table", FaultsRun(), report.Options{}))
	containsInOrder(t, "table", out,
		"  target  ", "\n  network +2ms ±500µs, 100 MB/s per connection each way, pool connections only (preflight and setup direct)\n", "  pool    ",
		"Pool · outage", "│ recovery                │ not recovered by the end (8.1s after fault 2, terminate │",
		"Faults · outage", "│ # │ fault", "│  at │", "ran │ effect", "│ recovery",
		"│ 1 │ stall for 2s", "│ 10s │", "10s–12s │ stalled 40 connections for 2s", "│ recovered in 1.24s",
		"│ 2 │ terminate 50% of the", "not recovered (8.1s to the end)",
		"│ 3 │ lock planrun_accounts for", "failed at 35s │ ERROR: relation", "│ –",
		"│ 4 │ reset every pool", "not reached │",
		"Assertions")
	if plain := string(render(t, "table", PassingRun(), report.Options{})); strings.Contains(plain, "network") || strings.Contains(plain, "Faults") {
		t.Errorf("a run without network or faults shows them:\n%s", plain)
	}
}

// The markdown report lists the faults under the scenarios, names the fault
// the recovery followed, and marks the time-series points in which a fault
// ran, keeping those points when the series is condensed.
func TestMarkdownFaults(t *testing.T) {
	md := string(render(t, "markdown", FaultsRun(), report.Options{}))
	checkMarkdownTables(t, md)
	parseMarkdown(t, md)
	containsInOrder(t, "markdown", md,
		"· **Network** +2ms ±500µs, 100 MB/s per connection each way, pool connections only (preflight and setup direct) · **Pool**",
		"### Scenarios", "### Faults",
		"| scenario | # | fault | at | ran | effect | recovery |",
		"| outage | 1 | stall for 2s | 10s | 10s–12s | stalled 40 connections for 2s | recovered in 1.24s |",
		"| outage | 2 | terminate 50% of the pool's backends | 30s | 30s | terminated 12 of 24 backends | not recovered (8.1s to the end) |",
		"| outage | 3 | lock planrun_accounts for 3s | 35s | failed at 35s | `ERROR: relation \"planrun_accounts\" does not exist (SQLSTATE 42P01)` | – |",
		"| outage | 4 | reset every pool connection | 45s | not reached |",
		"### Failed assertions",
		"| recovery | not recovered by the end (8.1s after fault 2, terminate 50% of the pool's backends) |",
		"- network: +2ms ±500µs")

	series := seriesSection(t, md, "outage")
	containsInOrder(t, "series", series,
		"22 of 38 points, one every 1s; ⚡ marks the points in which a fault ran",
		"| t | users | ops/s | errors | acquire p95 | in use (max) | idle (end) | waiting (max) | fault |",
		"| 10s | 40 | 593 | 0 | 20.1ms | 7 | 18 | 0 |  |",
		// 11s is not one of the 20 evenly spaced points: it is kept for the stall.
		"| 11s | 40 | 0.0 | 0 | 400ms | 49 | 4 | 40 | ⚡ 1 stall |",
		"| 12s | 40 | 0.0 | 0 | 400ms | 49 | 4 | 40 | ⚡ 1 stall |",
		"| 31s |", "⚡ 2 terminate_backends |",
		"| 36s |", "⚡ 3 lock (failed) |")
	if strings.Contains(series, "reset") {
		t.Errorf("the series marks a fault that was not reached:\n%s", series)
	}

	plain := string(render(t, "markdown", PassingRun(), report.Options{}))
	for _, not := range []string{"### Faults", "| fault |", "**Network**", "- network:"} {
		if strings.Contains(plain, not) {
			t.Errorf("a run without network or faults shows %q", not)
		}
	}
}

// JUnit carries each fault and its recovery as properties of the
// scenario's testsuite, and a fault that failed to apply as a line of the
// suite's system-out.
func TestJUnitFaults(t *testing.T) {
	var doc struct {
		Suites []struct {
			Name       string `xml:"name,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			SystemOut string `xml:"system-out"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(render(t, "junit", FaultsRun(), report.Options{}), &doc); err != nil {
		t.Fatal(err)
	}
	var props map[string]string
	var out string
	for _, s := range doc.Suites {
		if s.Name == "outage" {
			props, out = map[string]string{}, s.SystemOut
			for _, p := range s.Properties {
				props[p.Name] = p.Value
			}
		}
	}
	want := map[string]string{
		"network":          "+2ms ±500µs, 100 MB/s per connection each way, pool connections only (preflight and setup direct)",
		"recovery":         "not recovered by the end (8.1s after fault 2, terminate 50% of the pool's backends)",
		"fault.1":          "stall for 2s (at 10s)",
		"fault.1.ran":      "10s–12s",
		"fault.1.effect":   "stalled 40 connections for 2s",
		"fault.1.recovery": "recovered in 1.24s",
		"fault.2.recovery": "not recovered (8.1s to the end)",
		"fault.3.ran":      "failed at 35s",
		"fault.4.ran":      "not reached",
	}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q", k, props[k], v)
		}
	}
	if _, ok := props["fault.3.recovery"]; ok {
		t.Error("a fault with no recovery has a recovery property")
	}
	if want := `fault 3 (lock planrun_accounts for 3s) failed at 35s: ERROR: relation "planrun_accounts" does not exist (SQLSTATE 42P01)`; out != want {
		t.Errorf("system-out = %q, want %q", out, want)
	}
}
