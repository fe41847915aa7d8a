package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/live"
	"github.com/planrun/planrun/results"
)

// TestTeardownStopped cancels RunOptions.Teardown while the first teardown
// statement sleeps 30 s, the run's own context untouched: the statement is
// cancelled, the next one does not run, TeardownError lists both, and a run
// whose load had completed ends interrupted.
func TestTeardownStopped(t *testing.T) {
	prog := compile(t, `
version: 1
name: teardown-stopped
pool: {size: 1, max_overflow: 0}
setup: [CREATE TABLE IF NOT EXISTS engine_teardown_stopped (id int)]
teardown:
  - SELECT pg_sleep(30)
  - |
    DROP TABLE
      engine_teardown_stopped
mixes:
  m:
    - {name: a, sql: SELECT 1}
scenarios:
  - {name: s, users: 1, duration: 200ms}
`, engine.Options{})
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), localpgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS engine_teardown_stopped")
	})

	teardown, stop := context.WithCancel(context.Background())
	defer stop()
	var once sync.Once
	stoppedAt := make(chan time.Time, 1)
	logf := func(format string, args ...any) {
		if strings.HasPrefix(format, "teardown:") {
			once.Do(func() {
				time.AfterFunc(300*time.Millisecond, func() { stoppedAt <- time.Now(); stop() })
			})
		}
	}
	r, err := engine.Run(context.Background(), prog, engine.RunOptions{Logf: logf, Teardown: teardown})
	if err != nil {
		t.Fatal(err)
	}
	var stopped time.Time
	select {
	case stopped = <-stoppedAt:
	default:
		t.Fatal("the teardown was never stopped")
	}
	if took := time.Since(stopped); took > 20*time.Second {
		t.Errorf("the run ended %s after the teardown was stopped: the 30 s statement was not cancelled", took)
	}
	want := "teardown interrupted: these statements did not run:\n  SELECT pg_sleep(30)\n  DROP TABLE   engine_teardown_stopped"
	if r.TeardownError != want {
		t.Errorf("TeardownError:\n%s\nwant:\n%s", r.TeardownError, want)
	}
	if r.Status != results.StatusInterrupted || !strings.Contains(r.StatusReason, "teardown") {
		t.Errorf("status %q (%s), want %q during teardown", r.Status, r.StatusReason, results.StatusInterrupted)
	}
	if !tableExists(t, "engine_teardown_stopped") {
		t.Error("the DROP listed as not run did run")
	}
}

// TestInterruptionCause: a run cancelled with a cause (the CLI gives the
// signal's name) says so in its status reason.
func TestInterruptionCause(t *testing.T) {
	prog := compile(t, `
version: 1
name: cause
pool: {size: 1, max_overflow: 0}
mixes:
  m:
    - {name: a, sql: SELECT 1}
scenarios:
  - {name: s, users: 1, duration: 30s}
`, engine.Options{})
	ctx, cancel := context.WithCancelCause(context.Background())
	var once sync.Once
	progress := func(s *live.Snapshot) {
		if s.Scenario.Ops > 0 {
			once.Do(func() { cancel(errors.New("SIGHUP")) })
		}
	}
	r, err := engine.Run(ctx, prog, engine.RunOptions{Live: onSecond(progress)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != results.StatusInterrupted || !strings.HasPrefix(r.StatusReason, "interrupted (SIGHUP)") {
		t.Errorf("status %q, reason %q; want interrupted (SIGHUP)", r.Status, r.StatusReason)
	}
}
