package engine_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/assertions"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/report"
	"github.com/planrun/planrun/results"
	"github.com/planrun/planrun/schema"
)

// TestLeakCheckWithoutMonitor: the monitor connection is killed during the
// load (pg_terminate_backend on the backend named
// engine.MonitorApplicationName). The server-side leak check cannot be made:
// the scenario records it, `leaks == 0` is skipped with the reason instead
// of passing, the verdict is NOT APPROVED, and the table says why.
//
// It terminates every monitor backend on the server: the engine's tests run
// one at a time, so the only one is this run's.
func TestLeakCheckWithoutMonitor(t *testing.T) {
	src := `
version: 1
name: monitor-killed
pool: {size: 2, max_overflow: 0}
mixes:
  m:
    - {name: quick, sql: SELECT 1, hold: 5ms}
scenarios:
  - {name: s, users: 4, duration: 2s}
assertions:
  - {name: no leaks, check: leaks == 0}
  - {name: operations ran, check: ops > 0}
`
	plan, err := schema.Parse(t.Name()+".yaml", []byte(src), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("plan does not load:\n%v", err)
	}
	dsn := localpgtest.DSN(t)
	plan.Target.URL = dsn
	plan.Target.ApplicationName = fmt.Sprintf("planrun-test-%d-%d", os.Getpid(), appSeq.Add(1))
	prog, err := engine.Compile(plan, engine.Options{})
	if err != nil {
		t.Fatalf("plan does not compile:\n%v", err)
	}
	set, err := assertions.Compile(plan)
	if err != nil {
		t.Fatalf("assertions do not compile:\n%v", err)
	}

	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("admin connect: %v", err)
	}
	defer admin.Close(context.Background())
	killed := make(chan int, 1)
	go func() { // once the load runs, kill the monitor
		n := 0
		for deadline := time.Now().Add(10 * time.Second); n == 0 && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			var load int
			_ = admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, plan.Target.ApplicationName).Scan(&load)
			if load == 0 {
				continue
			}
			_ = admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
				engine.MonitorApplicationName).Scan(&n)
		}
		killed <- n
	}()
	r := run(t, prog, engine.RunOptions{})
	if n := <-killed; n == 0 {
		t.Fatal("no monitor backend was terminated")
	}
	r.Assertions, r.Verdict = set.Evaluate(r, nil)

	sc := r.Scenarios[0]
	if len(sc.NotChecked) != 1 || sc.NotChecked[0].Check != results.CheckServerLeaks || sc.NotChecked[0].Reason == "" {
		t.Fatalf("not checked %+v, want the server leak check with a reason", sc.NotChecked)
	}
	t.Logf("not checked: %+v", sc.NotChecked[0])
	var leaks, ops *results.Outcome
	for i, o := range r.Assertions {
		switch o.Name {
		case "no leaks":
			leaks = &r.Assertions[i]
		case "operations ran":
			ops = &r.Assertions[i]
		}
	}
	if leaks == nil || leaks.Status != results.OutcomeSkipped || !leaks.Unmeasured || !strings.Contains(leaks.Reason, "check server_leaks was not made") {
		t.Fatalf("outcome of leaks == 0: %+v, want skipped (unmeasured) with the reason", leaks)
	}
	if ops == nil || ops.Status != results.OutcomePass {
		t.Errorf("outcome of ops > 0: %+v, want a pass", ops)
	}
	// Never approved: NOT APPROVED, or INCONCLUSIVE when a busy machine
	// also made the generator fall behind.
	if r.Verdict.Pass || (r.Verdict.Label != schema.DefaultVerdictFail && !r.Verdict.Inconclusive) {
		t.Errorf("verdict %v %q, want NOT APPROVED", r.Verdict.Pass, r.Verdict.Label)
	}

	for _, format := range []func(*strings.Builder) error{
		func(b *strings.Builder) error { return report.Table(b, r, report.Options{}) },
		func(b *strings.Builder) error { return report.Markdown(b, r) },
	} {
		var out strings.Builder
		if err := format(&out); err != nil {
			t.Fatalf("render: %v", err)
		}
		if !strings.Contains(out.String(), "skipped: leaks was not fully measured") {
			t.Errorf("report does not say the leak check was skipped and why:\n%s", out.String())
		}
	}
}
