package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
)

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// process is the built binary running in the background.
type process struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	start          time.Time
	done           chan struct{}
	cancel         context.CancelFunc
}

// startPlanrun starts the built binary with args, in an environment without
// DATABASE_URL, GITHUB_STEP_SUMMARY and TMPDIR, plus env ("KEY=value").
// The process is killed after 90 s at most.
func startPlanrun(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	p := &process{t: t, cmd: exec.CommandContext(ctx, binPath, args...), done: make(chan struct{}), cancel: cancel}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "DATABASE_URL" && name != "GITHUB_STEP_SUMMARY" && name != "TMPDIR" {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// waitFor waits until stderr contains s, failing the test when the process
// ends first or a minute passes.
func (p *process) waitFor(s string) {
	p.t.Helper()
	deadline := time.After(time.Minute)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.done:
			p.t.Fatalf("planrun ended before printing %q:\n%s", s, p.result())
		case <-deadline:
			p.t.Fatalf("planrun did not print %q within a minute:\n%s", s, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (p *process) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("send %v: %v", sig, err)
	}
}

// wait waits for the process to end and returns what it gave.
func (p *process) wait() result {
	p.t.Helper()
	<-p.done
	return p.result()
}

func (p *process) result() result {
	code := -1
	if p.cmd.ProcessState != nil {
		code = p.cmd.ProcessState.ExitCode()
	}
	return result{code: code, stdout: p.stdout.String(), stderr: p.stderr.String(), wall: time.Since(p.start)}
}

// loadRuns is printed on stderr once the load has run for a second: the
// first progress line.
const loadRuns = "ops/s"

// onlyReport returns the JSON report in dir, failing unless there is exactly one.
func onlyReport(t *testing.T, dir string, r result) *results.Run {
	t.Helper()
	jsons, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(jsons) != 1 {
		t.Fatalf("want one JSON report in --out, got %v\n%s", jsons, r)
	}
	run, err := results.ReadFile(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	return run
}

var testedStops = []struct {
	name string
	sig  syscall.Signal
}{{"SIGHUP", syscall.SIGHUP}, {"SIGQUIT", syscall.SIGQUIT}, {"SIGTERM", syscall.SIGTERM}}

// TestStopSignals stops a 30 s run on the test server with SIGHUP, SIGQUIT
// and SIGTERM once its load runs: each exits 4 (never 2, Go's own exit for
// SIGQUIT), writes an interrupted report naming the signal, and runs the
// teardown, which a second connection sees (table dropped, marker row).
func TestStopSignals(t *testing.T) {
	dsn := localpgtest.DSN(t)
	conn := db(t)
	for _, s := range testedStops {
		t.Run(s.name, func(t *testing.T) {
			resetMarker(t, conn, "signal")
			out := t.TempDir()
			p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, plan("signal"), "--out", out)
			p.waitFor(loadRuns)
			if !tableExists(t, conn, "planrun_cli_signal") {
				t.Fatal("setup did not create planrun_cli_signal")
			}
			p.signal(s.sig)
			r := p.wait()
			if r.code != ExitAborted {
				t.Fatalf("want exit %d, got %s", ExitAborted, r)
			}
			run := onlyReport(t, out, r)
			if run.Status != results.StatusInterrupted || !strings.Contains(run.StatusReason, s.name) {
				t.Errorf("status %q (%s), want %q naming %s", run.Status, run.StatusReason, results.StatusInterrupted, s.name)
			}
			if totalOps(run) <= 0 {
				t.Error("the report holds no operations, though load ran for a second")
			}
			if run.TeardownError != "" {
				t.Errorf("teardown error: %s", run.TeardownError)
			}
			if tableExists(t, conn, "planrun_cli_signal") || markers(t, conn, "signal") != 1 {
				t.Errorf("teardown did not run after %s: table exists %v, %d marker rows\n%s", s.name,
					tableExists(t, conn, "planrun_cli_signal"), markers(t, conn, "signal"), r.stderr)
			}
		})
	}
}

// TestStopSignalsEmbedded stops a run on the throwaway server planrun starts
// itself with SIGHUP, SIGQUIT and SIGTERM: exit 4, a report, the teardown
// ran without error, and the server's directory (planrun-pg-* under TMPDIR)
// is removed.
func TestStopSignalsEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server per signal")
	}
	for _, s := range testedStops {
		t.Run(s.name, func(t *testing.T) {
			tmp, out := traversableTempDir(t), t.TempDir()
			p := startPlanrun(t, []string{"TMPDIR=" + tmp}, plan("signal_embedded"), "--out", out)
			p.waitFor(loadRuns)
			if dirs, _ := filepath.Glob(filepath.Join(tmp, "planrun-pg-*")); len(dirs) != 1 {
				t.Fatalf("want the embedded server's directory in TMPDIR, got %v", dirs)
			}
			p.signal(s.sig)
			r := p.wait()
			if r.code != ExitAborted {
				t.Fatalf("want exit %d, got %s", ExitAborted, r)
			}
			run := onlyReport(t, out, r)
			if run.Status != results.StatusInterrupted || !run.Target.Embedded {
				t.Errorf("status %q, embedded %v; want %q on the embedded server", run.Status, run.Target.Embedded, results.StatusInterrupted)
			}
			if run.TeardownError != "" || !strings.Contains(r.stderr, "teardown: 1 statement") {
				t.Errorf("teardown did not run cleanly (error %q):\n%s", run.TeardownError, r.stderr)
			}
			if left, _ := filepath.Glob(filepath.Join(tmp, "planrun-pg-*")); len(left) != 0 {
				t.Errorf("the embedded server's directory is left after %s: %v", s.name, left)
			}
		})
	}
}

