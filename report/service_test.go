package report_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
)

// TestServiceSection: the table, markdown and HTML reports show each
// scenario's service figures, its leaks with pid, age, state and query, and
// the not-found and drain-not-checked notes, and the service's CPU among
// the load generator's figures; a password in a leak's query
// or a note is masked and a control character escaped; a run without a
// service shows no service section.
func TestServiceSection(t *testing.T) {
	run := ServiceRun()
	leaky := run.Scenarios[1].Service
	leaky.LeakDetails[0].Query = "ALTER ROLE app PASSWORD 's3cr3t-pw' \x1b[2J"
	run.Scenarios[0].Service.MissedReason = "connect password=s3cr3t-pw failed"
	for _, f := range []struct{ format, section string }{
		{"table", "Service · leaky"}, {"markdown", "### Service"}, {"html", "<h3>Service</h3>"},
	} {
		t.Run(f.format, func(t *testing.T) {
			out := string(render(t, f.format, run, report.Options{}))
			for _, want := range []string{
				f.section,
				"9 / 7 / 4.2",                                              // steady's in use max / p95 / mean
				"40% / 33.3% / 19.7%",                                      // leaky's utilization
				"31s",                                                      // idle in transaction max
				"48230", "unreleased", "idle in transaction", "FOR UPDATE", // a leak
				"15 / 15 / 15 at planrun", // connections
				"the check after the drain was not made",
				"no backend with application_name",
				"service 0.58, machine 1.42 of 2 cores", // the started service's CPU, in the generator's figures
			} {
				if !strings.Contains(out, want) && !strings.Contains(out, strings.ReplaceAll(want, "'", "&#39;")) {
					t.Errorf("no %q in the %s report", want, f.format)
				}
			}
			if strings.Contains(out, "s3cr3t-pw") || strings.Contains(out, "\x1b[2J") {
				t.Errorf("the %s report shows a password or a raw escape", f.format)
			}
			if f.format == "table" && strings.Count(out, "Service · ") != 3 {
				t.Errorf("table: %d service sections, want one per scenario (3)", strings.Count(out, "Service · "))
			}
			plain := string(render(t, f.format, PassingRun(), report.Options{}))
			if strings.Contains(plain, f.section) {
				t.Errorf("the %s report of a run without a service shows a service section", f.format)
			}
		})
	}
}

// TestServiceLeaksBounded: the leaks a report details are the record's (at
// most results.MaxServiceLeakDetails), with the count of those not
// detailed.
func TestServiceLeaksBounded(t *testing.T) {
	run := ServiceRun()
	v := run.Scenarios[1].Service
	v.Leaks = 25
	v.LeakDetails = nil
	for i := range results.MaxServiceLeakDetails {
		v.LeakDetails = append(v.LeakDetails, results.ServiceLeak{PID: 70000 + i, Kind: "held", State: "idle in transaction", Query: "SELECT 1"})
	}
	out := string(render(t, "markdown", run, report.Options{}))
	if got := strings.Count(out, "| leaky | 700"); got != results.MaxServiceLeakDetails {
		t.Errorf("%d leak rows, want %d", got, results.MaxServiceLeakDetails)
	}
	if !strings.Contains(out, fmt.Sprintf("%d more not detailed", 25-results.MaxServiceLeakDetails)) {
		t.Errorf("no count of the leaks not detailed")
	}
}

// TestHTTPOnlyScenario: on a scenario that sent only HTTP requests, no
// report shows planrun's own pool figures as measured zeros: the table and
// HTML say not applicable in their place, the markdown's pool table shows
// "–" and says why, no pool chart is drawn for it (the mermaid latency
// chart is its requests'), and the JSON says http_only; the SQL scenario
// beside it keeps its figures.
func TestHTTPOnlyScenario(t *testing.T) {
	run := HTTPOnlyRun()
	for _, f := range []struct {
		format string
		want   []string
		not    []string
	}{
		{"table", []string{"planrun's pool", "not applicable: the scenario sent only HTTP requests", "mean 41%, p95 67%, max 67%"},
			[]string{"mean 0%, p95 0%, max 0%", "opened 0, closed 0"}},
		{"markdown", []string{"| leaks | – | 0 |", "| utilization mean / p95 / max | – | 41% / 67% / 67% |",
			"– for api: sent only HTTP requests, so planrun's own pool took no load", `title "api: request p95 (ms)"`},
			[]string{"| 0% / 0% / 0% |", `"api: pool in use`, `"api: acquire p95`}},
		{"html", []string{"planrun&#39;s pool", "not applicable: the scenario sent only HTTP requests", "mean 41%, p95 67%, max 67%"},
			[]string{"mean 0%, p95 0%, max 0%"}},
		{"json", []string{`"http_only": true`}, nil},
		{"junit", []string{`name="http_only" value="true"`, `name="acquire.p95" value="240ms"`}, []string{`name="acquire.p95" value="0s"`}},
	} {
		t.Run(f.format, func(t *testing.T) {
			out := string(render(t, f.format, run, report.Options{}))
			for _, w := range f.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in the %s report", w, f.format)
				}
			}
			for _, n := range f.not {
				if strings.Contains(out, n) {
					t.Errorf("the %s report shows %q", f.format, n)
				}
			}
		})
	}
	html := string(render(t, "html", run, report.Options{}))
	if strings.Contains(html, "Connections in use, idle and open") || !strings.Contains(html, "Per step, the requests&#39; p95 (op p95)") {
		t.Errorf("HTML: a pool chart, or no request latency chart, for api")
	}
	if json := string(render(t, "json", PassingRun(), report.Options{})); strings.Contains(json, "http_only") {
		t.Errorf("the JSON of a SQL run says http_only")
	}
}
