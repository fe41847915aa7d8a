package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/engine/service"
	"github.com/planrun/planrun/internal/pystack"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// servicePython returns a python3 that has the reference service's stack
// (pystack.Find). Without one the test is skipped, except in CI (CI set),
// where its absence is a failure.
func servicePython(t *testing.T) string {
	t.Helper()
	py, err := pystack.Find(pystack.Service, pystack.ServiceDebs, pystack.ServicePips)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return py
}

// compileServicePlan parses a plan written inline with env for its
// ${VAR}s, points it at dsn (the test server when ""), and compiles it.
// The plan's name is made unique, so is the service's application_name
// derived from it.
func compileServicePlan(t *testing.T, src string, env map[string]string, dsn string) *engine.Program {
	t.Helper()
	plan, err := schema.Parse(t.Name()+".yaml", []byte(src), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	if dsn == "" {
		dsn = localpgtest.DSN(t)
	}
	plan.Target.URL = dsn
	plan.Target.ApplicationName = fmt.Sprintf("planrun-test-%d-%d", os.Getpid(), appSeq.Add(1))
	plan.Target.Service.ApplicationName = plan.Target.ApplicationName + "-svc"
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}
	return prog
}

// logs collects a run's log lines.
type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", args...)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServicePoolTimeoutsAre5xx loads the reference service (pool 4 + 4,
// timeout 2 s) with an open model above its capacity on /report, whose
// every request holds a connection: the service never holds more than its
// capacity (at planrun's proxy and as the server sees its backends), and
// its pool timeouts come back as 503s (http_5xx) that took at least the
// pool timeout.
func TestServicePoolTimeoutsAre5xx(t *testing.T) {
	py := servicePython(t)
	prog := compileServicePlan(t, `
version: 1
name: svc-timeouts
target:
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    env: {POOL_SIZE: "4", POOL_MAX_OVERFLOW: "4", POOL_TIMEOUT: "2", ACCOUNTS: "100"}
pool: {size: 4, max_overflow: 4, timeout: 2s}
mixes:
  api:
    - name: report
      http: GET /report?hold_ms=500
      timeout: 30s
scenarios:
  - name: above-capacity
    rate: 40/s          # capacity 8 / 0.5 s hold = 16/s at most
    arrival: uniform
    duration: 4s
`, map[string]string{"PYTHON": py}, "")
	var l logs
	// The live partial scenarios carry the service so far.
	var partials, liveInUse int
	sink := live.SinkFunc(func(s *live.Snapshot) *results.Outcome {
		if !s.Final && s.Scenario.Service != nil {
			partials++
			liveInUse = max(liveInUse, s.Scenario.Service.InUse.Max)
		}
		return nil
	})
	r := run(t, prog, engine.RunOptions{Logf: l.logf, Live: []live.Sink{sink}})
	if len(r.Scenarios) != 1 {
		t.Fatalf("%d scenarios, want 1\n%s", len(r.Scenarios), l.String())
	}
	if partials == 0 || liveInUse == 0 {
		t.Errorf("%d live partial scenarios with the service, in use at most %d: want some, busy", partials, liveInUse)
	}
	sc := r.Scenarios[0]
	if sc.Status != results.StatusCompleted {
		t.Fatalf("status %s: %v\n%s", sc.Status, sc.ErrorSamples, l.String())
	}
	svc := sc.Service
	if svc == nil {
		t.Fatal("no service section")
	}
	const capacity = 8
	if svc.Capacity != capacity {
		t.Errorf("service capacity %d, want %d", svc.Capacity, capacity)
	}
	if svc.Connections.MaxOpen <= 0 || svc.Connections.MaxOpen > capacity {
		t.Errorf("proxy max open %d, want 1..%d", svc.Connections.MaxOpen, capacity)
	}
	if svc.Backends.Max <= 0 || svc.Backends.Max > capacity {
		t.Errorf("service backends seen at most %d, want 1..%d", svc.Backends.Max, capacity)
	}
	if svc.Samples == 0 {
		t.Errorf("no sample of the service's backends")
	}
	n5xx := sc.ErrorsBy[results.ErrHTTP5xx]
	t.Logf("capacity %d: backends max %d, in use max %d, proxy max open %d; %d ops, %d http_5xx; op p50 %v p95 %v max %v",
		svc.Capacity, svc.Backends.Max, svc.InUse.Max, svc.Connections.MaxOpen, sc.Ops, n5xx, sc.Op.P50, sc.Op.P95, sc.Op.Max)
	// 160 arrivals for at most 16/s × ~6 s served: most wait past 2 s.
	if n5xx == 0 || float64(n5xx) < 0.1*float64(sc.Ops) {
		t.Fatalf("%d http_5xx of %d ops, want at least 10%%; errors %v, samples %v", n5xx, sc.Ops, sc.ErrorsBy, sc.ErrorSamples)
	}
	if s := sc.ErrorSamples[results.ErrHTTP5xx]; !strings.Contains(s, "503") || !strings.Contains(s, "pool timeout") {
		t.Errorf("http_5xx sample %q, want the service's 503 pool timeout", s)
	}
	for cat, n := range sc.ErrorsBy {
		if n > 0 && cat != results.ErrHTTP5xx {
			t.Errorf("%d errors of category %s (%s), want only http_5xx", n, cat, sc.ErrorSamples[cat])
		}
	}
	// A pool timeout is answered no sooner than the pool timeout: with
	// over 5 % of the operations timed out, the p95 is at least that.
	timeout := prog.Pool.Timeout
	if sc.Op.P95 < timeout {
		t.Errorf("op p95 %s, want at least the pool timeout %s (%d of %d operations timed out)", sc.Op.P95, timeout, n5xx, sc.Ops)
	}
	if sc.Acquire.Count != 0 {
		t.Errorf("acquire count %d, want 0: an HTTP operation acquires nothing of planrun's pool", sc.Acquire.Count)
	}
	// The capacity check counted the service's pool, and only it.
	if c := check(r, "capacity"); !strings.Contains(c.Reason, "needs service 1 × (4 + 4) = 8 connections (planrun's pool opens none") {
		t.Errorf("capacity check %q, want the service's pool alone counted", c.Reason)
	}
	if !strings.Contains(l.String(), "service: log ") {
		t.Errorf("no log line naming the service's log:\n%s", l.String())
	}
	// planrun started the service on its own cores: the service's process
	// tree, which answered every request, used CPU, counted beside the
	// embedded server's and within the machine's.
	if g := sc.Generator; runtime.GOOS == "linux" && (g.ServiceCPU <= 0 || g.ServiceCPU > g.MachineCPU+0.1) {
		t.Errorf("service CPU %.3f cores (machine %.3f, server %.3f), want above 0 (it answered %d requests) and within the machine's",
			g.ServiceCPU, g.MachineCPU, g.ServerCPU, sc.Ops)
	} else {
		t.Logf("CPU: planrun %.3f, server %.3f, service %.3f, machine %.3f of %d cores", g.CPU, g.ServerCPU, g.ServiceCPU, g.MachineCPU, g.Cores)
	}
	if r.Target.ServiceLog == "" {
		t.Error("no service_log in the results")
	} else if _, err := os.Stat(r.Target.ServiceLog); err != nil {
		t.Errorf("service log: %v", err)
	}
}