// traversableTempDir returns a new directory every account can traverse:
// under root, the embedded server runs as another account, which cannot
// reach a t.TempDir (mode 0700) and would fall back to /tmp.
func traversableTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "planrun-cli-tmpdir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSecondSignalStopsTeardown stops the load with SIGINT, then sends
// another while the teardown's first statement sleeps 30 s: the teardown
// stops, stderr and the report list the three statements that did not run
// (each on one line), and the process exits 4 long before the sleep ends.
func TestSecondSignalStopsTeardown(t *testing.T) {
	dsn := localpgtest.DSN(t)
	conn := db(t)
	resetMarker(t, conn, "teardown_hang")
	t.Cleanup(func() { mustExec(t, conn, "DROP TABLE IF EXISTS planrun_cli_teardown_hang") })
	out := t.TempDir()

	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, plan("teardown_hang"), "--out", out)
	p.waitFor(loadRuns)
	p.signal(syscall.SIGINT)
	p.waitFor("teardown: 3 statement(s)")
	time.Sleep(300 * time.Millisecond) // let pg_sleep start
	second := time.Now()
	p.signal(syscall.SIGINT)
	r := p.wait()
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	if took := time.Since(second); took > 20*time.Second {
		t.Errorf("the process ended %s after the second signal: the 30 s teardown statement was not cancelled", took)
	}
	notRun := "teardown interrupted: these statements did not run:\n" +
		"  SELECT pg_sleep(30)\n" +
		"  DROP TABLE IF EXISTS   planrun_cli_teardown_hang\n" +
		"  INSERT INTO planrun_cli_marker (plan) VALUES ('teardown_hang')"
	if !strings.Contains(r.stderr, "planrun: "+notRun+"\n  clean up the target by hand") {
		t.Errorf("stderr does not list the statements that did not run:\n%s", r.stderr)
	}
	run := onlyReport(t, out, r)
	if run.Status != results.StatusInterrupted || !strings.Contains(run.TeardownError, notRun) {
		t.Errorf("report: status %q, teardown_error %q; want %q and the statements", run.Status, run.TeardownError, results.StatusInterrupted)
	}
	if !tableExists(t, conn, "planrun_cli_teardown_hang") || markers(t, conn, "teardown_hang") != 0 {
		t.Error("a teardown statement listed as not run did run")
	}
}

