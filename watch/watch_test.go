package watch_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
	"github.com/planrun/planrun/watch"
)

func TestMain(m *testing.M) { os.Exit(localpgtest.Main(m)) }

// threshold is the plans' pool.leak_threshold.
const threshold = 300 * time.Millisecond

// planFor is a plan whose service is app on the tests' server (no service
// when app is ""), with a pool of 4 + 1 and the assertions given.
func planFor(t *testing.T, url, app, assertionsYAML string) *schema.Plan {
	t.Helper()
	svc, op := "", "{name: ping, sql: SELECT 1}"
	if app != "" {
		svc = "  service:\n    url: http://127.0.0.1:1\n    application_name: " + app + "\n"
		op = "{name: balance, http: GET /balance}"
	}
	text := "version: 1\nname: watched\ntarget:\n  url: ${WATCH_URL}\n" + svc + `
pool: {size: 4, max_overflow: 1, timeout: 5s, leak_threshold: 300ms}
mixes:
  api:
    - ` + op + `
scenarios:
  - {name: peak, mix: api, users: 2, duration: 10s}
` + assertionsYAML
	p, err := schema.Parse("plan.yaml", []byte(text), func(k string) (string, bool) {
		if k == "WATCH_URL" {
			return url, url != ""
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// connect opens a connection named app (in the database db, "" the DSN's).
func connect(t *testing.T, app, db string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	if db != "" {
		cfg.Database = db
	}
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// waitFor polls cond every 20 ms for up to 60 s (a busy machine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 60s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// snapshots keeps the live stream's snapshots' service figures.
type snapshots struct {
	mu   sync.Mutex
	svcs []results.Service
}

func (s *snapshots) Live(snap *live.Snapshot) *results.Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if snap.Scenario.Service != nil {
		s.svcs = append(s.svcs, *snap.Scenario.Service)
	}
	return nil
}

func (s *snapshots) latest() (results.Service, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.svcs) == 0 {
		return results.Service{}, false
	}
	return s.svcs[len(s.svcs)-1], true
}

// watchUntil watches p every 100 ms until cond holds on the live stream's
// latest service figures, then stops the watch (interrupted) and returns
// its record.
func watchUntil(t *testing.T, p *schema.Plan, what string, cond func(results.Service) bool, during func()) *results.Run {
	t.Helper()
	var snaps snapshots
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	type result struct {
		run *results.Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := watch.Run(ctx, watch.Config{Plan: p, Interval: 100 * time.Millisecond, Live: []live.Sink{&snaps}})
		done <- result{r, err}
	}()
	if during != nil {
		during()
	}
	waitFor(t, what, func() bool {
		select {
		case r := <-done:
			t.Fatalf("the watch ended early: %v", r.err)
		default:
		}
		s, ok := snaps.latest()
		return ok && cond(s)
	})
	cancel(errors.New("SIGINT"))
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.run
}

// verdict judges run with the plan's assertions and the built-ins.
func verdict(t *testing.T, p *schema.Plan, run *results.Run) results.Verdict {
	t.Helper()
	set, err := assertions.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	run.Assertions, run.Verdict = set.Evaluate(run, nil)
	return run.Verdict
}

// TestWatchCountsTheService: three sessions under the service's name, one
// of them idle in a transaction past the leak threshold, one under another
// name. Every sample counts the three; the held transaction is one leak;
// the record is the watch's and reads back.
func TestWatchCountsTheService(t *testing.T) {
	const app = "watch-counts"
	conns := []*pgx.Conn{connect(t, app, ""), connect(t, app, ""), connect(t, app, "")}
	connect(t, "watch-someone-else", "")
	exec(t, conns[0], "BEGIN")
	exec(t, conns[0], "SELECT 'held'")
	probe := connect(t, "watch-probe", "")
	waitFor(t, "the transaction idle past the threshold", func() bool {
		var held bool
		err := probe.QueryRow(context.Background(), `SELECT clock_timestamp() - state_change > $1::interval FROM pg_stat_activity WHERE pid = $2`,
			threshold.String(), conns[0].PgConn().PID()).Scan(&held)
		return err == nil && held
	})
	p := planFor(t, localpgtest.DSN(t), app, `assertions:
  - name: latency
    check: op.p95 < 200ms
  - name: idle
    check: service.idle_in_transaction.max < 1h
`)
	run := watchUntil(t, p, "ten samples and the leak", func(s results.Service) bool { return s.Samples >= 10 && s.Leaks >= 1 }, nil)

	if run.Status != results.StatusInterrupted || !strings.HasPrefix(run.StatusReason, "SIGINT: the watch was stopped after") || len(run.Scenarios) != 1 {
		t.Fatalf("status %s (%q), %d scenarios: want interrupted by SIGINT, one scenario", run.Status, run.StatusReason, len(run.Scenarios))
	}
	sc := run.Scenarios[0]
	svc := sc.Service
	t.Logf("watch: %d samples, %d missed; backends %+v, in use %+v, utilization %+v, idle in transaction max %s, leaks %d %+v, headroom min %d; %d series points of %s",
		svc.Samples, svc.Missed, svc.Backends, svc.InUse, svc.Utilization, svc.IdleInTransaction.Max, svc.Leaks, svc.LeakDetails, svc.Headroom.Min, len(sc.Series), sc.SeriesStep)
	if !sc.Watch || sc.Name != watch.ScenarioName || svc.ApplicationName != app || svc.Capacity != 5 {
		t.Errorf("scenario %q watch %v, service %q capacity %d: want the watch of %q, capacity 1 × 1 × (4 + 1)", sc.Name, sc.Watch, svc.ApplicationName, svc.Capacity, app)
	}
	if want := (results.ServiceLevel{Max: 3, Mean: 3, P95: 3}); svc.Backends != want {
		t.Errorf("backends %+v, want %+v: the three sessions opened, in every sample", svc.Backends, want)
	}
	if want := (results.ServiceLevel{Max: 1, Mean: 1, P95: 1}); svc.InUse != want || svc.Utilization.Max != 0.2 {
		t.Errorf("in use %+v, utilization %+v: want the one transaction, 1 of 5", svc.InUse, svc.Utilization)
	}
	if svc.Leaks != 1 || len(svc.LeakDetails) != 1 || svc.LeakDetails[0].Query != "SELECT 'held'" || svc.LeakDetails[0].Age < threshold {
		t.Errorf("leaks %d %+v: want the held transaction, past %s", svc.Leaks, svc.LeakDetails, threshold)
	}
	if run.Target.MaxConnections <= 0 || run.Target.ServerVersion == "" {
		t.Errorf("target %+v: want the server's max_connections and version", run.Target)
	}
	if len(sc.Series) == 0 || sc.SeriesStep < results.MinSeriesStep {
		t.Fatalf("series of %d points, step %s", len(sc.Series), sc.SeriesStep)
	}
	for i, pt := range sc.Series {
		if pt.Missed == 0 && (pt.Total != 3 || pt.InUse != 1 || pt.Idle != 2) {
			t.Errorf("series point %d: %+v, want 3 backends, 1 in use, 2 idle", i, pt)
		}
	}
	if err := run.Validate(); err != nil {
		t.Errorf("the record does not validate: %v", err)
	}

	v := verdict(t, p, run)
	if v.Pass {
		t.Errorf("a watch with a leak, interrupted, is approved: %+v", v)
	}
	for _, o := range run.Assertions {
		switch o.Name {
		case "latency":
			if o.Status != results.OutcomeSkipped || !strings.Contains(o.Reason, "not applicable: the watch measures the server side only") {
				t.Errorf("latency on a watch: %s (%s), want not applicable", o.Status, o.Reason)
			}
		case "built-in: no connection leaks":
			if o.Status != results.OutcomeFail || o.Check != "service.leaks == 0" {
				t.Errorf("the leak built-in: %+v, want service.leaks == 0 failed", o)
			}
		}
	}
}

// TestWatchApprovesAQuietService: two idle sessions, no leak: a completed
// watch is approved, and a load assertion is not applicable.
func TestWatchApprovesAQuietService(t *testing.T) {
	const app = "watch-quiet"
	connect(t, app, "")
	connect(t, app, "")
	p := planFor(t, localpgtest.DSN(t), app, `assertions:
  - name: latency
    check: op.p95 < 200ms
`)
	var snaps snapshots
	run, err := watch.Run(context.Background(), watch.Config{Plan: p, Interval: 100 * time.Millisecond, For: 1500 * time.Millisecond, Live: []live.Sink{&snaps}})
	if err != nil {
		t.Fatal(err)
	}
	svc := run.Scenarios[0].Service
	t.Logf("quiet watch: %d samples, backends %+v, leaks %d, elapsed %s", svc.Samples, svc.Backends, svc.Leaks, run.Scenarios[0].Elapsed)
	if run.Status != results.StatusCompleted || svc.Samples == 0 || svc.Backends.Max != 2 || svc.Leaks != 0 {
		t.Fatalf("status %s, %d samples, backends %+v, leaks %d: want completed, 2 backends, no leak", run.Status, svc.Samples, svc.Backends, svc.Leaks)
	}
	if v := verdict(t, p, run); !v.Pass {
		t.Errorf("a quiet completed watch is not approved: %+v", v)
	}
	if s, ok := snaps.latest(); !ok || s.Last == nil {
		t.Errorf("the live stream's final snapshot has no latest sample: %+v", s)
	}
}

// TestWatchWithoutService watches every client backend of the database
// when the plan names no service: a database of the test's own, with two
// sessions of different names.
func TestWatchWithoutService(t *testing.T) {
	const db = "watch_every"
	admin := connect(t, "watch-admin", "")
	exec(t, admin, "DROP DATABASE IF EXISTS "+db)
	exec(t, admin, "CREATE DATABASE "+db)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
	connect(t, "watch-a", db)
	connect(t, "watch-b", db)
	url := strings.Replace(localpgtest.DSN(t), "/"+dbName(t)+"?", "/"+db+"?", 1)
	if !strings.Contains(url, "/"+db) {
		t.Skipf("cannot point the DSN %s at database %s", url, db)
	}
	p := planFor(t, url, "", "")
	run := watchUntil(t, p, "five samples", func(s results.Service) bool { return s.Samples >= 5 }, nil)
	if svc := run.Scenarios[0].Service; svc.Backends != (results.ServiceLevel{Max: 2, Mean: 2, P95: 2}) || svc.ApplicationName != "" {
		t.Errorf("backends %+v of %q: want the database's two sessions, not the watch's own", svc.Backends, svc.ApplicationName)
	}
}

func dbName(t *testing.T) string {
	cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// TestWatchSurvivesItsMonitorKilled terminates the watch's own backend:
// the watch reconnects, counts the missed samples and marks the gap in
// its series.
func TestWatchSurvivesItsMonitorKilled(t *testing.T) {
	const app = "watch-killed"
	connect(t, app, "")
	probe := connect(t, "watch-probe", "")
	p := planFor(t, localpgtest.DSN(t), app, "")
	killed := false
	run := watchUntil(t, p, "samples after the monitor was killed", func(s results.Service) bool {
		if !killed && s.Samples >= 3 {
			var n int
			if err := probe.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
				watch.MonitorApplicationName).Scan(&n); err != nil || n != 1 {
				t.Fatalf("terminate the watch's backend: %d terminated, %v", n, err)
			}
			killed = true
			return false
		}
		return killed && s.Missed >= 1 && s.Samples >= 8
	}, nil)
	sc := run.Scenarios[0]
	svc := sc.Service
	t.Logf("after the kill: %d samples, %d missed (%s)", svc.Samples, svc.Missed, svc.MissedReason)
	if svc.Missed < 1 || svc.MissedReason == "" || svc.Backends.Max != 1 {
		t.Errorf("missed %d (%q), backends %+v: want a missed sample with its reason, and the one session", svc.Missed, svc.MissedReason, svc.Backends)
	}
	gap := 0
	for _, pt := range sc.Series {
		gap += pt.Missed
	}
	if gap != svc.Missed {
		t.Errorf("the series marks %d missed samples, the summary counts %d", gap, svc.Missed)
	}
}

// TestWatchNeedsAURL: a plan without target.url is ErrNoURL.
func TestWatchNeedsAURL(t *testing.T) {
	_, err := watch.Run(context.Background(), watch.Config{Plan: planFor(t, "", "svc", "")})
	if !errors.Is(err, watch.ErrNoURL) || err.Error() != "planrun watch needs target.url: the server to watch" {
		t.Errorf("err %v, want ErrNoURL", err)
	}
}

// TestWatchSurvivesAServerRestart restarts a server of the test's own
// mid-watch: the service's session is gone and comes back, the watch
// reconnects, counts the samples it missed while the server was down and
// marks them in its series, and goes on counting the service.
func TestWatchSurvivesAServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server of its own")
	}
	srv, err := localpg.Start(context.Background(), localpg.Options{MaxConnections: 20, StartTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("start a server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	const app = "watch-restart"
	session := func() *pgx.Conn {
		t.Helper()
		cfg, err := pgx.ParseConfig(srv.DSN())
		if err != nil {
			t.Fatal(err)
		}
		cfg.RuntimeParams["application_name"] = app
		c, err := pgx.ConnectConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	session()
	p := planFor(t, srv.DSN(), app, "")
	stage, before := 0, 0
	run := watchUntil(t, p, "samples after the restart", func(s results.Service) bool {
		switch {
		case stage == 0 && s.Samples >= 3:
			if _, err := srv.Restart(context.Background(), 0); err != nil {
				t.Fatalf("restart: %v", err)
			}
			session() // the service reconnects
			stage, before = 1, s.Samples
		case stage == 1:
			return s.Missed >= 1 && s.Samples >= before+5
		}
		return false
	}, nil)
	sc := run.Scenarios[0]
	svc := sc.Service
	t.Logf("restart: %d samples, %d missed (%s); backends %+v", svc.Samples, svc.Missed, svc.MissedReason, svc.Backends)
	if svc.Missed < 1 || svc.MissedReason == "" || svc.Backends.Max != 1 {
		t.Errorf("missed %d (%q), backends %+v: want the samples missed while the server was down, and the one session", svc.Missed, svc.MissedReason, svc.Backends)
	}
	gap, after := 0, 0
	for _, pt := range sc.Series {
		gap += pt.Missed
		if gap > 0 && pt.Missed == 0 && pt.Total == 1 {
			after++
		}
	}
	if gap != svc.Missed {
		t.Errorf("the series marks %d missed samples, the summary counts %d", gap, svc.Missed)
	}
	if after == 0 {
		t.Errorf("no step after the gap shows the service's session again: %+v", sc.Series)
	}
}

// TestWatchJudgesTheLastWindow: a watch longer than its rolling window
// records a second scenario, "last <window>", with only the latest
// samples: a session held idle in transaction early is the whole watch's
// leak and not the last window's.
func TestWatchJudgesTheLastWindow(t *testing.T) {
	const app = "watch-window"
	held := connect(t, app, "")
	connect(t, app, "")
	exec(t, held, "BEGIN")
	exec(t, held, "SELECT 'held early'")
	p := planFor(t, localpgtest.DSN(t), app, "")
	const window = 700 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan *results.Run, 1)
	var snaps snapshots
	go func() {
		run, err := watch.Run(ctx, watch.Config{Plan: p, Interval: 50 * time.Millisecond, Recent: window, Live: []live.Sink{&snaps}})
		if err != nil {
			t.Error(err)
		}
		done <- run
	}()
	waitFor(t, "the leak", func() bool { s, ok := snaps.latest(); return ok && s.Leaks == 1 })
	exec(t, held, "COMMIT") // the leak ends; the last window will not hold it
	// The window and its slice under way, and a sample's query or two.
	time.Sleep(window + window/60 + 300*time.Millisecond)
	cancel()
	run := <-done
	if len(run.Scenarios) != 2 {
		t.Fatalf("%d scenarios, want the whole watch and its last window", len(run.Scenarios))
	}
	whole, last := run.Scenarios[0].Service, run.Scenarios[1].Service
	t.Logf("whole: %d samples, leaks %d, idle in transaction max %s; %s: %d samples, leaks %d, idle max %s, backends %+v",
		whole.Samples, whole.Leaks, whole.IdleInTransaction.Max, run.Scenarios[1].Name, last.Samples, last.Leaks, last.IdleInTransaction.Max, last.Backends)
	if n := run.Scenarios[1].Name; n != "last 700ms" || !run.Scenarios[1].Watch || run.Scenarios[1].Elapsed != window {
		t.Errorf("second scenario %q (watch %v, elapsed %s): want \"last 700ms\", a watch of the window", n, run.Scenarios[1].Watch, run.Scenarios[1].Elapsed)
	}
	if whole.Leaks != 1 || last.Leaks != 0 || last.Samples == 0 || last.Samples >= whole.Samples || last.IdleInTransaction.Max != 0 {
		t.Errorf("leaks %d / %d, samples %d / %d, last idle in transaction max %s: want the leak in the whole only, the last window a part of the samples",
			whole.Leaks, last.Leaks, whole.Samples, last.Samples, last.IdleInTransaction.Max)
	}
	if want := (results.ServiceLevel{Max: 2, Mean: 2, P95: 2}); last.Backends != want {
		t.Errorf("last window's backends %+v, want %+v", last.Backends, want)
	}
	verdict(t, p, run)
	judged := map[string]results.OutcomeStatus{}
	for _, o := range run.Assertions {
		if o.Name == "built-in: no connection leaks" {
			judged[o.Scenario] = o.Status
		}
	}
	if judged["watch"] != results.OutcomeFail || judged["last 700ms"] != results.OutcomePass {
		t.Errorf("the leak built-in: %v, want failed on the watch and passed on its last window", judged)
	}
}