// TestServiceLeaks calls /leak, which checks a connection out and never
// returns it: every successful call is one leak of the service, with the
// leak's query.
func TestServiceLeaks(t *testing.T) {
	py := servicePython(t)
	prog := compileServicePlan(t, `
version: 1
name: svc-leaks
target:
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    env: {POOL_SIZE: "4", POOL_MAX_OVERFLOW: "4", POOL_TIMEOUT: "2", ACCOUNTS: "100"}
pool: {size: 4, max_overflow: 4, timeout: 2s}
mixes:
  api:
    - name: leak
      http: POST /leak
scenarios:
  - name: leaking
    rate: 3/s
    arrival: uniform
    duration: 1500ms
`, map[string]string{"PYTHON": py}, "")
	var l logs
	r := run(t, prog, engine.RunOptions{Logf: l.logf})
	sc := r.Scenarios[0]
	svc := sc.Service
	if svc == nil {
		t.Fatalf("no service section\n%s", l.String())
	}
	n := int(sc.Ops - sc.Errors)
	if n == 0 || n > svc.Capacity {
		t.Fatalf("%d successful /leak calls, want 1..%d (errors %v %v)", n, svc.Capacity, sc.ErrorsBy, sc.ErrorSamples)
	}
	if !svc.DrainChecked {
		t.Fatalf("drain check not made: %s", svc.DrainNotChecked)
	}
	t.Logf("%d successful /leak calls; service leaks %d (%d details)", n, svc.Leaks, len(svc.LeakDetails))
	if svc.Leaks != n {
		t.Errorf("service leaks %d, want %d (one per successful /leak): %+v", svc.Leaks, n, svc.LeakDetails)
	}
	for _, d := range svc.LeakDetails {
		if !strings.Contains(d.Query, "planrun-leak") {
			t.Errorf("leak query %q, want the /leak's query", d.Query)
		}
	}
	if len(svc.LeakDetails) != min(n, results.MaxServiceLeakDetails) {
		t.Errorf("%d leak details, want %d", len(svc.LeakDetails), n)
	}

	// The mix sends only HTTP requests: planrun's own pool took no load,
	// and the scenario says so; the built-in leak check judges the
	// service's leaks there, and fails on them.
	if !sc.HTTPOnly || sc.Acquire.Count != 0 || sc.Connections.Opened != 0 {
		t.Errorf("http_only %v, planrun's pool: %d acquires, %d connections opened; want true, 0, 0", sc.HTTPOnly, sc.Acquire.Count, sc.Connections.Opened)
	}
	set, err := assertions.Compile(&schema.Plan{File: "svc.yaml", Target: schema.Target{Service: &schema.Service{}}})
	if err != nil {
		t.Fatal(err)
	}
	outcomes, _ := set.Evaluate(r, nil)
	for _, o := range outcomes {
		if o.Name == "built-in: no connection leaks" && (o.Check != "service.leaks == 0" || o.Status != results.OutcomeFail) {
			t.Errorf("built-in leak check %q %s (%s), want service.leaks == 0 failed", o.Check, o.Status, o.Actual)
		}
	}
}

