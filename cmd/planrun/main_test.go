package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/planrun/planrun/engine/localpg/localpgtest"
	"github.com/planrun/planrun/results"
)

// binPath is the planrun binary built once in TestMain, for the tests that
// need a real process (signals); buildErr says why it is missing.
var (
	binPath  string
	buildErr error
)

func TestMain(m *testing.M) {
	// Every run appends to $GITHUB_STEP_SUMMARY when it is set: keep the
	// tests' runs out of a real CI job summary. Tests that check it set it
	// themselves with t.Setenv.
	os.Unsetenv("GITHUB_STEP_SUMMARY")
	os.Unsetenv("DATABASE_URL")

	dir, err := os.MkdirTemp("", "planrun-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "planrun")
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("go build: %v\n%s", err, out)
	}
	code := localpgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one planrun invocation gave.
type result struct {
	code           int
	stdout, stderr string
	wall           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %s\n--- stdout:\n%s\n--- stderr:\n%s", r.code, r.wall.Round(time.Millisecond), r.stdout, r.stderr)
}

// planrun runs the CLI in process through Main.
func planrun(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := Main(args, &stdout, &stderr)
	if code == ExitInconclusive && len(args) > 0 && args[0] != "report" {
		// The run says the machine was too busy for its figures to describe
		// the pool (a busy CI machine does this): nothing this test asserts
		// about a verdict can be judged from it.
		t.Skipf("planrun %s ended INCONCLUSIVE, the load generator fell behind on this busy machine:\n%s", strings.Join(args, " "), lastLines(stdout.String()+stderr.String(), 3))
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start)}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// plan returns the path of testdata/<name>.yaml.
func plan(name string) string { return filepath.Join("testdata", name+".yaml") }

// useDB points ${DATABASE_URL} of the test plans at the test server and returns its DSN.
func useDB(t *testing.T) string {
	t.Helper()
	dsn := localpgtest.DSN(t)
	t.Setenv("DATABASE_URL", dsn)
	return dsn
}

// closedPort returns a TCP port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// db opens a connection to the test server for checks done outside planrun.
func db(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, localpgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// tableExists reports whether a table of that name exists in the test database.
func tableExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// resetMarker makes sure the marker table that teardowns write to exists
// (it is created outside any plan) and holds no row of plan.
func resetMarker(t *testing.T, conn *pgx.Conn, planName string) {
	t.Helper()
	mustExec(t, conn, "CREATE TABLE IF NOT EXISTS planrun_cli_marker (plan text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
	mustExec(t, conn, "DELETE FROM planrun_cli_marker WHERE plan = $1", planName)
}

// markers counts the marker rows a teardown of plan left.
func markers(t *testing.T, conn *pgx.Conn, planName string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM planrun_cli_marker WHERE plan = $1", planName).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// decodeRun decodes a JSON report from stdout.
func decodeRun(t *testing.T, r result) *results.Run {
	t.Helper()
	run, err := results.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("decode the JSON report on stdout: %v\n%s", err, r)
	}
	return run
}

func totalOps(run *results.Run) int64 {
	var n int64
	for _, s := range run.Scenarios {
		n += s.Ops
	}
	return n
}

// TestExitCodes checks every documented exit code end to end, through Main.
func TestExitCodes(t *testing.T) {
	dsn := useDB(t)
	conn := db(t)
	_ = dsn

	// posLine matches one problem printed as testdata/invalid.yaml:LINE:COL: msg.
	posLine := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(plan("invalid")) + `:(\d+):(\d+): (.+)$`)

	tests := []struct {
		name string
		args []string
		// env overrides environment variables for this case.
		env    map[string]string
		before func(t *testing.T)
		want   int
		check  func(t *testing.T, r result)
	}{
		{
			name: "approved",
			args: []string{plan("approved"), "--quiet"},
			want: ExitApproved,
			check: func(t *testing.T, r result) {
				if !strings.Contains(r.stdout, "APPROVED FOR PRODUCTION") || strings.Contains(r.stdout, "NOT APPROVED") {
					t.Errorf("stdout does not show the approved verdict:\n%s", r.stdout)
				}
			},
		},
		{
			name: "critical assertion fails",
			args: []string{plan("not_approved"), "--quiet"},
			want: ExitNotApproved,
			check: func(t *testing.T, r result) {
				if !strings.Contains(r.stdout, "NOT APPROVED FOR PRODUCTION") {
					t.Errorf("stdout does not show the not-approved verdict:\n%s", r.stdout)
				}
				if !strings.Contains(r.stdout, "nothing was acquired") {
					t.Errorf("stdout does not name the failing assertion:\n%s", r.stdout)
				}
			},
		},
		{
			name: "invalid plan",
			args: []string{plan("invalid"), "--quiet"},
			want: ExitUsage,
			check: func(t *testing.T, r result) {
				found := posLine.FindAllStringSubmatch(r.stderr, -1)
				lines := map[string]string{}
				for _, m := range found {
					lines[m[1]] = m[3]
				}
				// pool.size: 0 is on line 7, mix: nosuchmix on line 14.
				if msg, ok := lines["7"]; !ok || !strings.Contains(msg, "size") {
					t.Errorf("no file:line:col error for `size: 0` at line 7 (got %q)", found)
				}
				if msg, ok := lines["14"]; !ok || !strings.Contains(msg, "nosuchmix") {
					t.Errorf("no file:line:col error for `mix: nosuchmix` at line 14 (got %q)", found)
				}
				if len(found) < 2 {
					t.Errorf("want both problems printed as file:line:col, got %d", len(found))
				}
				if r.stdout != "" {
					t.Errorf("an invalid plan printed a report on stdout:\n%s", r.stdout)
				}
			},
		},
		{
			name: "unknown flag",
			args: []string{plan("approved"), "--no-such-flag"},
			want: ExitUsage,
			check: func(t *testing.T, r result) {
				if !strings.Contains(r.stderr, "no-such-flag") {
					t.Errorf("stderr does not name the unknown flag:\n%s", r.stderr)
				}
			},
		},
		{
			name: "unwritable --out, found before the run",
			args: []string{plan("approved"), "--quiet", "--out", "/proc/planrun-cannot-write-here"},
			want: ExitUsage,
			check: func(t *testing.T, r result) {
				if !strings.Contains(r.stderr, "--out") || r.wall > 5*time.Second {
					t.Errorf("want an --out error before any load:\n%s", r)
				}
			},
		},
		{
			name: "unknown format",
			args: []string{plan("approved"), "--format", "yaml"},
			want: ExitUsage,
			check: func(t *testing.T, r result) {
				for _, want := range []string{`"yaml"`, "table", "markdown", "json", "junit"} {
					if !strings.Contains(r.stderr, want) {
						t.Errorf("stderr does not contain %q:\n%s", want, r.stderr)
					}
				}
			},
		},
		{
			name: "missing plan file",
			args: []string{plan("no_such_plan"), "--quiet"},
			want: ExitUsage,
			check: func(t *testing.T, r result) {
				if !strings.Contains(r.stderr, plan("no_such_plan")) {
					t.Errorf("stderr does not name the missing file:\n%s", r.stderr)
				}
			},
		},
		{
			name: "no plan",
			args: []string{"run"},
			want: ExitUsage,
		},
		{
			name: "unreachable target",
			args: []string{plan("approved"), "--quiet"},
			env:  map[string]string{"DATABASE_URL": fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", closedPort(t))},
			want: ExitCouldNotRun,
			check: func(t *testing.T, r result) {
				if r.wall > 20*time.Second {
					t.Errorf("an unreachable target took %s to fail", r.wall)
				}
			},
		},
		{
			name:   "setup fails and teardown runs",
			args:   []string{plan("setup_fails"), "--quiet"},
			before: func(t *testing.T) { resetMarker(t, conn, "setup_fails") },
			want:   ExitCouldNotRun,
			check: func(t *testing.T, r result) {
				if !strings.Contains(r.stderr, "setup") || !strings.Contains(r.stderr, "planrun_cli_no_such_table") {
					t.Errorf("stderr does not explain the setup failure:\n%s", r.stderr)
				}
				if tableExists(t, conn, "planrun_cli_setup_fails") {
					t.Error("table planrun_cli_setup_fails still exists: teardown did not run")
				}
				if n := markers(t, conn, "setup_fails"); n != 1 {
					t.Errorf("teardown left %d marker rows, want 1", n)
				}
			},
		},
		{
			name: "aborted by abort_on_fail",
			args: []string{plan("abort"), "--format", "json", "--quiet"},
			want: ExitAborted,
			check: func(t *testing.T, r result) {
				if r.wall > 15*time.Second {
					t.Errorf("a 30 s plan aborted at its first live check took %s", r.wall)
				}
				run := decodeRun(t, r)
				if run.Status != results.StatusAborted {
					t.Errorf("status %q, want %q", run.Status, results.StatusAborted)
				}
				if run.Verdict.Pass {
					t.Error("an aborted run has a passing verdict")
				}
				aborted := false
				for _, o := range run.Assertions {
					aborted = aborted || o.Aborted
				}
				if !aborted {
					t.Errorf("no assertion outcome is marked aborted: %+v", run.Assertions)
				}
				if !strings.Contains(r.stderr, "abort") {
					t.Errorf("stderr does not say the run was aborted:\n%s", r.stderr)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			if tt.before != nil {
				tt.before(t)
			}
			r := planrun(t, tt.args...)
			if r.code != tt.want {
				t.Fatalf("want exit %d, got %s", tt.want, r)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// runSignalled runs the built binary with args and DATABASE_URL=dsn, sends
// sig after the given delay and waits for it to end (40 s at most).
func runSignalled(t *testing.T, dsn string, sig os.Signal, after time.Duration, args ...string) result {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(after)
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	r := result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), wall: time.Since(start)}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("wait: %v\n%s", err, r)
	}
	return r
}

// TestInterrupt runs the binary on a 30 s plan and sends SIGINT after ~2 s:
// exit 4, the report written by --out says interrupted with the load measured
// until then, and teardown ran.
func TestInterrupt(t *testing.T) {
	dsn := localpgtest.DSN(t)
	conn := db(t)
	resetMarker(t, conn, "interrupt")
	out := t.TempDir()

	r := runSignalled(t, dsn, syscall.SIGINT, 2*time.Second, plan("interrupt"), "--out", out, "--format", "table")
	if r.code != ExitAborted {
		t.Fatalf("want exit %d, got %s", ExitAborted, r)
	}
	if r.wall > 15*time.Second {
		t.Errorf("interrupted after 2 s, the process took %s to end", r.wall)
	}

	jsons, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(jsons) != 1 {
		t.Fatalf("want one JSON report in --out, got %v\n%s", jsons, r)
	}
	run, err := results.ReadFile(jsons[0])
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != results.StatusInterrupted {
		t.Errorf("status %q, want %q", run.Status, results.StatusInterrupted)
	}
	if ops := totalOps(run); ops <= 0 {
		t.Errorf("ops = %d, want > 0 after ~2 s of load", ops)
	}
	if tableExists(t, conn, "planrun_cli_interrupt") || markers(t, conn, "interrupt") != 1 {
		t.Errorf("teardown did not run after SIGINT: table exists %v, %d marker rows",
			tableExists(t, conn, "planrun_cli_interrupt"), markers(t, conn, "interrupt"))
	}
	t.Logf("interrupted run: %d ops in %s, process ended %s after start", totalOps(run), run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond), r.wall.Round(time.Millisecond))
}

// TestInterruptDuringSetup sends SIGINT while setup runs (a 5 s pg_sleep):
// the run was interrupted, not broken, so the documented exit code is 4 and
// the status "interrupted"; teardown still runs.
func TestInterruptDuringSetup(t *testing.T) {
	dsn := localpgtest.DSN(t)
	conn := db(t)
	resetMarker(t, conn, "interrupt_setup")

	r := runSignalled(t, dsn, syscall.SIGINT, time.Second, plan("interrupt_setup"), "--format", "json")
	if r.wall > 4*time.Second {
		t.Errorf("SIGINT did not cancel the 5 s setup statement: the process took %s", r.wall)
	}
	if n := markers(t, conn, "interrupt_setup"); n != 1 {
		t.Errorf("teardown left %d marker rows, want 1; stderr:\n%s", n, r.stderr)
	}
	run, err := results.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("decode the JSON report: %v\n%s", err, r)
	}
	if r.code != ExitAborted || run.Status != results.StatusInterrupted {
		t.Errorf("interrupted during setup: want exit %d and status %q, got exit %d, status %q (%s)",
			ExitAborted, results.StatusInterrupted, r.code, run.Status, run.StatusReason)
	}
}
