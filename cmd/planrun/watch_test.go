package main

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/alerts"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/metrics/metricstest"
	"github.com/planrun/planrun/results"
)

// serviceConn opens a connection named as testdata/watch.yaml's service.
func serviceConn(t *testing.T) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "cli-watch"
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestWatchNeedsTargetURL: a plan whose target.url is empty (an unset
// ${DATABASE_URL}) is a usage error with the hint, before any connection.
func TestWatchNeedsTargetURL(t *testing.T) {
	r := planrun(t, "watch", plan("watch"), "--for", "1s")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "planrun watch needs target.url: the server to watch") ||
		!strings.Contains(r.stderr, "set target.url in the plan (or DATABASE_URL") {
		t.Errorf("want exit 2 with the hint, got %s", r)
	}
}

// TestWatchWindowFlag: --window is at least --interval, or 0 for none.
func TestWatchWindowFlag(t *testing.T) {
	for _, args := range [][]string{{"--window", "-1s"}, {"--interval", "1s", "--window", "500ms"}} {
		r := planrun(t, append([]string{"watch", plan("watch")}, args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "--window must") {
			t.Errorf("%v: want exit 2 naming --window, got %s", args, r)
		}
	}
}

// TestWatchCompleted watches two idle sessions of the service for a
// moment, with a window shorter than the watch: exit 0 (approved), the
// table shows the service's figures for the whole watch and for its last
// window, and the load's as not applicable, and the report files are
// written.
func TestWatchCompleted(t *testing.T) {
	useDB(t)
	serviceConn(t)
	serviceConn(t)
	out := t.TempDir()
	r := planrun(t, "watch", plan("watch"), "--for", "1500ms", "--interval", "100ms", "--window", "500ms", "--out", out)
	t.Logf("%s", r)
	if r.code != ExitApproved {
		t.Fatalf("want exit 0, got %s", r)
	}
	for _, want := range []string{"Service · watch", "Service · last 500ms", "request latency", "skipped: not applicable", "planrun's pool", "a watch runs no load"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the table report lacks %q", want)
		}
	}
	run := onlyReport(t, out, r)
	if sc := run.Scenarios[0]; !sc.Watch || sc.Service == nil || sc.Service.Backends.Max != 2 || run.Status != results.StatusCompleted {
		t.Errorf("report: status %s, scenario %+v: want a completed watch of 2 backends", run.Status, sc)
	}
	if len(run.Scenarios) != 2 || run.Scenarios[1].Service.Backends.Max != 2 || run.Scenarios[1].Service.Samples >= run.Scenarios[0].Service.Samples {
		t.Errorf("report: %d scenarios: want the last 500ms beside the whole watch, with fewer samples", len(run.Scenarios))
	}
}

// TestWatchInterrupted: SIGINT ends a watch with its final report (the
// interim ones removed: one set of files in --out) and exit 4; a leak seen
// makes the verdict NOT APPROVED.
func TestWatchInterrupted(t *testing.T) {
	dsn := localpgtest.DSN(t)
	held := serviceConn(t)
	mustExec(t, held, "BEGIN")
	mustExec(t, held, "SELECT 'held by the cli test'")
	out := traversableTempDir(t)
	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, "watch", plan("watch"), "--interval", "100ms", "--report-every", "1s", "--out", out,
		"--metrics-addr", "127.0.0.1:0")
	p.waitFor("1 leak; verdict so far") // an interim report that saw the leak

	// The live metrics the watch source of planrun alerts reads.
	_, after, _ := strings.Cut(p.stderr.String(), "planrun: metrics on ")
	url, _, _ := strings.Cut(after, "\n")
	fams, err := metricstest.Scrape(url)
	if err != nil {
		t.Fatalf("scrape %q: %v", url, err)
	}
	for _, m := range []struct {
		name string
		ok   func(float64) bool
	}{
		{alerts.MetricInUse, func(v float64) bool { return v == 1 }},
		{alerts.MetricCapacity, func(v float64) bool { return v == 5 }},
		{alerts.MetricUtilization, func(v float64) bool { return v == 0.2 }},
		{alerts.MetricIdleInTxMax, func(v float64) bool { return v >= 0.3 }},
		{alerts.MetricMaxConnections, func(v float64) bool { return v > 0 }},
	} {
		if v, found := fams.Value(m.name, "scenario", "watch"); !found || !m.ok(v) {
			t.Errorf("%s{scenario=\"watch\"} = %v (found %v)", m.name, v, found)
		}
	}
	p.signal(syscall.SIGINT)
	r := p.wait()
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	run := onlyReport(t, out, r)
	if run.Status != results.StatusInterrupted || !strings.Contains(run.StatusReason, "SIGINT") || run.Verdict.Pass {
		t.Errorf("status %s (%s), verdict %+v: want interrupted by SIGINT, not approved", run.Status, run.StatusReason, run.Verdict)
	}
	if svc := run.Scenarios[0].Service; svc.Leaks != 1 || svc.LeakDetails[0].Query != "SELECT 'held by the cli test'" {
		t.Errorf("leaks %d %+v: want the held transaction", svc.Leaks, svc.LeakDetails)
	}
	mds, _ := filepath.Glob(filepath.Join(out, "*.md"))
	if len(mds) != 1 {
		t.Errorf("markdown reports %v: want the final one only", mds)
	}
}