// TestServiceNeverReady starts a service that never answers its ready
// path (a plain file server, 404 on /healthz): the run fails (exit 3 in
// the CLI) with an error naming the ready path and the log file, the
// teardown still runs, and nothing of the service is left running.
func TestServiceNeverReady(t *testing.T) {
	dir := t.TempDir()
	prog := compileServicePlan(t, `
version: 1
name: svc-never-ready
target:
  service:
    start: [python3, -m, http.server, --bind, 127.0.0.1, --directory, "${DIR}", "{port}"]
setup:
  - CREATE TABLE svc_never_ready_marker (id int)
teardown:
  - DROP TABLE svc_never_ready_marker
mixes:
  api:
    - name: get
      http: GET /
scenarios:
  - name: s
    users: 1
    duration: 1s
`, map[string]string{"DIR": dir}, "")
	engine.SetServiceReadyTimeout(prog, 3*time.Second)
	var l logs
	r, err := engine.Run(context.Background(), prog, engine.RunOptions{Logf: l.logf})
	var f *engine.Failure
	if err == nil || !asFailure(err, &f) {
		t.Fatalf("run error %v, want a *Failure\n%s", err, l.String())
	}
	if f.Stage != "service" {
		t.Errorf("failure stage %q, want service", f.Stage)
	}
	if strings.Contains(f.Hint, "lacks the module") {
		t.Errorf("hint %q names a missing module: the service started and never answered", f.Hint)
	}
	// The capacity check counted the service's pool (processes default 1), and only it.
	if c := check(r, "capacity"); !strings.Contains(c.Reason, fmt.Sprintf("needs service 1 × (%d + %d) = %d connections (planrun's pool opens none",
		prog.Pool.Size, prog.Pool.MaxOverflow, prog.Pool.Capacity())) {
		t.Errorf("capacity check %q, want the service's pool alone counted", c.Reason)
	}
	msg := err.Error()
	if !strings.Contains(msg, "/healthz") {
		t.Errorf("error %q does not name the ready path", msg)
	}
	if !strings.Contains(msg, "planrun-service-") || !strings.Contains(msg, ".log") {
		t.Errorf("error %q does not name the log file", msg)
	}
	if r.Status != results.StatusFailed || len(r.Scenarios) != 0 {
		t.Errorf("run status %s with %d scenarios, want failed with none", r.Status, len(r.Scenarios))
	}
	if tableExists(t, "svc_never_ready_marker") {
		t.Error("the teardown did not run")
	}
	if pids := processesWith(t, dir); len(pids) > 0 {
		t.Errorf("processes of the service still running: %v", pids)
	}
}