// TestThirdSignalExits stops the load with SIGINT, then sends SIGTERM and
// SIGHUP back to back during the teardown (two different signals: the same
// signal sent twice before the process reads it counts once). The third
// signal exits at once with code 4.
func TestThirdSignalExits(t *testing.T) {
	dsn := localpgtest.DSN(t)
	conn := db(t)
	resetMarker(t, conn, "teardown_hang")
	t.Cleanup(func() { mustExec(t, conn, "DROP TABLE IF EXISTS planrun_cli_teardown_hang") })
	out := t.TempDir() // writing the reports syncs files: the exit comes first

	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn}, plan("teardown_hang"), "--out", out)
	p.waitFor(loadRuns)
	p.signal(syscall.SIGINT)
	p.waitFor("teardown: 3 statement(s)")
	p.signal(syscall.SIGTERM)
	third := time.Now() // back to back: the stopped teardown ends the process on its own within milliseconds
	p.signal(syscall.SIGHUP)
	r := p.wait()
	took := time.Since(third)
	t.Logf("third signal to exit: %s", took.Round(time.Millisecond))
	// At once: the message gets lastWords; generous for a busy machine.
	if took > 3*time.Second {
		t.Errorf("the process took %s to exit after the third signal", took)
	}
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	if !strings.Contains(r.stderr, "a third time: exiting now") {
		t.Errorf("no forced exit:\n%s", r)
	}
}

