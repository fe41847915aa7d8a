package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/planrun/planrun/metrics/metricstest"
)

// stderrWatch collects a process's stderr and hands over the first line
// containing each of the wanted markers.
type stderrWatch struct {
	mu    sync.Mutex
	all   bytes.Buffer
	lines chan string
}

func watchStderr(r io.Reader) *stderrWatch {
	w := &stderrWatch{lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.mu.Lock()
			w.all.WriteString(sc.Text() + "\n")
			w.mu.Unlock()
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	return w
}

func (w *stderrWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// TestMetricsDuringARun runs the binary with --metrics-addr on a free port
// and scrapes the endpoint while the plan runs: each scenario's ops counter
// rises, and after the report (the endpoint lingers) the last scrape's
// counters equal the JSON report's ops and errors. A stop signal ends the
// linger.
func TestMetricsDuringARun(t *testing.T) {
	dsn := useDB(t)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, "run", plan("metrics"), "--format", "json", "--quiet",
		"--metrics-addr", "127.0.0.1:0", "--metrics-linger", "2m")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderr := watchStderr(pipe)
	next := func(marker string) string {
		for {
			select {
			case line, ok := <-stderr.lines:
				if !ok {
					t.Fatalf("stderr ended without %q:\n%s", marker, stderr)
				}
				if strings.Contains(line, marker) {
					return line
				}
			case <-ctx.Done():
				t.Fatalf("no %q on stderr:\n%s", marker, stderr)
			}
		}
	}
	line := next("planrun: metrics on http://")
	url := strings.TrimPrefix(line, "planrun: metrics on ")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/metrics") {
		t.Fatalf("metrics line %q", line)
	}

	// Scrape while it runs, until the linger line says the report is out.
	lingering := make(chan struct{})
	go func() { next("metrics stay up on " + url); close(lingering) }()
	var seen []float64 // the steady scenario's ops, at each change
	scrapes := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-lingering:
			running = false
		case <-tick.C:
			fams, err := metricstest.Scrape(url)
			if err != nil {
				continue // between scenarios the first one's figures are there; a failed GET is the machine
			}
			scrapes++
			if v, ok := fams.Value("planrun_ops_total", "scenario", "steady"); ok && (len(seen) == 0 || v != seen[len(seen)-1]) {
				if len(seen) > 0 && v < seen[len(seen)-1] {
					t.Errorf("ops went down: %v then %v", seen, v)
				}
				seen = append(seen, v)
			}
		case <-ctx.Done():
			t.Fatalf("the run did not end:\n%s", stderr)
		}
	}
	final, err := metricstest.Scrape(url)
	if err != nil {
		t.Fatalf("scrape while lingering: %v\n%s", err, stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatalf("a stop signal did not end the linger:\n%s", stderr)
	}
	if code := cmd.ProcessState.ExitCode(); code != ExitApproved && code != ExitInconclusive {
		t.Fatalf("exit %d, want 0 (or 5 on a starved machine)\n%s", code, stderr)
	}
	// Rising: at least two different non-zero values while it ran.
	var rising int
	for _, v := range seen {
		if v > 0 {
			rising++
		}
	}
	if rising < 2 {
		t.Errorf("in %d scrapes the steady scenario's ops took the values %v: want them rising during the run", scrapes, seen)
	}

	run := decodeRun(t, result{stdout: stdout.String(), stderr: stderr.String()})
	if len(run.Scenarios) != 2 {
		t.Fatalf("%d scenarios in the report", len(run.Scenarios))
	}
	for _, sc := range run.Scenarios {
		ops, _ := final.Value("planrun_ops_total", "scenario", sc.Name)
		if ops == 0 || int64(ops) != sc.Ops {
			t.Errorf("scenario %s: last scrape's planrun_ops_total %v, report's ops %d", sc.Name, ops, sc.Ops)
		}
		var errs float64
		for _, m := range final["planrun_errors_total"].GetMetric() {
			if m.GetLabel()[0].GetValue() == sc.Name {
				errs += m.GetCounter().GetValue()
			}
		}
		if int64(errs) != sc.Errors {
			t.Errorf("scenario %s: errors %v, report's %d", sc.Name, errs, sc.Errors)
		}
		for _, o := range sc.Operations {
			if v, _ := final.Value("planrun_operation_ops_total", "scenario", sc.Name, "operation", o.Name); int64(v) != o.Ops {
				t.Errorf("scenario %s operation %s: %v ops, report's %d", sc.Name, o.Name, v, o.Ops)
			}
		}
		if v, ok := final.Value("planrun_scenario_running", "scenario", sc.Name); !ok || v != 0 {
			t.Errorf("scenario %s: running %v after the run", sc.Name, v)
		}
		t.Logf("scenario %s: %d ops, %d errors, equal in the report and the last scrape", sc.Name, sc.Ops, sc.Errors)
	}
	if v, ok := final.Value("planrun_scenario_info", "scenario", "arrivals", "model", "open"); !ok || v != 1 {
		t.Errorf("no open-model info for scenario arrivals")
	}
	t.Logf("%d scrapes during the run; steady's ops seen: %v", scrapes, seen)
}

// TestMetricsFlags: a malformed address or a linger without an address is a
// usage error (2); a port already taken is exit 3 before any load.
func TestMetricsFlags(t *testing.T) {
	useDB(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no port", []string{"--metrics-addr", "localhost"}, ExitUsage, "--metrics-addr: \"localhost\" is not HOST:PORT"},
		{"bad port", []string{"--metrics-addr", ":metrics"}, ExitUsage, "the port must be a number"},
		{"linger alone", []string{"--metrics-linger", "10s"}, ExitUsage, "--metrics-linger needs --metrics-addr"},
		{"negative linger", []string{"--metrics-addr", ":0", "--metrics-linger", "-1s"}, ExitUsage, "must not be negative"},
		{"port taken", []string{"--metrics-addr", taken.Addr().String()}, ExitCouldNotRun, "cannot serve metrics on " + taken.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := planrun(t, append([]string{"run", plan("approved"), "--quiet"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Fatalf("want exit %d saying %q\n%s", tc.code, tc.msg, r)
			}
			if r.stdout != "" || strings.Contains(r.stderr, "scenario") {
				t.Errorf("something ran:\n%s", r)
			}
		})
	}
}