// check returns the preflight check of r with the given name (zero if none).
func check(r *results.Run, name string) results.Check {
	for _, c := range r.Preflight {
		if c.Name == name {
			return c
		}
	}
	return results.Check{}
}

func asFailure(err error, f **engine.Failure) bool {
	ff, ok := err.(*engine.Failure)
	*f = ff
	return ok
}

// processesWith lists the processes whose command line holds s (Linux).
func processesWith(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestServiceSecretsNeverShown runs a service plan with a secret header
// (Authorization: Bearer ${TOKEN}), a database URL with a password and a
// secret in the service's env: none appears in the log lines or the JSON
// results, also where failures are recorded, nor in the log line that
// names the database URL handed to the service.
func TestServiceSecretsNeverShown(t *testing.T) {
	py := servicePython(t)
	const (
		token    = "tok-4f9a1c7e2b-Secret"
		password = "pw-8d3e5a1f77-Secret"
		envKey   = "key-2c6b9e4d10-Secret"
	)
	u, err := url.Parse(localpgtest.DSN(t))
	if err != nil || u.Scheme == "" {
		t.Skipf("the test server's DSN is not a URL: %v", err)
	}
	u.User = url.UserPassword(u.User.Username(), password) // trust auth ignores it; output must not show it
	prog := compileServicePlan(t, `
version: 1
name: svc-secrets
target:
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    env: {POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", ACCOUNTS: "10", API_SECRET_KEY: "${SKEY}"}
pool: {size: 2, max_overflow: 0}
mixes:
  api:
    - name: balance
      weight: 1
      http: GET /accounts/$1/balance
      args: [randInt(1, 10)]
      headers: {Authorization: "Bearer ${TOKEN}"}
    - name: missing       # 404: a failure recorded with its sample
      weight: 1
      http: GET /accounts/999999/balance
      headers: {Authorization: "Bearer ${TOKEN}"}
scenarios:
  - name: s
    rate: 20/s
    duration: 1s
`, map[string]string{"PYTHON": py, "TOKEN": token, "SKEY": envKey}, u.String())
	var l logs
	r := run(t, prog, engine.RunOptions{Logf: l.logf})
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Scenarios) != 1 || r.Scenarios[0].ErrorsBy[results.ErrHTTP4xx] == 0 {
		t.Fatalf("want a scenario with http_4xx errors recorded; got %s\n%s", js, l.String())
	}
	if !strings.Contains(l.String(), "DATABASE_URL=postgres://") {
		t.Errorf("no log line naming the database URL handed to the service:\n%s", l.String())
	}
	for _, secret := range []string{token, password, envKey} {
		if strings.Contains(string(js), secret) {
			t.Errorf("the JSON results show the secret %q", secret)
		}
		if strings.Contains(l.String(), secret) {
			t.Errorf("the log shows the secret %q", secret)
		}
	}
	found := false
	for _, s := range prog.Secrets() {
		found = found || s == token // the credential alone, besides the header's value
	}
	if !found {
		t.Errorf("Program.Secrets() lacks the header's token (what the CLI's redaction uses)")
	}
}

