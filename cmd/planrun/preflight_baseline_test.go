package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg"
	"github.com/planrun/planrun/results"
)

// TestCapacityPreflight: on a server with max_connections 20, a plan whose
// replicas × (size + max_overflow) = 30 fails preflight with exit code 3 and
// the numbers, before any load and before setup.
func TestCapacityPreflight(t *testing.T) {
	srv, err := localpg.Start(context.Background(), localpg.Options{MaxConnections: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	t.Setenv("DATABASE_URL", srv.DSN())
	out := t.TempDir()

	r := planrun(t, plan("capacity"), "--quiet", "--out", out)
	if r.code != ExitCouldNotRun {
		t.Fatalf("want exit 3\n%s", r)
	}
	if !strings.Contains(r.stderr, "needs 2 × (10 + 5) = 30 connections") || !strings.Contains(r.stderr, "server allows 20") {
		t.Errorf("the failure should give the numbers\n%s", r)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 1 {
		t.Fatalf("want the JSON report of the failed run, got %v", files)
	}
	run := readRun(t, files[0])
	if run.Status != results.StatusFailed || len(run.Scenarios) != 0 {
		t.Errorf("status %s with %d scenarios: no load may run", run.Status, len(run.Scenarios))
	}
	var sawCapacity bool
	for _, c := range run.Preflight {
		if c.Name == "capacity" {
			sawCapacity = c.Status == results.CheckFail
		}
	}
	if !sawCapacity {
		t.Errorf("preflight checks %+v: want capacity failed", run.Preflight)
	}

	// Nothing ran: setup would have created this table.
	conn := connect(t, srv.DSN())
	if tableExists(t, conn, "planrun_cli_capacity") {
		t.Error("setup ran although preflight failed")
	}

	// `planrun preflight` says the same, alone.
	if r := planrun(t, "preflight", plan("capacity")); r.code != ExitCouldNotRun || !strings.Contains(r.stdout+r.stderr, "30 connections") {
		t.Errorf("planrun preflight: want exit 3 with the numbers\n%s", r)
	}
}

// TestBaselineRegression: a saved run used as the baseline of a deliberately
// slower run (a longer hold) makes the regression bound fail; the same plan
// against its own saved run passes.
func TestBaselineRegression(t *testing.T) {
	useDB(t)
	out := t.TempDir()
	if r := planrun(t, plan("baseline_fast"), "--quiet", "--out", out); r.code != ExitApproved {
		t.Fatalf("baseline run: want exit 0 (assertions on baseline.* are skipped without --baseline)\n%s", r)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 1 {
		t.Fatalf("want one JSON report, got %v", files)
	}
	base := files[0]
	for _, o := range readRun(t, base).Assertions {
		if o.Builtin {
			continue // judged with or without a baseline
		}
		if o.Status != results.OutcomeSkipped || !strings.Contains(o.Reason, "--baseline") {
			t.Errorf("without --baseline %q should be skipped saying why: %+v", o.Name, o)
		}
	}

	same := planrun(t, plan("baseline_fast"), "--quiet", "--baseline", base, "--format", "json")
	if same.code != ExitApproved {
		t.Errorf("the same plan against its own baseline: want exit 0\n%s", same)
	}
	slow := planrun(t, plan("baseline_slow"), "--quiet", "--baseline", base, "--format", "json")
	if slow.code != ExitNotApproved {
		t.Fatalf("a slower run against the baseline: want exit 1\n%s", slow)
	}
	failed := map[string]bool{}
	for _, o := range decodeRun(t, slow).Assertions {
		if o.Status == results.OutcomeFail && !o.Builtin { // the utilization warning may fail too
			failed[o.Name] = true
			if !strings.Contains(o.Actual, "baseline.") {
				t.Errorf("the actual value should show the baseline figure: %q", o.Actual)
			}
		}
	}
	if !failed["op p95 within 50% of the baseline"] || !failed["throughput at least 40% of the baseline"] {
		t.Errorf("failed assertions %v: want both regression bounds", failed)
	}
}

func readRun(t *testing.T, path string) *results.Run {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeRun(t, result{stdout: string(b)})
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