// TestStopCounting sends stop signals to the test process itself and checks
// what each does: the first cancels the run with the signal as the cause,
// the second the teardown, the third calls exit with 4.
func TestStopCounting(t *testing.T) {
	var stderr lockedBuffer
	exited := make(chan int, 1)
	s := catchStops(&stderr, false, func(code int) { exited <- code })
	defer s.Release()

	self := func(sig syscall.Signal) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
	}
	within := func(what string, done <-chan struct{}) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s did not happen within 10 s; stderr:\n%s", what, stderr.String())
		}
	}

	self(syscall.SIGQUIT)
	within("the run's cancellation", s.Run.Done())
	if cause := context.Cause(s.Run); cause == nil || cause.Error() != "SIGQUIT" {
		t.Errorf("run cancelled with cause %v, want SIGQUIT", cause)
	}
	if s.Teardown.Err() != nil {
		t.Fatal("the first signal cancelled the teardown too")
	}
	self(syscall.SIGHUP)
	within("the teardown's cancellation", s.Teardown.Done())
	self(syscall.SIGINT)
	select {
	case code := <-exited:
		if code != ExitAborted {
			t.Errorf("exit(%d), want %d", code, ExitAborted)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the third signal did not exit; stderr:\n%s", stderr.String())
	}
	for _, want := range []string{"SIGQUIT: stopping", "SIGHUP again: stopping the teardown", "SIGINT a third time: exiting now"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	s.Release()
	s.Release() // a second call does nothing
}

// TestGitHubSummaryCheckedBeforeRun points GITHUB_STEP_SUMMARY into a
// missing directory: exit 2 at once, naming the variable, and nothing ran
// (no report, no teardown marker).
func TestGitHubSummaryCheckedBeforeRun(t *testing.T) {
	useDB(t)
	conn := db(t)
	resetMarker(t, conn, "interrupt")
	summary := filepath.Join(t.TempDir(), "missing", "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	r := planrun(t, plan("interrupt"), "--quiet")
	if r.code != ExitUsage {
		t.Fatalf("want exit %d, got %s", ExitUsage, r)
	}
	if !strings.Contains(r.stderr, "GITHUB_STEP_SUMMARY") || !strings.Contains(r.stderr, summary) || !strings.Contains(r.stderr, "nothing was run") {
		t.Errorf("stderr does not explain the unwritable summary:\n%s", r.stderr)
	}
	if r.stdout != "" || markers(t, conn, "interrupt") != 0 || tableExists(t, conn, "planrun_cli_interrupt") {
		t.Errorf("the plan ran (stdout %d bytes, %d marker rows)", len(r.stdout), markers(t, conn, "interrupt"))
	}
}

// TestGitHubSummaryLostDuringRun removes the summary's directory while the
// run goes on: the append fails with a warning, and the exit code is the
// verdict's (0), not 3.
func TestGitHubSummaryLostDuringRun(t *testing.T) {
	dsn := localpgtest.DSN(t)
	dir := filepath.Join(t.TempDir(), "summary")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	summary := filepath.Join(dir, "summary.md")
	p := startPlanrun(t, []string{"DATABASE_URL=" + dsn, "GITHUB_STEP_SUMMARY=" + summary}, plan("approved"))
	p.waitFor("preflight") // past the check, a second of load ahead
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	r := p.wait()
	// The verdict's code: approved, or INCONCLUSIVE when a busy machine
	// starved the load generator; never 3 for the lost summary.
	if r.code != ExitApproved && r.code != ExitInconclusive {
		t.Fatalf("want exit %d (the verdict), got %s", ExitApproved, r)
	}
	if !strings.Contains(r.stderr, "warning: GITHUB_STEP_SUMMARY") || !strings.Contains(r.stderr, summary) {
		t.Errorf("no warning about the lost summary:\n%s", r.stderr)
	}
}

// TestGitHubSummaryNotRegular points GITHUB_STEP_SUMMARY at a FIFO nobody
// reads and at a directory: run and merge refuse it before doing anything
// (exit 2 at once, naming the kind of file), instead of blocking in the
// open for good (a FIFO) or replacing the verdict's code (a directory).
func TestGitHubSummaryNotRegular(t *testing.T) {
	useDB(t)
	conn := db(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "summary.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	approved := filepath.Join("testdata", "approved.yaml")
	a := segmentReport(t, dir, approved, 1, 2, 30)
	b := segmentReport(t, dir, approved, 2, 2, 50)
	for _, c := range []struct{ name, path, kind string }{
		{"FIFO", fifo, "a named pipe (FIFO)"},
		{"directory", dir, "a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GITHUB_STEP_SUMMARY", c.path)
			resetMarker(t, conn, "interrupt")
			done := make(chan result, 1)
			go func() { done <- planrun(t, plan("interrupt"), "--quiet") }()
			var r result
			select {
			case r = <-done:
			case <-time.After(time.Minute):
				t.Fatal("planrun run did not return within a minute: blocked on the summary")
			}
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.path+" is "+c.kind+", not a regular file") || !strings.Contains(r.stderr, "nothing was run") {
				t.Errorf("run: want exit %d naming %s, got %s", ExitUsage, c.kind, r)
			}
			if markers(t, conn, "interrupt") != 0 || tableExists(t, conn, "planrun_cli_interrupt") {
				t.Errorf("run: the plan ran")
			}
			go func() { done <- planrun(t, "merge", a, b) }()
			select {
			case r = <-done:
			case <-time.After(time.Minute):
				t.Fatal("planrun merge did not return within a minute: blocked on the summary")
			}
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.kind+", not a regular file") || !strings.Contains(r.stderr, "nothing was merged") {
				t.Errorf("merge: want exit %d naming %s, got %s", ExitUsage, c.kind, r)
			}
		})
	}
}

// blockedWriter is a stderr whose writes never return.
type blockedWriter struct{}

func (blockedWriter) Write([]byte) (int, error) { select {} }

// TestStopCountingStderrBlocked: a stderr that blocks (a full pipe, a
// writer held by a stuck goroutine) delays no signal: the first two still
// cancel, and the third exits within lastWords.
func TestStopCountingStderrBlocked(t *testing.T) {
	exited := make(chan int, 1)
	s := catchStops(blockedWriter{}, false, func(code int) { exited <- code })
	defer s.Release()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		ctx := s.Run
		if sig == syscall.SIGHUP {
			ctx = s.Teardown
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not cancel while stderr blocks", sig)
		}
	}
	start := time.Now()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		t.Logf("third signal to exit with stderr blocked: %s", time.Since(start).Round(time.Millisecond))
		if code != ExitAborted {
			t.Errorf("exit(%d), want %d", code, ExitAborted)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the third signal did not exit while stderr blocks")
	}
}