// TestServiceBackendsNotFound starts the reference service with a database
// URL of its own (database_env names another variable), so its backends
// carry its default application_name, not the one planrun watches: the
// scenario fails at the end of its warm-up, and the run's reason names the
// application_name and the key to set.
func TestServiceBackendsNotFound(t *testing.T) {
	py := servicePython(t)
	prog := compileServicePlan(t, `
version: 1
name: svc-not-found
target:
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    database_env: UNUSED_DATABASE_URL
    env: {DATABASE_URL: "${DSN}", APPLICATION_NAME: "${APP}", POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", ACCOUNTS: "10"}
pool: {size: 2, max_overflow: 0}
mixes:
  api:
    - name: balance
      http: GET /accounts/1/balance
scenarios:
  - name: s
    rate: 20/s
    warmup: 1s
    duration: 10s
`, map[string]string{"PYTHON": py, "DSN": localpgtest.DSN(t), "APP": fmt.Sprintf("other-%d", appSeq.Add(1))}, "")
	var l logs
	r := run(t, prog, engine.RunOptions{Logf: l.logf})
	if len(r.Scenarios) != 1 {
		t.Fatalf("%d scenarios, want 1\n%s", len(r.Scenarios), l.String())
	}
	sc := r.Scenarios[0]
	if sc.Status != results.StatusFailed || r.Status != results.StatusFailed {
		t.Fatalf("scenario %s, run %s; want both failed\n%s", sc.Status, r.Status, l.String())
	}
	name := prog.Target.Service.ApplicationName
	for _, s := range []string{sc.ErrorSamples[results.ErrOther], r.StatusReason} {
		if !strings.Contains(s, name) || !strings.Contains(s, "target.service.application_name") {
			t.Errorf("%q does not name %q and target.service.application_name", s, name)
		}
	}
	if sc.Service == nil || sc.Service.NotFound == "" {
		t.Errorf("the service section does not record the not-found: %+v", sc.Service)
	}
	// It stops at the end of the warm-up, not after the 10 s planned.
	if sc.Elapsed >= sc.Planned {
		t.Errorf("scenario ran %s of its %s: it should stop once the backends were not found", sc.Elapsed, sc.Planned)
	}
}

// TestServiceNetworkLatency puts target.network between the service and
// its database: every request waits for at least one round trip of its
// query through planrun's proxy, so none is faster than the latency.
func TestServiceNetworkLatency(t *testing.T) {
	py := servicePython(t)
	prog := compileServicePlan(t, `
version: 1
name: svc-network
target:
  network: {latency: 40ms}
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    env: {POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", ACCOUNTS: "10"}
pool: {size: 2, max_overflow: 0}
mixes:
  api:
    - name: balance
      http: GET /accounts/$1/balance
      args: [randInt(1, 10)]
scenarios:
  - name: s
    rate: 10/s
    duration: 2s
`, map[string]string{"PYTHON": py}, "")
	var l logs
	r := run(t, prog, engine.RunOptions{Logf: l.logf})
	sc := r.Scenarios[0]
	if sc.Ops == 0 || sc.Errors != 0 {
		t.Fatalf("%d ops, %d errors (%v)\n%s", sc.Ops, sc.Errors, sc.ErrorSamples, l.String())
	}
	latency := prog.Target.Network.Latency
	if sc.Op.Min < latency {
		t.Errorf("fastest request %s, want at least the network's round trip %s: the service's connections do not go through the proxy", sc.Op.Min, latency)
	}
	if c := sc.Service.Connections; c.MaxOpen == 0 || c.MaxOpen > 2 {
		t.Errorf("proxy max open %d, want 1..2 (the pool's size)", c.MaxOpen)
	}
}

