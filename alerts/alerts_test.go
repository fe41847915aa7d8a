package alerts

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/schema"
)

// planText is a plan whose limits the rules must carry: capacity
// 2 × (8 + 2) = 20, a utilization ceiling of 0.8 from an assertion (below
// the guide's 0.85), and a leak threshold of 45 s.
const planText = `
version: 1
name: finance-api
target:
  url: postgres://app:hunter2@db.internal:5432/finance
  replicas: 2
pool: {size: 8, max_overflow: 2, timeout: 20s, leak_threshold: 45s}
mixes:
  m:
    - {name: one, sql: SELECT 1}
scenarios:
  - {name: s, users: 4, duration: 10s}
assertions:
  - name: headroom left
    check: utilization.max < 0.8 && acquire.p95 < 50ms
`

func plan(t *testing.T, text string) *schema.Plan {
	t.Helper()
	p, err := schema.Parse("plan.yaml", []byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLimitsComeFromThePlan(t *testing.T) {
	l := LimitsOf(plan(t, planText))
	want := Limits{Capacity: 20, Utilization: 0.8, UtilizationFrom: "headroom left", IdleInTransaction: 45e9, Database: "finance"}
	if l != want {
		t.Errorf("limits %+v, want %+v", l, want)
	}
	bare := LimitsOf(plan(t, strings.NewReplacer("utilization.max < 0.8 && ", "", ", leak_threshold: 45s", "", "  url: postgres://app:hunter2@db.internal:5432/finance\n", "").Replace(planText)))
	if bare.Utilization != 0.85 || bare.UtilizationFrom != "" || bare.IdleInTransaction != 20e9 || bare.Database != "" {
		t.Errorf("a plan without a utilization ceiling, leak threshold or URL: %+v, want 0.85, the pool timeout 20s, no database", bare)
	}
	p := plan(t, planText)
	p.Target.Service = &schema.Service{Processes: 3}
	if got := LimitsOf(p).Capacity; got != 3*want.Capacity {
		t.Errorf("a service of 3 processes: capacity %d, want 3 × %d", got, want.Capacity)
	}
}

func TestNoPasswordInTheRules(t *testing.T) {
	for _, src := range Sources {
		for _, f := range Formats {
			var b bytes.Buffer
			if err := Write(&b, plan(t, planText), src, f); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(b.String(), "hunter2") || strings.Contains(b.String(), "db.internal") {
				t.Errorf("%s %s: the rules hold the target URL:\n%s", src, f, b.String())
			}
		}
	}
}

// promtool returns the promtool that `make deps` installs (Debian's
// prometheus package), skipping without it outside CI.
func promtool(t *testing.T) string {
	p, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found: run `make deps` (Debian: apt-get install prometheus; macOS: brew install prometheus)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

func writeRules(t *testing.T, dir string, src Source, f Format) string {
	var b bytes.Buffer
	if err := Write(&b, plan(t, planText), src, f); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%s.yml", src, f))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func TestRulesPassPromtoolCheck(t *testing.T) {
	pt := promtool(t)
	dir := t.TempDir()
	for _, src := range Sources {
		run(t, pt, "check", "rules", writeRules(t, dir, src, FormatPrometheus))

		// The PrometheusRule holds the same groups: checked as a rule file.
		var res struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Groups []Group `yaml:"groups"`
			} `yaml:"spec"`
		}
		b, _ := os.ReadFile(writeRules(t, dir, src, FormatPrometheusRule))
		if err := yaml.Unmarshal(b, &res); err != nil || res.Kind != "PrometheusRule" {
			t.Fatalf("%s prometheusrule: kind %q, %v", src, res.Kind, err)
		}
		spec, _ := yaml.Marshal(map[string]any{"groups": res.Spec.Groups})
		specPath := filepath.Join(dir, string(src)+"-spec.yml")
		if err := os.WriteFile(specPath, spec, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, pt, "check", "rules", specPath)
	}
}

// alertCase is one alert expected to fire (or to stay quiet: no labels)
// at a time, with its annotations as Prometheus renders them.
type alertCase struct {
	At     string          `yaml:"eval_time"`
	Alert  string          `yaml:"alertname"`
	Alerts []expectedAlert `yaml:"exp_alerts"`
}

type expectedAlert struct {
	Labels      map[string]string `yaml:"exp_labels"`
	Annotations map[string]string `yaml:"exp_annotations"`
}

type series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type testGroup struct {
	Name     string      `yaml:"name"`
	Interval string      `yaml:"interval"`
	Input    []series    `yaml:"input_series"`
	Alerts   []alertCase `yaml:"alert_rule_test"`
}

// fires is the alert of rule r firing with value (as its annotations
// render it) and the series' own labels extra.
func fires(t *testing.T, src Source, alert, value string, extra map[string]string) expectedAlert {
	g, err := Rules(plan(t, planText), src)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range g.Rules {
		if r.Alert != alert {
			continue
		}
		labels := map[string]string{}
		for k, v := range r.Labels {
			labels[k] = v
		}
		for k, v := range extra {
			labels[k] = v
		}
		ann := map[string]string{}
		for k, v := range r.Annotations {
			for _, tmpl := range []string{"{{ $value | humanizePercentage }}", "{{ $value | humanizeDuration }}", "{{ $value }}"} {
				v = strings.ReplaceAll(v, tmpl, value)
			}
			ann[k] = v
		}
		return expectedAlert{Labels: labels, Annotations: ann}
	}
	t.Fatalf("no rule %s", alert)
	return expectedAlert{}
}

// TestAlertsFireAndStayQuiet runs promtool's rule unit tests on synthetic
// series: each alert fires when its figure crosses the plan's limit for
// its duration, and stays quiet just inside the limit or when the
// crossing is shorter.
func TestAlertsFireAndStayQuiet(t *testing.T) {
	pt := promtool(t)
	dir := t.TempDir()
	watch := map[string]string{"scenario": "watch"}
	groups := map[Source][]testGroup{
		SourceWatch: {
			{Name: "utilization above the plan's 0.8 for 5m", Interval: "1m",
				Input: []series{{`planrun_service_utilization{scenario="watch"}`, "0.9x10"}},
				Alerts: []alertCase{
					{At: "4m", Alert: "PlanrunPoolUtilizationHigh"},
					{At: "6m", Alert: "PlanrunPoolUtilizationHigh", Alerts: []expectedAlert{fires(t, SourceWatch, "PlanrunPoolUtilizationHigh", "90%", watch)}},
				}},
			{Name: "utilization at 0.79 stays quiet", Interval: "1m",
				Input:  []series{{`planrun_service_utilization{scenario="watch"}`, "0.79x10"}},
				Alerts: []alertCase{{At: "10m", Alert: "PlanrunPoolUtilizationHigh"}}},
			{Name: "at capacity (20) for 1m; 19 stays quiet", Interval: "1m",
				Input: []series{{`planrun_service_in_use{scenario="watch"}`, "19 19 19 20 20 20"}},
				Alerts: []alertCase{
					{At: "2m", Alert: "PlanrunPoolAtCapacity"},
					{At: "4m", Alert: "PlanrunPoolAtCapacity", Alerts: []expectedAlert{fires(t, SourceWatch, "PlanrunPoolAtCapacity", "20", watch)}},
				}},
			{Name: "idle in transaction past 45s", Interval: "1m",
				Input: []series{{`planrun_service_idle_in_transaction_max_seconds{scenario="watch"}`, "44 46"}},
				Alerts: []alertCase{
					{At: "0m", Alert: "PlanrunIdleInTransactionTooLong"},
					{At: "1m", Alert: "PlanrunIdleInTransactionTooLong", Alerts: []expectedAlert{fires(t, SourceWatch, "PlanrunIdleInTransactionTooLong", "46s", watch)}},
				}},
			{Name: "server headroom below 10% for 5m", Interval: "1m",
				Input: []series{
					{`planrun_server_headroom{scenario="watch"}`, "5x10"},
					{`planrun_server_max_connections{scenario="watch"}`, "100x10"},
				},
				Alerts: []alertCase{{At: "6m", Alert: "PlanrunServerHeadroomLow", Alerts: []expectedAlert{fires(t, SourceWatch, "PlanrunServerHeadroomLow", "5%", nil)}}}},
		},
		SourcePostgresExporter: {
			{Name: "18 of 20 in use in database finance; the other database does not count", Interval: "1m",
				Input: []series{
					{`pg_stat_activity_count{datname="finance",state="active"}`, "10x10"},
					{`pg_stat_activity_count{datname="finance",state="idle in transaction"}`, "8x10"},
					{`pg_stat_activity_count{datname="finance",state="idle"}`, "30x10"},
					{`pg_stat_activity_count{datname="other",state="active"}`, "40x10"},
				},
				Alerts: []alertCase{
					{At: "6m", Alert: "PlanrunPoolUtilizationHigh", Alerts: []expectedAlert{fires(t, SourcePostgresExporter, "PlanrunPoolUtilizationHigh", "90%", nil)}},
					{At: "6m", Alert: "PlanrunPoolAtCapacity"},
				}},
			{Name: "idle in transaction past 45s in finance", Interval: "1m",
				Input: []series{
					{`pg_stat_activity_max_tx_duration{datname="finance",state="idle in transaction"}`, "50"},
					{`pg_stat_activity_max_tx_duration{datname="other",state="idle in transaction"}`, "500"},
				},
				Alerts: []alertCase{{At: "0m", Alert: "PlanrunIdleInTransactionTooLong", Alerts: []expectedAlert{fires(t, SourcePostgresExporter, "PlanrunIdleInTransactionTooLong", "50s", nil)}}}},
			{Name: "server headroom: 100 max, 3 reserved, 90 backends", Interval: "1m",
				Input: []series{
					{`pg_settings_max_connections`, "100x10"},
					{`pg_settings_superuser_reserved_connections`, "3x10"},
					{`pg_stat_activity_count{datname="finance",state="idle"}`, "50x10"},
					{`pg_stat_activity_count{datname="other",state="active"}`, "40x10"},
				},
				Alerts: []alertCase{{At: "6m", Alert: "PlanrunServerHeadroomLow", Alerts: []expectedAlert{fires(t, SourcePostgresExporter, "PlanrunServerHeadroomLow", "7%", nil)}}}},
		},
	}
	for _, src := range Sources {
		rules := writeRules(t, dir, src, FormatPrometheus)
		b, err := yaml.Marshal(map[string]any{"rule_files": []string{rules}, "evaluation_interval": "1m", "tests": groups[src]})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, string(src)+"-test.yml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, pt, "test", "rules", path)
	}
}
