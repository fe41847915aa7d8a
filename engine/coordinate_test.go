package engine_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/planrun/planrun/engine"
	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
)

// TestSegmentsCoordinate runs segments 1/2 and 2/2 of one plan at once, in
// this process, against the test server. Segment 2 starts first, so it
// waits for segment 1's setup; its scenarios are twice as long
// (--time-scale 2), so segment 1 must wait for it before the teardown. The
// setup's CREATE TABLE
// fails if it runs twice, the mix reads that table (segment 2's statements
// check and operations fail if they run before setup or after teardown),
// and the teardown drops it.
func TestSegmentsCoordinate(t *testing.T) {
	table := fmt.Sprintf("planrun_seg_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	src := strings.ReplaceAll(`
version: 1
name: segments
target: {replicas: 2}
pool: {size: 2, max_overflow: 0, timeout: 10s}
setup:
  - CREATE TABLE TBL (id int)
  - INSERT INTO TBL VALUES (1)
teardown:
  - DROP TABLE TBL
mixes:
  m:
    - {name: read, sql: SELECT count(*) FROM TBL, hold: 5ms}
scenarios:
  - {name: both, users: 3, duration: 1s}
  - {name: one-user, users: 1, duration: 1s}
`, "TBL", table)
	// Far enough ahead for both preflights on a busy machine; a segment
	// ready after it starts at once, which the test accepts too.
	startAt := time.Now().Add(5 * time.Second).Truncate(time.Millisecond)
	progs := make([]*engine.Program, 2)
	for i := range progs {
		progs[i] = compile(t, src, engine.Options{TimeScale: float64(i + 1), Segment: results.Segment{Index: i + 1, Count: 2, StartAt: startAt}})
	}
	runs := make([]*results.Run, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range progs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 0 { // segment 2 starts first
				time.Sleep(300 * time.Millisecond)
			}
			logf := func(format string, args ...any) { t.Logf("segment %d: "+format, append([]any{i + 1}, args...)...) }
			runs[i], errs[i] = engine.Run(context.Background(), progs[i], engine.RunOptions{Logf: logf})
		}()
	}
	wg.Wait()
	for i, r := range runs {
		if errs[i] != nil || r.Status != results.StatusCompleted || r.TeardownError != "" {
			t.Fatalf("segment %d: %v, status %s (%s), teardown error %q", i+1, errs[i], r.Status, r.StatusReason, r.TeardownError)
		}
		want := results.Segment{Index: i + 1, Count: 2, StartAt: startAt, Replicas: []int{i + 1}}
		if s := r.Segment; s == nil || s.Index != want.Index || s.Count != 2 || !s.StartAt.Equal(startAt) || !slices.Equal(s.Replicas, want.Replicas) {
			t.Errorf("segment %d records %+v, want %+v", i+1, r.Segment, want)
		}
		if r.Plan.SHA256 == "" || r.Plan.SHA256 != runs[0].Plan.SHA256 {
			t.Errorf("segment %d: plan sha256 %q", i+1, r.Plan.SHA256)
		}
		for _, sc := range r.Scenarios {
			t.Logf("segment %d %s: started %s, %d ops, %d errors, max users %d", i+1, sc.Name, sc.StartedAt.Format("15:04:05.000"), sc.Ops, sc.Errors, sc.MaxUsers)
			if sc.Errors != 0 || sc.Status != results.StatusCompleted {
				t.Errorf("segment %d %s: %s, %d errors %v", i+1, sc.Name, sc.Status, sc.Errors, sc.ErrorSamples)
			}
		}
	}
	if len(runs[0].Scenarios) != 2 || len(runs[1].Scenarios) != 2 {
		t.Fatalf("scenarios run: %d and %d, want 2 each", len(runs[0].Scenarios), len(runs[1].Scenarios))
	}
	// Users 3 = 1 + 2 and 1 = 0 + 1: a slice of no users runs idle, for
	// the scenario's whole length, so the next scenario stays aligned.
	for i, want := range [][2]int{{1, 0}, {2, 1}} {
		for k, sc := range runs[i].Scenarios {
			if sc.MaxUsers != want[k] || (want[k] > 0) != (sc.Ops > 0) {
				t.Errorf("segment %d %s: %d users, %d ops; want %d users", i+1, sc.Name, sc.MaxUsers, sc.Ops, want[k])
			}
		}
	}
	idle := runs[0].Scenarios[1]
	if gap := idle.StartedAt.Sub(runs[0].Scenarios[0].StartedAt); gap < time.Second {
		t.Errorf("segment 1's idle scenario started %v after the first: it did not keep its place in time", gap)
	}
	for i, r := range runs {
		if s := r.Scenarios[0].StartedAt; s.Before(startAt) {
			t.Errorf("segment %d started at %v, before --start-at %v", i+1, s, startAt)
		}
	}
	// Segment 1's teardown waited for segment 2's last scenario.
	seg2End := runs[1].Scenarios[1].StartedAt.Add(runs[1].Scenarios[1].Planned)
	if !runs[0].FinishedAt.After(seg2End) {
		t.Errorf("segment 1 finished at %v, before segment 2's load ended at %v", runs[0].FinishedAt, seg2End)
	}

	conn, err := pgx.Connect(context.Background(), localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, name := range []string{table, "planrun_segments_" + runs[0].Plan.SHA256[:12]} {
		var exists bool
		if err := conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("table %s is still there after the run", name)
			_, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
		}
	}
}

// TestSegmentOneInterruptedWhileWaiting runs segment 1/2 alone (its peer
// never starts), so that after its load it waits for segment 2 before the
// teardown. A first stop (the run's context) ends that wait: the teardown
// runs and the marker table is dropped, within seconds, not after the
// 10 minutes the wait allows. A second stop (the teardown's context)
// while the teardown runs stops it, and the error lists what did not run,
// the marker's DROP TABLE included.
func TestSegmentOneInterruptedWhileWaiting(t *testing.T) {
	conn, err := pgx.Connect(context.Background(), localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exists := func(name string) bool {
		var ok bool
		if err := conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, second := range []bool{false, true} {
		name := "first stop: the teardown runs"
		if second {
			name = "second stop: the teardown is listed"
		}
		t.Run(name, func(t *testing.T) {
			table := fmt.Sprintf("planrun_seg_wait_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
			sleep := ""
			if second {
				sleep = "  - SELECT pg_sleep(30)\n"
			}
			src := strings.ReplaceAll(`
version: 1
name: segment-wait
target: {replicas: 2}
pool: {size: 1, max_overflow: 0}
setup:
  - CREATE TABLE TBL (id int)
teardown:
`+sleep+`  - DROP TABLE TBL
mixes:
  m:
    - {name: read, sql: SELECT count(*) FROM TBL}
scenarios:
  - {name: s, users: 1, duration: 300ms, think: 5ms}
`, "TBL", table)
			prog := compile(t, src, engine.Options{Segment: results.Segment{Index: 1, Count: 2}})
			runCtx, stopRun := context.WithCancel(context.Background())
			defer stopRun()
			teardownCtx, stopTeardown := context.WithCancel(context.Background())
			defer stopTeardown()
			var mu sync.Mutex
			var stopped time.Time
			logf := func(format string, args ...any) {
				msg := fmt.Sprintf(format, args...)
				t.Log(msg)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case strings.Contains(msg, "waiting up to") && strings.Contains(msg, "for segment(s) 2"):
					stopped = time.Now()
					stopRun()
				case second && strings.HasPrefix(msg, "teardown: "):
					go func() { time.Sleep(300 * time.Millisecond); stopTeardown() }()
				}
			}
			run, err := engine.Run(runCtx, prog, engine.RunOptions{Logf: logf, Teardown: teardownCtx})
			mu.Lock()
			took := time.Since(stopped)
			mu.Unlock()
			if err != nil || stopped.IsZero() {
				t.Fatalf("run: %v; the wait for segment 2 was never logged", err)
			}
			t.Logf("stop to the end of the run: %s; teardown error %q", took.Round(time.Millisecond), run.TeardownError)
			// Seconds on a busy machine, where the wait allows 10 minutes
			// (and the slept teardown 30 s).
			if took > 15*time.Second {
				t.Errorf("the run ended %s after the stop", took)
			}
			marker := "planrun_segments_" + run.Plan.SHA256[:12]
			if !second {
				if run.TeardownError != "" || exists(table) || exists(marker) {
					t.Errorf("teardown error %q; table left %v, marker left %v", run.TeardownError, exists(table), exists(marker))
				}
				return
			}
			defer conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table+", "+marker)
			for _, want := range []string{"teardown interrupted: these statements did not run", "DROP TABLE " + table, "marker table was not dropped", "DROP TABLE IF EXISTS " + `"public"."` + marker + `"`} {
				if !strings.Contains(run.TeardownError, want) {
					t.Errorf("teardown error %q does not contain %q", run.TeardownError, want)
				}
			}
			if !exists(table) || !exists(marker) {
				t.Errorf("table left %v, marker left %v: the second stop should have skipped both", exists(table), exists(marker))
			}
		})
	}
}