// TestServiceRunning loads a service that is already running (url): planrun
// starts nothing, finds its backends by the application_name the plan
// names, and has no proxy counts (connections zero) and no log of it.
func TestServiceRunning(t *testing.T) {
	py := servicePython(t)
	app := fmt.Sprintf("planrun-test-running-%d-%d", os.Getpid(), appSeq.Add(1))
	u, err := url.Parse(localpgtest.DSN(t))
	if err != nil || u.Scheme == "" {
		t.Skipf("the test server's DSN is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	dir, err := filepath.Abs(filepath.Join("..", "examples", "service"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := service.Start(ctx, service.Spec{
		Start: []string{py, "-m", "uvicorn", "app:app", "--port", "{port}"}, Dir: dir,
		Env: map[string]string{"POOL_SIZE": "2", "POOL_MAX_OVERFLOW": "1", "ACCOUNTS": "10"}, DatabaseURL: u.String(),
		LogPath: filepath.Join(t.TempDir(), "service.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Stop() }()

	prog := compileServicePlan(t, `
version: 1
name: svc-running
target:
  service:
    url: ${URL}
    application_name: ${APP}
pool: {size: 2, max_overflow: 1}
mixes:
  api:
    - name: balance
      http: GET /accounts/$1/balance
      args: [randInt(1, 10)]
scenarios:
  - name: s
    rate: 20/s
    duration: 2s
`, map[string]string{"URL": p.URL(), "APP": app}, "")
	prog.Target.Service.ApplicationName = app // compileServicePlan names its own
	var l logs
	r := run(t, prog, engine.RunOptions{Logf: l.logf})
	sc := r.Scenarios[0]
	if sc.Status != results.StatusCompleted || sc.Ops == 0 || sc.Errors != 0 {
		t.Fatalf("status %s, %d ops, %d errors (%v)\n%s", sc.Status, sc.Ops, sc.Errors, sc.ErrorSamples, l.String())
	}
	if sc.Service == nil || sc.Service.NotFound != "" || sc.Service.Backends.Max == 0 || sc.Service.Capacity != 3 {
		t.Errorf("service section %+v: want the running service's backends found, capacity 3", sc.Service)
	}
	if c := sc.Service.Connections; c != (results.ServiceConnections{}) {
		t.Errorf("connections %+v, want zero: planrun's proxy is not in front of a running service", c)
	}
	if r.Target.ServiceLog != "" {
		t.Errorf("service log %q, want none: planrun started nothing", r.Target.ServiceLog)
	}
	if g := sc.Generator; g.ServiceCPU != -1 {
		t.Errorf("service CPU %v for a running service, want -1: planrun does not know its process", g.ServiceCPU)
	}
	if p.Err() != nil {
		t.Errorf("the running service: %v", p.Err())
	}
}

// TestServiceInterrupted stops a run in the middle of its scenario: the
// run ends interrupted, the service is stopped (no process of it left),
// and the teardown runs.
func TestServiceInterrupted(t *testing.T) {
	py := servicePython(t)
	marker := fmt.Sprintf("planrun-test-marker-%d-%d", os.Getpid(), appSeq.Add(1))
	prog := compileServicePlan(t, `
version: 1
name: svc-interrupted
target:
  service:
    start: ["${PYTHON}", -m, uvicorn, app:app, --port, "{port}"]
    dir: ../examples/service
    env: {POOL_SIZE: "2", POOL_MAX_OVERFLOW: "0", ACCOUNTS: "10", PLANRUN_TEST_MARKER: "${MARKER}"}
pool: {size: 2, max_overflow: 0}
setup:
  - CREATE TABLE svc_interrupted_marker (id int)
teardown:
  - DROP TABLE svc_interrupted_marker
mixes:
  api:
    - name: report
      http: GET /report?hold_ms=200
scenarios:
  - name: s
    rate: 20/s
    duration: 30s
`, map[string]string{"PYTHON": py, "MARKER": marker}, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var l logs
	started := make(chan struct{})
	var once sync.Once
	var seen int // the service's processes seen while it runs: the check below can see them
	sink := live.SinkFunc(func(*live.Snapshot) *results.Outcome {
		once.Do(func() {
			seen = len(processesWithEnv(t, marker))
			close(started)
		})
		return nil
	})
	go func() {
		<-started // the load runs
		cancel()
	}()
	r, err := engine.Run(ctx, prog, engine.RunOptions{Logf: l.logf, Live: []live.Sink{sink}})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, l.String())
	}
	if r.Status != results.StatusInterrupted {
		t.Errorf("run status %s (%s), want interrupted", r.Status, r.StatusReason)
	}
	if tableExists(t, "svc_interrupted_marker") {
		t.Error("the teardown did not run")
	}
	if seen == 0 {
		t.Error("the service's process was not seen while it ran: the check below proves nothing")
	}
	if pids := processesWithEnv(t, marker); len(pids) > 0 {
		t.Errorf("processes of the service still running: %v", pids)
	}
}

// processesWithEnv lists this user's processes whose environment holds s.
func processesWithEnv(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, e.Name())
		}
	}
	return out
}
