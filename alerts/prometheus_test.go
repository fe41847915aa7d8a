package alerts

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/planrun/planrun/internal/pystack"
	"github.com/planrun/planrun/schema"
)

// e2ePlan loads the reference service (pool 2 + 0) in two scenarios:
// quiet, one request a second that holds a connection 400 ms (at most one
// of two connections in use: 50 %), then busy, 8 a second (3.2
// connections' worth on 2: the pool stays saturated).
const e2ePlan = `
version: 1
name: alerts-e2e
target:
  service:
    start: [sh, serve.sh, "{port}"]
    dir: %s
    env: {POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", POOL_TIMEOUT: "30", ACCOUNTS: "10"}
pool: {size: 2, max_overflow: 0, timeout: 30s}
mixes:
  m:
    - name: report
      http: GET /report?hold_ms=400
      timeout: 60s
scenarios:
  - {name: quiet, rate: 1/s, arrival: uniform, duration: 6s}
  - {name: busy, rate: 8/s, arrival: uniform, duration: 8s}
`

// TestPrometheusFiresTheRules is the rules end to end: a real Prometheus
// scrapes a real run's live metrics (the reference service started by
// planrun, watched from the server) and evaluates the rules `planrun
// alerts --source watch` writes for the plan, their `for` shortened to 1 s
// so the test takes seconds (waiting out `for` is Prometheus's own job).
// The utilization alert fires in the busy scenario, never in the quiet
// one.
func TestPrometheusFiresTheRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a plan and Prometheus; skipped with -short")
	}
	prom := lookPath(t, "prometheus", "prometheus not found: run `make deps` (Debian: apt-get install prometheus; macOS: brew install prometheus)")
	python, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		skipOrFail(t, err.Error())
	}
	dir := t.TempDir()
	serviceDir, err := filepath.Abs(filepath.Join("..", "examples", "service"))
	if err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(dir, "plan.yaml")
	writeFile(t, planPath, fmt.Sprintf(e2ePlan, serviceDir))

	metricsAddr := freeAddr(t)
	api := startPrometheus(t, prom, dir, plan(t, fmt.Sprintf(e2ePlan, serviceDir)), metricsAddr)
	bin := buildPlanrun(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, bin, planPath, "--quiet", "--metrics-addr", metricsAddr, "--metrics-linger", "3s", "--format", "json")
	run.Env = append(os.Environ(), "PYTHON="+python, "DATABASE_URL=")
	var runErr strings.Builder
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()

	fired := map[string]bool{} // scenario → the utilization alert fired there
	var states []string
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for done := false; !done; {
		select {
		case err := <-exited:
			// exit 1 (not approved) is fine: the busy scenario's figures
			// may fail the built-in checks; anything else is a failure.
			if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
				t.Fatalf("planrun: %v\n%s", err, runErr.String())
			}
			done = true
		case <-poll.C:
		}
		for _, a := range firing(t, api) {
			if a.Labels["alertname"] == "PlanrunPoolUtilizationHigh" {
				fired[a.Labels["scenario"]] = true
			}
			states = append(states, a.Labels["alertname"]+"{"+a.Labels["scenario"]+"}")
		}
	}
	t.Logf("alerts seen firing: %s", strings.Join(dedupe(states), ", "))
	if !fired["busy"] {
		t.Errorf("PlanrunPoolUtilizationHigh never fired for the busy scenario (saturated pool); seen: %v\nplanrun:\n%s", dedupe(states), runErr.String())
	}
	if fired["quiet"] {
		t.Errorf("PlanrunPoolUtilizationHigh fired for the quiet scenario (at most 50 %% in use)")
	}
}

// startPrometheus starts a real Prometheus in dir that scrapes target
// every 500 ms and evaluates the rules `planrun alerts --source watch`
// writes for p, their `for` shortened to 1 s so a test takes seconds
// (waiting out `for` is Prometheus's own job); it returns its API's URL
// once Prometheus is ready, and stops it when the test ends.
func startPrometheus(t *testing.T, prom, dir string, p *schema.Plan, target string) string {
	t.Helper()
	g, err := Rules(p, SourceWatch)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g.Rules {
		if g.Rules[i].For != "" {
			g.Rules[i].For = "1s"
		}
	}
	rules, err := yaml.Marshal(map[string]any{"groups": []Group{g}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "rules.yml"), string(rules))
	promAddr := freeAddr(t)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), fmt.Sprintf(`
global: {scrape_interval: 500ms, evaluation_interval: 500ms}
rule_files: [rules.yml]
scrape_configs:
  - job_name: planrun
    static_configs: [{targets: [%q]}]
`, target))
	promCmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr)
	promLog, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	promCmd.Stdout, promCmd.Stderr = promLog, promLog
	if err := promCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = promCmd.Process.Kill(); _ = promCmd.Wait() })
	api := "http://" + promAddr
	waitReady(t, api+"/-/ready", dir)
	return api
}

// buildPlanrun builds the planrun command into dir.
func buildPlanrun(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "planrun")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/planrun").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// alert is one entry of Prometheus's /api/v1/alerts.
type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// firing returns the alerts Prometheus has firing now.
func firing(t *testing.T, api string) []alert {
	t.Helper()
	var body struct {
		Data struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	getJSON(t, api+"/api/v1/alerts", &body)
	var out []alert
	for _, a := range body.Data.Alerts {
		if a.State == "firing" {
			out = append(out, a)
		}
	}
	return out
}

// getJSON decodes the JSON a GET of url answers into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("prometheus %s: %v", url, err)
	}
}

func waitReady(t *testing.T, url, dir string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("prometheus not ready after 60s: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func lookPath(t *testing.T, name, msg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFail(t, msg)
	}
	return p
}

// skipOrFail skips the test, or fails it in CI (CI set), where make deps
// installed what it needs.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
