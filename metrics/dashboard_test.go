package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/planrun/planrun/metrics"
)

// dashboardPath is the Grafana dashboard over these metrics.
const dashboardPath = "../deploy/grafana/planrun-dashboard.json"

// dashboard is what the test reads of the dashboard's JSON.
type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	Inputs        []struct {
		Name string `json:"name"`
	} `json:"__inputs"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Panels []struct {
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

var metricName = regexp.MustCompile(`\bplanrun_[a-z0-9_]+`)

// TestMetricsDashboard: the dashboard parses, takes its data source as the
// ${DS_PROMETHEUS} input, and every query names only series the collector
// exports (metrics.Names); it covers the panels the README promises.
func TestMetricsDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: want a recent one (36 or later)", d.SchemaVersion)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" {
		t.Errorf("inputs %+v: want DS_PROMETHEUS", d.Inputs)
	}
	names := metrics.Names()
	used := map[string]bool{}
	check := func(where, expr string) {
		found := metricName.FindAllString(expr, -1)
		if len(found) == 0 {
			t.Errorf("%s: %q names no planrun metric", where, expr)
		}
		for _, n := range found {
			if !slices.Contains(names, n) {
				t.Errorf("%s: %q uses %s, which the collector does not export", where, expr, n)
			}
			used[n] = true
		}
	}
	for _, p := range d.Panels {
		if p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: data source %q, want ${DS_PROMETHEUS}", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	annotated := false
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			check("annotation "+a.Name, a.Expr)
			annotated = annotated || metricName.FindString(a.Expr) == "planrun_fault_active"
		}
	}
	if !annotated {
		t.Errorf("no annotation from planrun_fault_active")
	}
	for _, n := range []string{"planrun_ops_total", "planrun_errors_total", "planrun_acquire_seconds_bucket",
		"planrun_op_seconds_bucket", "planrun_pool_in_use", "planrun_pool_waiting", "planrun_generator_lateness_seconds_bucket",
		// the service under test, in a run or a watch (and the alerts' series)
		"planrun_service_in_use", "planrun_service_capacity", "planrun_service_utilization",
		"planrun_service_idle_in_transaction_max_seconds", "planrun_server_headroom", "planrun_server_max_connections"} {
		if !used[n] {
			t.Errorf("no panel uses %s", n)
		}
	}
}
