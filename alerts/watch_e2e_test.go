package alerts

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// watchPlan is a deployed service on the tests' server: its backends carry
// the application_name alerts-watch-e2e, its pool is 4 + 0.
const watchPlan = `
version: 1
name: alerts-watch-e2e
target:
  url: ${WATCH_URL}
  service: {url: "http://127.0.0.1:1", application_name: alerts-watch-e2e}
pool: {size: 4, max_overflow: 0, timeout: 30s}
mixes:
  m:
    - {name: balance, http: GET /balance}
scenarios:
  - {name: peak, mix: m, users: 4, duration: 1m}
`

// TestPrometheusFiresOnAWatch: a real Prometheus scrapes `planrun watch`
// and evaluates the rules `planrun alerts --source watch` writes for the
// same plan. While the service's one session is idle, no utilization alert
// fires; when four sessions (the whole pool) run a query, the utilization
// and at-capacity alerts fire for the watch.
func TestPrometheusFiresOnAWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a watch and Prometheus; skipped with -short")
	}
	prom := lookPath(t, "prometheus", "prometheus not found: run `make deps` (Debian: apt-get install prometheus; macOS: brew install prometheus)")
	dsn := localpgtest.DSN(t)
	dir := t.TempDir()
	planPath := filepath.Join(dir, "plan.yaml")
	writeFile(t, planPath, watchPlan)
	p := plan(t, strings.ReplaceAll(watchPlan, "${WATCH_URL}", "postgres://watched/db"))
	metricsAddr := freeAddr(t)
	api := startPrometheus(t, prom, dir, p, metricsAddr)
	bin := buildPlanrun(t, dir)

	session := func() *pgx.Conn {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["application_name"] = "alerts-watch-e2e"
		c, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	sessions := []*pgx.Conn{session()}

	watch := exec.Command(bin, "watch", planPath, "--interval", "200ms", "--for", "3m", "--quiet", "--metrics-addr", metricsAddr, "--format", "json")
	watch.Env = append(os.Environ(), "WATCH_URL="+dsn)
	var watchErr strings.Builder
	watch.Stderr = &watchErr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- watch.Wait() }()
	defer func() {
		_ = watch.Process.Signal(syscall.SIGINT) // a final report, exit 4
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = watch.Process.Kill()
		}
	}()

	// Quiet: Prometheus has scraped the watch's utilization, 0 of 4, for a
	// while longer than the rules' `for`.
	var quietSeen []string
	waitUntil(t, "Prometheus scraping the quiet watch", exited, &watchErr, func() bool {
		for _, a := range firing(t, api) {
			quietSeen = append(quietSeen, a.Labels["alertname"]+"{"+a.Labels["scenario"]+"}")
		}
		return len(query(t, api, `count_over_time(planrun_service_utilization{scenario="watch"}[10s]) >= 6`)) > 0
	})
	for _, a := range quietSeen {
		if strings.HasPrefix(a, "PlanrunPoolUtilizationHigh") || strings.HasPrefix(a, "PlanrunPoolAtCapacity") {
			t.Errorf("%s fired while the service's one session was idle", a)
		}
	}

	// Busy: the whole pool runs a query.
	for len(sessions) < 4 {
		sessions = append(sessions, session())
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Exec(ctx, "SELECT pg_sleep(120)") // cancelled below
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	fired := map[string]bool{}
	waitUntil(t, "the utilization and at-capacity alerts firing for the watch", exited, &watchErr, func() bool {
		for _, a := range firing(t, api) {
			if a.Labels["scenario"] == "watch" {
				fired[a.Labels["alertname"]] = true
			}
		}
		return fired["PlanrunPoolUtilizationHigh"] && fired["PlanrunPoolAtCapacity"]
	})
	t.Logf("quiet: %v firing; busy: %v fired for the watch", dedupe(quietSeen), fired)
}

// query returns the result vector of a PromQL instant query.
func query(t *testing.T, api, q string) []map[string]any {
	t.Helper()
	var body struct {
		Data struct {
			Result []map[string]any `json:"result"`
		} `json:"data"`
	}
	getJSON(t, api+"/api/v1/query?query="+url.QueryEscape(q), &body)
	return body.Data.Result
}

// waitUntil polls cond every 250 ms for up to 90 s (a busy machine),
// failing early when the watch exits.
func waitUntil(t *testing.T, what string, exited <-chan error, watchErr *strings.Builder, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("planrun watch ended while waiting for %s: %v\n%s", what, err, watchErr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 90s for %s\nplanrun watch:\n%s", what, watchErr.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}
